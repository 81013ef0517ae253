"""The daily opening of renewal cycles for every agency (app/services/renewals/daily.py).

A contract created or changed during the day gets its cycle at once (its flush); this run
catches the contracts whose échéance simply came within the lead time overnight.
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


# Early morning UTC: past midnight in metropolitan France and the overseas agencies west
# of it, so each agency's own date (its time zone) is the new day's.
@huey.periodic_task(crontab(hour="5", minute="7"))
def open_renewal_cycles() -> dict[str, Any]:
    """Open the renewal cycles that came within each agency's lead time."""
    with task_app_context():
        from app.extensions import db
        from app.services.audit import Actor, acting_as
        from app.services.renewals.daily import open_everywhere

        with acting_as(Actor(None, PERIODIC_ACTOR_NAME, None)):
            run = open_everywhere(db.session)
        summary = run.summary()
        quiet = not (summary["opened"] or summary["failed"])
        log.log(
            logging.DEBUG if quiet else logging.INFO,
            "renewal cycles opened",
            extra={"renewals": summary},
        )
        if run.failed:
            log.error("opening renewal cycles failed for organisations %s", sorted(run.failed))
        return summary
