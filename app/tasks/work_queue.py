"""The daily application of the task rules for every agency (app/services/tasks/engine.py).

After the premium run (04:23) and the opening of renewal cycles (05:07): the rules read
the cycles and the notices' stages those runs have just written.
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


@huey.periodic_task(crontab(hour="5", minute="41"))
def apply_task_rules() -> dict[str, Any]:
    """Create the tasks every agency's rules call for today (idempotent)."""
    with task_app_context():
        from app.extensions import db
        from app.services.audit import Actor, acting_as
        from app.services.tasks.engine import apply_rules

        with acting_as(Actor(None, PERIODIC_ACTOR_NAME, None)):
            run = apply_rules(db.session)
        summary = run.summary()
        quiet = not (
            summary["created"] or summary["queued"] or summary["failed"] or summary["failed_rules"]
        )
        log.log(
            logging.DEBUG if quiet else logging.INFO,
            "task rules applied",
            extra={"tasks": summary},
        )
        if run.failed:
            log.error("applying task rules failed for organisations %s", sorted(run.failed))
        return summary
