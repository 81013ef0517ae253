"""A periodic heartbeat, so operators can tell that a consumer is alive."""

from __future__ import annotations

import time

from huey import crontab

from app.tasks.queue import huey

HEARTBEAT_KEY = "monassurance:worker-heartbeat"


@huey.periodic_task(crontab(minute="*"))
def record_heartbeat() -> float:
    """Store the time the consumer last ran a periodic task."""
    now = time.time()
    huey.put(HEARTBEAT_KEY, now)
    return now


@huey.task()
def ping() -> str:
    """Round trip through the queue; used by tests and `flask monassurance ping-worker`."""
    return "pong"


def last_heartbeat() -> float | None:
    """When the consumer last beat, as a Unix time; peek leaves the value for the next reader."""
    return huey.get(HEARTBEAT_KEY, peek=True)
