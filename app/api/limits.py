"""Rate limits (flask-limiter, the one ``app.extensions.limiter``).

- API login: per client IP (``RATELIMIT_LOGIN_IP``) and per account name
  (``RATELIMIT_LOGIN_ACCOUNT``; only failed attempts count, so a script that
  logs in correctly is never locked out by its own successes).
- Refresh: per IP (``RATELIMIT_REFRESH``).
- The HTML login form: FAB's ``AUTH_RATE_LIMITED`` / ``AUTH_RATE_LIMIT`` (per IP).
- Every API route: one shared budget per caller (``RATELIMIT_API``): the user
  of a valid token, the API key, the session's user, else the IP.

Counters live in Redis when ``REDIS_URL`` (or ``RATELIMIT_STORAGE_URI``) is set,
so every worker shares them; in memory otherwise. An API request over a limit
gets 429, a ``Retry-After`` header and ``{"message": ...}``.

The limit values are functions reading the app's config: one decorated route
serves every app built in a process (tests build several), each with its own
settings. Module-level functions also compare equal, so building another app
does not register the same limit twice.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask, Response, current_app, request, session
from flask_appbuilder import AppBuilder
from flask_appbuilder.api import BaseApi
from flask_babel import gettext as _
from flask_jwt_extended import decode_token
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import TooManyRequests

from app.api.guards import API_PREFIX, json_error
from app.extensions import limiter
from app.services import api_keys

API_SCOPE = "api"


def login_ip_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_IP"]


def login_account_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_ACCOUNT"]


def refresh_limit() -> str:
    return current_app.config["RATELIMIT_REFRESH"]


def api_limit() -> str:
    return current_app.config["RATELIMIT_API"]


def ip_key() -> str:
    return f"ip:{get_remote_address()}"


def login_account_key() -> str:
    """The account name tried, case-folded (unknown and existing names count alike)."""
    body = request.get_json(silent=True)
    username = body.get("username") if isinstance(body, dict) else None
    if not isinstance(username, str):
        return ip_key()
    digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    return f"account:{digest}"


def failed_login(response: Response) -> bool:
    return response.status_code == 401


def caller_key() -> str:
    """Who spends the API budget: a token's user, a key, a session's user, else the IP."""
    key = api_keys.extract_from_request()
    if key:
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:32]
    authorization = request.headers.get("Authorization", "")
    if authorization[:7].lower() == "bearer ":
        try:
            return f"user:{decode_token(authorization[7:].strip(), allow_expired=True)['sub']}"
        except Exception:  # noqa: BLE001 (any unreadable token is just not a user)
            return ip_key()
    user_id = session.get("_user_id")
    return f"user:{user_id}" if user_id else ip_key()


def too_many_requests(error: TooManyRequests) -> Any:
    """429 for the API as JSON; other pages keep Flask's page. flask-limiter adds Retry-After."""
    if not request.path.startswith(API_PREFIX):
        return error
    return json_error(
        429, _("Too many requests: try again later (%(limit)s).", limit=error.description)
    )


def retry_after_only_when_refused(response: Response) -> Response:
    """Retry-After on 429 and 503 answers only.

    With RATELIMIT_HEADERS_ENABLED flask-limiter sets Retry-After (its window's
    reset) on every response of a limited route, a download or a 200 included,
    where it reads as "come back later". The X-RateLimit-* headers stay: they are
    what tells a client its budget. Registered before the limiter's own hook
    (create_app), so it runs after it.
    """
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    return response


def init_rate_limits(app: Flask, appbuilder: AppBuilder) -> None:
    """The 429 answer and the shared API budget; call once every API is registered."""
    app.register_error_handler(429, too_many_requests)
    budget = limiter.shared_limit(api_limit, scope=API_SCOPE, key_func=caller_key)
    for view in appbuilder.baseviews:
        if isinstance(view, BaseApi) and view.blueprint is not None:
            budget(view.blueprint)
