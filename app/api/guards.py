"""Checks every /api/ request passes before FAB's handlers run.

- Unknown API paths and methods answer JSON ``{"message": ...}`` (Flask's
  default is an HTML page, useless to a script).
- ``?q=`` is parsed once here: FAB's ``@rison`` decorator catches only
  ``ParserException``, so ``(page:1e+16)`` (ValueError) or deep nesting
  (RecursionError) answered 500. Its strings follow the rule of app/input_text.py.
- Bodies pass the body guard (app/api/json_guard.py): size, nesting, text.
- FAB exempts its API blueprints from CSRF and accepts the browser session
  (``allow_browser_login``). A state-changing call authenticated by the session
  cookie must therefore carry the CSRF token in ``X-CSRFToken``; calls with a
  ``Bearer`` token need none (a cross-site page cannot set that header).
- Flask-JWT-Extended's refusals use the same ``{"message": ...}`` body, and an
  unreadable or expired token answers 401.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import prison
from flask import Flask, Response, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.exceptions import MethodNotAllowed, NotFound
from wtforms import ValidationError as CSRFValidationError

from app.api.errors import API_PREFIX, json_error
from app.api.json_guard import body_refusal
from app.input_text import MESSAGE as UNSTORABLE_TEXT
from app.input_text import all_storable, json_strings

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADERS = ("X-CSRFToken", "X-CSRF-Token")
# Authenticates by the credentials in its body and answers tokens in its body:
# the session cookie plays no part, so there is nothing to forge.
CSRF_EXEMPT_PATHS = frozenset({"/api/v1/security/login"})
MAX_Q_LENGTH = 8_000
MAX_Q_DEPTH = 8


def parse_q(raw: str) -> Any:
    """Parse ``q`` as FAB does (rison, then JSON); raise ValueError when it cannot."""
    if len(raw) > MAX_Q_LENGTH:
        raise ValueError("too long")
    try:
        value = prison.loads(raw)
    except prison.decoder.ParserException:
        value = json.loads(urllib.parse.parse_qs(f"q={raw}").get("q", [""])[0])
    if _depth(value) > MAX_Q_DEPTH:
        raise ValueError("too deep")
    return value


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    return 0


def check_api_request() -> Response | None:
    """The before_request hook: None lets the request go on."""
    if not request.path.startswith(API_PREFIX):
        return None
    routing_error = request.routing_exception
    if isinstance(routing_error, NotFound):
        return json_error(404, _("Not found"))
    if isinstance(routing_error, MethodNotAllowed):
        allowed = ", ".join(routing_error.valid_methods or [])
        return json_error(405, _("Method not allowed"), Allow=allowed)
    # Other routing outcomes (the trailing-slash redirect) go on as Flask meant them.
    raw_q = request.args.get("q")
    if raw_q and len(raw_q) > MAX_Q_LENGTH:
        message = _("The q argument is too long: %(limit)d characters at most.", limit=MAX_Q_LENGTH)
        return json_error(400, message)
    if raw_q:
        try:
            q = parse_q(raw_q)
        except Exception:  # noqa: BLE001 (any parser failure is the client's input)
            return json_error(400, _("The q argument is not valid rison or JSON."))
        # The JSON form may spell a NUL as an escape the raw argument does not show.
        if not all_storable(json_strings(q)):
            return json_error(400, str(UNSTORABLE_TEXT))
    refused = body_refusal()
    if refused is not None:
        return json_error(*refused)
    if (
        request.method in WRITE_METHODS
        and request.path not in CSRF_EXEMPT_PATHS
        and _authenticated_by_cookie()
    ):
        token = next((request.headers[h] for h in CSRF_HEADERS if h in request.headers), None)
        try:
            validate_csrf(token)
        except (CSRFValidationError, CSRFError) as error:
            message = _("Send the CSRF token in the X-CSRFToken header: %(why)s", why=error)
            return json_error(400, message)
    return None


def _authenticated_by_cookie() -> bool:
    authorization = request.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        return False
    return bool(getattr(current_user, "is_authenticated", False))


def register_jwt_errors(jwt_manager: Any) -> None:
    """Answer token problems like every other API error: 401 and a message."""

    def refuse(message: str) -> Response:
        return json_error(401, message)

    jwt_manager.unauthorized_loader(lambda reason: refuse(_("Missing or malformed credentials.")))
    jwt_manager.invalid_token_loader(lambda reason: refuse(_("The token is not valid.")))
    jwt_manager.expired_token_loader(lambda header, data: refuse(_("The token has expired.")))
    jwt_manager.revoked_token_loader(lambda header, data: refuse(_("The token was revoked.")))
    jwt_manager.needs_fresh_token_loader(lambda header, data: refuse(_("A fresh login is needed.")))
    jwt_manager.user_lookup_error_loader(lambda header, data: refuse(_("The account is unknown.")))
    jwt_manager.token_verification_failed_loader(
        lambda header, data: refuse(_("The token is not valid."))
    )


def init_api_guards(app: Flask) -> None:
    """Install the /api/ checks; call once AppBuilder has built its security manager."""
    app.before_request(check_api_request)
    register_jwt_errors(app.appbuilder.sm.jwt_manager)
