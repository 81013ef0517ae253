"""One Huey instance per process, chosen by the environment like the app itself.

REDIS_URL set: Redis; otherwise a SQLite file of its own in the data folder
(never the application database, so queue writes do not contend with it).
HUEY_IMMEDIATE=true runs tasks inline (tests).
"""

from __future__ import annotations

from pathlib import Path

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from config import data_dir, env_bool, env_str


def build_huey() -> Huey:
    if env_bool("HUEY_IMMEDIATE", False):
        return MemoryHuey("monassurance", immediate=True)
    redis_url = env_str("REDIS_URL")
    if redis_url:
        return RedisHuey("monassurance", url=redis_url)
    path = Path(env_str("HUEY_SQLITE_PATH", str(data_dir() / "huey.db")))
    return SqliteHuey("monassurance", filename=str(path), timeout=30)


huey = build_huey()

# Imported for their side effect of registering tasks on `huey`.
from app.tasks import heartbeat  # noqa: E402,F401
