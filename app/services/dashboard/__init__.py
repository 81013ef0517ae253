"""The manager dashboard: one SQL aggregate per chart, in the organisation's scope.

``load_dashboard`` runs every aggregate for a resolved ``Scope``; the screen
(app/views/dashboard.py) parses its filters with ``resolve_filters`` first.
"""

from __future__ import annotations

from app.services.dashboard.activity import documents_per_day, failed_jobs_per_day
from app.services.dashboard.filters import DashboardFilters, resolve_filters
from app.services.dashboard.load import DashboardData, load_dashboard
from app.services.dashboard.portfolio import (
    EXPIRY_HORIZONS,
    expiring_counts,
    policies_by_insurer,
    policies_by_line,
    policies_by_status,
)
from app.services.dashboard.premiums import premiums_per_month
from app.services.dashboard.renewals import renewals_due_per_month, retention_per_insurer
from app.services.dashboard.scope import Scope

__all__ = [
    "EXPIRY_HORIZONS",
    "DashboardData",
    "DashboardFilters",
    "Scope",
    "documents_per_day",
    "expiring_counts",
    "failed_jobs_per_day",
    "load_dashboard",
    "policies_by_insurer",
    "policies_by_line",
    "policies_by_status",
    "premiums_per_month",
    "renewals_due_per_month",
    "resolve_filters",
    "retention_per_insurer",
]
