"""The daily purge: applies retention across every organisation (app/services/purge).

Retention is policy, so the periodic run deletes (it does not only list). Operators who
purge by hand (`flask purge`) or not at all set PURGE_PERIODIC=false.
"""

from __future__ import annotations

import logging
from typing import Any

from huey import crontab

from app.tasks.context import task_app_context
from app.tasks.queue import huey

log = logging.getLogger(__name__)

# The audit trail's actor for runs nobody started by hand.
PERIODIC_ACTOR_NAME = "periodic"


# At night (UTC), when few documents are being made.
@huey.periodic_task(crontab(hour="3", minute="17"))
def purge_files() -> dict[str, Any] | None:
    """Apply the purge to every organisation, unless PURGE_PERIODIC is false."""
    with task_app_context() as app:
        if not app.config["PURGE_PERIODIC"]:
            log.debug("periodic purge skipped: PURGE_PERIODIC is false")
            return None
        from app.extensions import db
        from app.services.audit import Actor
        from app.services.purge import PurgeScope, run_purge

        run = run_purge(
            db.session,
            scope=PurgeScope(None),
            trigger="periodic",
            apply=True,
            actor=Actor(None, PERIODIC_ACTOR_NAME, None),
        )
        summary = {
            "run_id": run.id,
            "files": run.files_count,
            "bytes": run.bytes_total,
            "documents": run.documents_count,
            "jobs": run.jobs_count,
        }
        # A night with nothing past its time is not news (LOG_LEVEL=DEBUG shows it).
        removed = any(summary[key] for key in ("files", "documents", "jobs"))
        log.log(
            logging.INFO if removed else logging.DEBUG,
            "periodic purge applied",
            extra={"purge": summary},
        )
        return summary
