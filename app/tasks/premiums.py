"""The daily premium run: notices issued, unpaid stages moved, for every agency.

Early morning (UTC), so staff find the day's notices and work lists ready when they
start; each agency runs in its own transaction (app/services/premiums/daily.py).
"""

from __future__ import annotations

import logging
from typing import Any

from huey import crontab

from app.tasks.context import task_app_context
from app.tasks.queue import huey

log = logging.getLogger(__name__)

# The audit trail's actor for runs nobody started by hand (as the purge's).
PERIODIC_ACTOR_NAME = "periodic"


@huey.periodic_task(crontab(hour="4", minute="23"))
def run_premiums_daily() -> dict[str, Any]:
    """Issue the notices falling due and move the L113-3 stages of every agency."""
    with task_app_context():
        from app.extensions import db
        from app.services.audit import Actor, acting_as
        from app.services.premiums.daily import run_daily

        with acting_as(Actor(None, PERIODIC_ACTOR_NAME, None)):
            run = run_daily(db.session)
        summary = run.summary()
        quiet = not (summary["issued"] or summary["moved"] or summary["failed"])
        log.log(
            logging.DEBUG if quiet else logging.INFO,
            "daily premium run",
            extra={"premiums": summary},
        )
        if run.failed:
            log.error("daily premium run failed for organisations %s", sorted(run.failed))
        return summary
