"""A periodic heartbeat and a ping, so operators can tell that a consumer is alive."""

from __future__ import annotations

import os
import time
from typing import Any

from huey import crontab
from sqlalchemy import text

from app.tasks.context import task_app_context
from app.tasks.queue import huey

HEARTBEAT_KEY = "monassurance:worker-heartbeat"


@huey.periodic_task(crontab(minute="*"))
def record_heartbeat() -> float:
    """Store the time the consumer last ran a periodic task."""
    now = time.time()
    huey.put(HEARTBEAT_KEY, now)
    return now


# A ping nobody waits for any more is dropped rather than run by a later consumer.
@huey.task(expires=60)
def ping() -> dict[str, Any]:
    """Round trip through the queue, and a query from the worker's side.

    A worker that answers but cannot reach the database is the usual
    misconfiguration (DATABASE_URL set for the web server only), so the
    answer says whether the worker's own database connection works.
    """
    database = False
    with task_app_context():
        from app.extensions import db

        try:
            database = db.session.execute(text("SELECT 1")).scalar() == 1
        except Exception:  # any driver error means "unreachable" to a probe
            db.session.rollback()
    return {"pong": True, "pid": os.getpid(), "database": database}


def last_heartbeat() -> float | None:
    """When the consumer last beat, as a Unix time; peek leaves the value for the next reader."""
    return huey.get(HEARTBEAT_KEY, peek=True)
