"""Purge and retention: orphan files, documents past retention, old failures.

``run_purge`` is the one use case (CLI, periodic task, ADMIN screen); ``plan_purge``
previews it. Modules: items (what a run finds), retention (the rules), orphans (stored
files with no row, and why deleting them is safe during generation), attachment_files
(attachment files with no row, past a grace period, and why that is safe during
uploads), records (rows that go), runs (the use case and the runs a user may see).
"""

from app.services.purge.items import CATEGORIES, PurgeItem, PurgePlan, PurgeScope
from app.services.purge.retention import RetentionRules
from app.services.purge.runs import (
    PurgeError,
    actor_for,
    organisation_scope,
    plan_purge,
    run_purge,
    runs_query,
    scope_for,
    visible_run,
)

__all__ = [
    "CATEGORIES",
    "PurgeError",
    "PurgeItem",
    "PurgePlan",
    "PurgeScope",
    "RetentionRules",
    "actor_for",
    "organisation_scope",
    "plan_purge",
    "run_purge",
    "runs_query",
    "scope_for",
    "visible_run",
]
