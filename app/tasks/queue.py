"""One Huey instance per process, chosen by the environment like the app itself.

REDIS_URL set: Redis; otherwise a SQLite file of its own in the data folder
(never the application database, so queue writes do not contend with it).
HUEY_IMMEDIATE=true runs tasks inline (tests). HUEY_NAME separates several
deployments (or test runs) sharing one Redis database.
"""

from __future__ import annotations

from pathlib import Path

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from app.ops.logs import quiet_routine_logs
from config import data_dir, env_bool, env_str

DEFAULT_NAME = "monassurance"


def build_huey() -> Huey:
    name = env_str("HUEY_NAME", DEFAULT_NAME) or DEFAULT_NAME
    if env_bool("HUEY_IMMEDIATE", False):
        return MemoryHuey(name, immediate=True)
    redis_url = env_str("REDIS_URL")
    if redis_url:
        return RedisHuey(name, url=redis_url)
    path = Path(env_str("HUEY_SQLITE_PATH", str(data_dir() / "huey.db")))
    return SqliteHuey(name, filename=str(path), timeout=30)


huey = build_huey()
# Before any consumer starts (huey_consumer imports this module first): its start-up
# details and the runs of periodic tasks are logged at DEBUG (app/ops/logs.py).
quiet_routine_logs()

# Imported for their side effect of registering tasks and hooks on `huey`.
from app.tasks import (  # noqa: E402,F401
    context,
    documents,
    heartbeat,
    mail,
    premiums,
    purge,
    renewals,
    reports,
    work_queue,
)
