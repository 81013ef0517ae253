"""The fixed-window rate limit, counting and reading its window in one Redis call.

flask-limiter counts a request with one Redis call (``INCRBY``, and ``EXPIRE`` on
the window's first hit), then fills the ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` headers with two more (``GET`` and ``TTL`` of the same key):
half of the limiter's cost per API request (docs/benchmarks.md, issue 19). Here the
counting script also answers the key's time to live, and the count and the time
to live the hit saw are kept for the rest of the request; the headers are written
from them. Every request is still counted in Redis, once, and refused on the same
rule (count after the hit above the limit); the headers say what they said, read
at the moment of the hit instead of a few microseconds later.

Only a Redis storage takes this path; the in-memory storage (tests, a process
without Redis, and flask-limiter's fallback while Redis is away) keeps the
library's own code, where reading the window costs no round trip.
"""

from __future__ import annotations

import time
from typing import Any

from flask import has_request_context, request
from limits import RateLimitItem
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter
from limits.util import WindowStats

# limits' own incr_expire.lua, also answering the key's time to live.
INCR_EXPIRE_TTL = """
local amount = tonumber(ARGV[2])
local current = redis.call("incrby", KEYS[1], amount)
if tonumber(current) == amount then
    redis.call("expire", KEYS[1], ARGV[1])
end
return {current, redis.call("ttl", KEYS[1])}
"""

_SEEN = "monassurance.rate_windows"  # request.environ: key -> (count, reset epoch)


class OneCallFixedWindow(FixedWindowRateLimiter):
    """FixedWindowRateLimiter whose window stats come from the request's own hit."""

    def __init__(self, storage: RedisStorage) -> None:
        super().__init__(storage)
        self._script = storage.get_connection().register_script(INCR_EXPIRE_TTL)

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        key = item.key_for(*identifiers)
        storage: RedisStorage = self.storage  # type: ignore[assignment]
        count, ttl = self._script([storage.prefixed_key(key)], [item.get_expiry(), cost])
        count = int(count)
        if has_request_context():
            seen = request.environ.setdefault(_SEEN, {})
            seen[key] = (count, max(int(ttl), 0) + time.time())
        return count <= item.amount

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        key = item.key_for(*identifiers)
        seen = request.environ.get(_SEEN, {}) if has_request_context() else {}
        if key not in seen:
            return super().get_window_stats(item, *identifiers)  # not hit in this request
        count, reset = seen[key]
        return WindowStats(reset, max(0, item.amount - count))


def one_call_strategy(strategy: Any, storage: Any) -> Any:
    """The strategy to use instead of ``strategy`` on ``storage`` (itself when no gain)."""
    if type(strategy) is FixedWindowRateLimiter and isinstance(storage, RedisStorage):
        return OneCallFixedWindow(storage)
    return strategy
