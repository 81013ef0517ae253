"""When a service the web depends on is away: Redis (rate limits), the database.

Rate limits (app/api/limits.py) count in Redis when ``REDIS_URL`` is set. When
Redis stops answering, the limiter keeps judging every limit in the memory of
each process (flask-limiter's ``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``) and asks
Redis again after 1, 2, 4 ... 32 s; when it answers, shared counting resumes.
Refusing requests instead would let an outage of a counter store take the
whole product down; in memory, a limit is still judged, only per process (with
N workers a caller may get up to N times its budget until Redis is back). The
switch is logged once each way and counted at /metrics
(``rate_limit_storage_lost_total``, ``rate_limit_in_memory``).

The database: an OperationalError, InterfaceError (a connection lost or refused,
a server shutting down, a lock timeout) or a pool timeout answers 503 with
``Retry-After`` on every door: ``{"message": ...}`` on the API and to clients
that ask for JSON, a small page on screens (rendered without the database, so
the page itself cannot fail). FAB's ``@safe`` turns any exception into a 500
"Fatal error" (its login among others): the outage is raised again from there,
so it reaches the same handler. Logged at most once a minute with the number of
requests refused; counted in ``service_unavailable_responses_total``.

Every other 503 (a file store that does not answer, signing keys that cannot be
used) also gets ``Retry-After``.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, has_app_context, jsonify, request
from flask_appbuilder.api import BaseApi
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter import Limiter
from sqlalchemy import exc as sa_exc

from app import metrics
from app.ops.rate_window import one_call_strategy

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
RETRY_AFTER_SECONDS = 10
# What the web answers with 503: the database is unreachable or overloaded, not a bug
# of the request (SQLite's "database is locked" is an OperationalError too).
DATABASE_DOWN = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)
LOG_EVERY_SECONDS = 60.0
# user:password@ in a URL quoted by an error: never into the logs
_CREDENTIALS = re.compile(r"(://[^:/@\s]*):[^@/\s]*@")


def redact(text: str) -> str:
    return _CREDENTIALS.sub(r"\1:***@", text)


def describe(error: BaseException) -> str:
    """The driver's error class and first line, without SQL, parameters or passwords."""
    original = getattr(error, "orig", None) or error
    first_line = (str(original).strip().splitlines() or [""])[0][:200]
    return redact(f"{type(original).__name__}: {first_line}")


def is_disconnect(error: BaseException) -> bool:
    """True when SQLAlchemy found the connection dead (it is discarded, with the pool's others)."""
    return isinstance(error, sa_exc.DBAPIError) and bool(error.connection_invalidated)


# --- rate limits --------------------------------------------------------------------


class FallbackLimiter(Limiter):
    """flask-limiter's Limiter, saying when it falls back to memory and when it comes back.

    flask-limiter flips ``_storage_dead`` in several places (checking a limit,
    writing the headers, its recovery check); a property sees every flip.
    """

    @property  # type: ignore[override]
    def _storage_dead(self) -> bool:
        return bool(self.__dict__.get("_outage_storage_dead", False))

    @_storage_dead.setter
    def _storage_dead(self, dead: bool) -> None:
        was_dead = self._storage_dead
        self.__dict__["_outage_storage_dead"] = dead
        if dead and not was_dead:
            # Set while flask-limiter handles the storage's error: that is the reason.
            _storage_lost(sys.exc_info()[1])
        elif was_dead and not dead:
            _storage_back()

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        # Count and read the window in one Redis call (app/ops/rate_window.py).
        self._limiter = one_call_strategy(self._limiter, self._storage)


def _storage_name() -> str:
    uri = current_app.config.get("RATELIMIT_STORAGE_URI") if has_app_context() else None
    return redact(str(uri or "the rate-limit storage"))


def _storage_lost(error: BaseException | None) -> None:
    metrics.RATE_LIMIT_STORAGE_LOST.inc()
    metrics.RATE_LIMIT_IN_MEMORY.set(1)
    log.warning(
        "rate limits: %s does not answer (%s); limits are judged in this process's memory "
        "until it answers again",
        _storage_name(),
        describe(error) if error is not None else "no answer",
    )


