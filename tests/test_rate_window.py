"""The API's rate limit counts every request in one Redis call (app/ops/rate_window.py).

flask-limiter counted a request with one call, then read the window twice more
(GET and TTL) only to write the X-RateLimit-* headers. The counting script now
answers the time to live too: still one count per request, the same refusal rule,
the same headers, one Redis call.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from app.extensions import limiter
from app.ops.rate_window import OneCallFixedWindow, one_call_strategy
from tests.conftest import TEST_REDIS_URL

needs_redis = pytest.mark.skipif(not TEST_REDIS_URL, reason="the PostgreSQL + Redis leg")


def test_memory_storage_keeps_the_librarys_strategy():
    strategy = FixedWindowRateLimiter(MemoryStorage())
    assert one_call_strategy(strategy, strategy.storage) is strategy


@needs_redis
def test_the_api_limit_counts_in_redis_with_one_call(app: Flask, http, make_user, auth_headers):
    assert isinstance(limiter._limiter, OneCallFixedWindow)
    headers = auth_headers(make_user("USER"))
    redis = limiter._storage.get_connection()
    sent: list[Any] = []
    original = redis.execute_command

    def counted(*args: Any, **kwargs: Any) -> Any:
        sent.append(args[0])
        return original(*args, **kwargs)

    redis.execute_command = counted
    try:
        first = http.get("/api/v1/policy/", headers=headers)
        calls_first = list(sent)
        second = http.get("/api/v1/policy/", headers=headers)
    finally:
        del redis.execute_command
    assert first.status_code == second.status_code == 200
    # One script call per request (EVALSHA, or EVAL the first time the script is loaded).
    assert len(calls_first) == 1 and calls_first[0] in ("EVALSHA", "EVAL", "SCRIPT LOAD")
    assert len(sent) == 2
    remaining = [int(r.headers["X-RateLimit-Remaining"]) for r in (first, second)]
    assert remaining[0] - remaining[1] == 1  # each request counted once
    assert first.headers["X-RateLimit-Limit"] == second.headers["X-RateLimit-Limit"]
    assert int(second.headers["X-RateLimit-Reset"]) >= int(first.headers["X-RateLimit-Reset"])
    assert "Retry-After" not in second.headers


@needs_redis
def test_the_window_is_refused_past_its_limit_and_read_from_the_hit(app: Flask):
    strategy = limiter._limiter
    assert isinstance(strategy, OneCallFixedWindow)
    item = parse("3/minute")
    key = ("test-rate-window", "api")
    strategy.storage.clear(item.key_for(*key))
    with app.test_request_context("/api/v1/policy/"):
        assert [strategy.hit(item, *key) for _ in range(4)] == [True, True, True, False]
        remembered = strategy.get_window_stats(item, *key)
    # Outside the request: the library's own reading of the same key (GET and TTL).
    stored = strategy.get_window_stats(item, *key)
    assert remembered.remaining == stored.remaining == 0
    assert abs(remembered.reset_time - stored.reset_time) <= 2
    strategy.storage.clear(item.key_for(*key))
