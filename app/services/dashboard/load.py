"""Every chart of the dashboard for one scope: one aggregate query each."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.models import LineOfBusiness, PolicyStatus
from app.services.claims.loss_ratio import loss_ratio
from app.services.dashboard.activity import DailyCounts, documents_per_day, failed_jobs_per_day
from app.services.dashboard.collections import (
    MonthlyCollections,
    Unpaid,
    collections_per_month,
    unpaid_on,
)
from app.services.dashboard.commissions import Commissions, commissions_on
from app.services.dashboard.portfolio import (
    Expiring,
    InsurerCount,
    expiring_counts,
    policies_by_insurer,
    policies_by_line,
    policies_by_status,
)
from app.services.dashboard.premiums import MonthlyPremiums, premiums_per_month
from app.services.dashboard.renewals import (
    RenewalsDue,
    Retention,
    renewals_due_per_month,
    retention_per_insurer,
)
from app.services.dashboard.scope import Scope


@dataclass(frozen=True)
class DashboardData:
    scope: Scope
    by_status: dict[PolicyStatus, int]
    by_insurer: list[InsurerCount]
    by_line: dict[LineOfBusiness, int]
    premiums: MonthlyPremiums
    expiring: Expiring
    documents: DailyCounts
    failed_jobs: DailyCounts
    renewals_due: RenewalsDue
    retention: Retention
    collections: MonthlyCollections
    unpaid: Unpaid
    commissions: Commissions
    # Claims paid over premiums, per insurer and per line (app/services/claims/loss_ratio.py).
    loss_ratio: dict[str, Any]


def load_dashboard(session: Session, scope: Scope) -> DashboardData:
    """Read-only aggregates, one query each (three for the commissions); nothing is written
    or committed."""
    return DashboardData(
        scope=scope,
        by_status=policies_by_status(session, scope),
        by_insurer=policies_by_insurer(session, scope),
        by_line=policies_by_line(session, scope),
        premiums=premiums_per_month(session, scope),
        expiring=expiring_counts(session, scope),
        documents=documents_per_day(session, scope),
        failed_jobs=failed_jobs_per_day(session, scope),
        renewals_due=renewals_due_per_month(session, scope),
        retention=retention_per_insurer(session, scope),
        collections=collections_per_month(session, scope),
        unpaid=unpaid_on(session, scope),
        commissions=commissions_on(session, scope),
        # The scope's period is [start, end); the loss ratio's dates are inclusive.
        loss_ratio=loss_ratio(
            session,
            scope.organisation_id,
            scope.start,
            scope.end - dt.timedelta(days=1),
            company_id=scope.company_id,
        ),
    )
