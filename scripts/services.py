"""Service checks for scripts/test.sh (PostgreSQL and Redis for the second leg).

    python scripts/services.py pg-ready URL        exit 0 when PostgreSQL answers SELECT 1
    python scripts/services.py redis-ready URL     exit 0 when Redis answers PING
    python scripts/services.py redis-claim URL     print URL with a Redis database of its own
    python scripts/services.py redis-release URL   empty and free a database claimed above

Two test runs on one machine must not share a Redis database: a claim takes a lock
key in an empty database (SET NX with an expiry, so a killed run frees it in time).
"""

from __future__ import annotations

import os
import random
import sys
from urllib.parse import urlsplit, urlunsplit

LOCK_KEY = "monassurance:test-run"
LOCK_SECONDS = 3 * 3600
TIMEOUT = 3


def pg_ready(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url.replace("+psycopg", ""), connect_timeout=TIMEOUT) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error as error:
        print(f"PostgreSQL: {error}".strip(), file=sys.stderr)
        return False


def _redis(url: str):  # noqa: ANN202 (redis is imported lazily)
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)


def redis_ready(url: str) -> bool:
    import redis

    try:
        return bool(_redis(url).ping())
    except redis.RedisError as error:
        print(f"Redis: {error}", file=sys.stderr)
        return False


def _with_db(url: str, number: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{number}"))


def _token() -> str:
    """Who holds a claim: test.sh sets one value for its whole run."""
    return os.environ.get("MONASSURANCE_TEST_RUN") or f"{os.uname().nodename}:{os.getppid()}"


def redis_claim(url: str) -> str | None:
    """A URL on an empty database 1-15 that this run now holds."""
    candidates = list(range(1, 16))
    random.shuffle(candidates)
    for number in candidates:
        candidate = _with_db(url, number)
        client = _redis(candidate)
        if client.dbsize() != 0:
            continue
        if not client.set(LOCK_KEY, _token(), nx=True, ex=LOCK_SECONDS):
            continue
        if client.dbsize() == 1:
            return candidate
        client.delete(LOCK_KEY)  # someone else wrote here meanwhile: leave it to them
    return None


def redis_release(url: str) -> None:
    """Empty the database only if this run's lock is still on it."""
    client = _redis(url)
    holder = client.get(LOCK_KEY)
    if holder is not None and holder.decode() == _token():
        client.flushdb()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    command, url = argv
    if command == "pg-ready":
        return 0 if pg_ready(url) else 1
    if command == "redis-ready":
        return 0 if redis_ready(url) else 1
    if command == "redis-claim":
        claimed = redis_claim(url)
        if claimed is None:
            print("Redis: no empty database among 1-15 to claim", file=sys.stderr)
            return 1
        print(claimed)
        return 0
    if command == "redis-release":
        redis_release(url)
        return 0
    print(f"unknown command {command!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