def _storage_back() -> None:
    metrics.RATE_LIMIT_IN_MEMORY.set(0)
    log.warning("rate limits: %s answers again; limits are shared again", _storage_name())


def rate_limit_storage_options(storage_uri: str) -> dict[str, Any]:
    """Short socket timeouts for a Redis storage: a Redis that hangs costs a second, not minutes."""
    if storage_uri.split(":", 1)[0] in ("redis", "rediss", "redis+unix"):
        return {"socket_connect_timeout": 1, "socket_timeout": 1}
    return {}


# --- the database -------------------------------------------------------------------


class _OutageLog:
    """One log line per dependency and minute while it is away, with the refusals counted."""

    def __init__(self, every_seconds: float) -> None:
        self.every_seconds = every_seconds
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._refused: dict[str, int] = {}

    def refused(self, dependency: str, error: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            count = self._refused.get(dependency, 0) + 1
            last = self._last.get(dependency)
            if last is not None and now - last < self.every_seconds:
                self._refused[dependency] = count
                return
            self._last[dependency] = now
            self._refused[dependency] = 0
        log.warning(
            "%s unavailable (%s): answering 503 with Retry-After "
            "(%d request(s) refused since the last report)",
            dependency,
            describe(error),
            count,
        )


outage_log = _OutageLog(LOG_EVERY_SECONDS)


def database_unavailable(error: Exception) -> Response:
    """The error handler for DATABASE_DOWN: 503 with Retry-After, JSON or a page."""
    metrics.SERVICE_UNAVAILABLE.labels("database").inc()
    outage_log.refused("database", error)
    return unavailable(_("The database is unavailable, try again later."))


def unavailable(message: str) -> Response:
    """503 with Retry-After: JSON on the API and to JSON clients, else a small page."""
    if _wants_json():
        response = jsonify(message=message)
        response.status_code = 503
    else:
        # Straight from the template, without the context processors: Flask-Login's
        # would load the user from the database that is away.
        page = current_app.jinja_env.get_template("errors/unavailable.html").render(
            message=message, lang=str(get_locale() or "fr"), app_name=current_app.config["APP_NAME"]
        )
        response = Response(page, status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _wants_json() -> bool:
    if request.path.startswith(API_PREFIX):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best != "text/html"


def retry_after_on_503(response: Response) -> Response:
    """Every 503 says when to come back (a store or keys away answer 503 from their doors).

    Registered before the limiter's hook, so it runs after it: flask-limiter puts
    its window's reset in Retry-After on every response, which is not when a lost
    service may be back.
    """
    if response.status_code == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class _DropOutageTracebacks(logging.Filter):
    """FAB's @safe logs a traceback per request; an outage is logged once a minute instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, DATABASE_DOWN)


def _raise_outages_through_safe() -> None:
    """Let a database outage out of FAB's @safe, which would answer 500 "Fatal error".

    @safe calls ``response_500`` from inside its ``except Exception`` block, so
    the error being handled is the one to raise again.
    """
    original: Callable[..., Response] = BaseApi.response_500
    if getattr(original, "_outages", False):
        return

    def response_500(self: BaseApi, message: str | None = None) -> Response:
        error = sys.exc_info()[1]
        if isinstance(error, DATABASE_DOWN):
            raise error
        return original(self, message)

    response_500._outages = True  # type: ignore[attr-defined]
    BaseApi.response_500 = response_500  # type: ignore[method-assign]
    fab_api_log = logging.getLogger("flask_appbuilder.api")
    if not any(isinstance(f, _DropOutageTracebacks) for f in fab_api_log.filters):
        fab_api_log.addFilter(_DropOutageTracebacks())


def init_outages(app: Flask) -> None:
    """Answer 503 with Retry-After while the database is away, on every door.

    Call before AppBuilder is initialised (see ``retry_after_on_503``).
    """
    for error_class in DATABASE_DOWN:
        app.register_error_handler(error_class, database_unavailable)
    app.after_request(retry_after_on_503)
    _raise_outages_through_safe()
