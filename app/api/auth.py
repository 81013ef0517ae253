"""/api/v1/auth/: a user's own sessions and API keys; an ADMIN ends their users' sessions.

- ``GET /sessions``: the caller's live sessions (one per login).
- ``DELETE /sessions/<id>``: end one of them.
- ``POST /logout``: end the session of the access token used; ``POST /logout-all``: all.
- ``DELETE /users/<user_id>/sessions``: an ADMIN ends every session of a user of
  their organisation (a SUPERADMIN, of anyone).
- ``GET|POST /api-keys``, ``DELETE /api-keys/<id>``: the caller's API keys.

Every role holds ``Auth.can_read`` and ``Auth.can_write`` (own sessions and keys);
``Auth.can_manage_users`` is ADMIN's. Each change is audited in its transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, request
from flask_appbuilder.api import BaseApi, expose, protect
from flask_appbuilder.security.sqla.models import ApiKey
from flask_babel import gettext as _
from flask_jwt_extended import get_jwt
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import parse_pk
from app.api.doors import safe
from app.models import AppUser
from app.models.auth import AuthSession
from app.services import api_keys, audit, tokens
from app.services.scope import current_user
from app.services.users import may_see

MAX_ID = 2**31 - 1


def _utc(value: dt.datetime | None) -> str | None:
    return value.replace(tzinfo=dt.UTC).isoformat() if value is not None else None


def current_session_id() -> int | None:
    """The session of the access token that authenticates this request, if one does."""
    if api_keys.request_key_in_use():
        return None
    if request.headers.get("Authorization", "")[:7].lower() != "bearer ":
        return None
    try:
        claim = get_jwt().get(tokens.SESSION_CLAIM)  # verified by protect for this request
    except RuntimeError:
        return None
    return claim if isinstance(claim, int) else None


def describe_session(row: AuthSession, current: int | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "device": row.device,
        "ip": row.ip,
        "last_ip": row.last_ip,
        "created_on": _utc(row.created_on),
        "last_used_on": _utc(row.last_used_on),
        "expires_on": _utc(row.expires_on),
        "current": row.id == current,
    }


def _actor(user: Any) -> audit.Actor:
    return audit.Actor(user.id, user.username, getattr(user, "organisation_id", None))


class AuthApi(BaseApi):
    resource_name = "auth"
    class_permission_name = permissions.AUTH
    method_permission_name = {
        "sessions": permissions.READ,
        "end_session": permissions.WRITE,
        "logout": permissions.WRITE,
        "logout_all": permissions.WRITE,
        "end_user_sessions": "manage_users",
        "list_api_keys": permissions.READ,
        "create_api_key": permissions.WRITE,
        "revoke_api_key": permissions.WRITE,
    }
    openapi_spec_tag = "Authentication"

    def _db(self) -> Any:
        return self.appbuilder.sm.session

    # --- sessions -------------------------------------------------------------
    @expose("/sessions", methods=["GET"])
    @protect()
    @safe
    def sessions(self) -> Response:
        """The caller's live sessions.
        ---
        get:
          responses:
            200:
              description: One entry per live login; `current` marks this request's.
            401:
              $ref: '#/components/responses/401'
        """
        user, current = current_user(), current_session_id()
        rows = tokens.live_sessions(self._db(), user.id)
        return self.response(200, result=[describe_session(row, current) for row in rows])

    @expose("/sessions/<session_id>", methods=["DELETE"])
    @protect()
    @safe
    def end_session(self, session_id: str) -> Response:
        """End one of the caller's sessions.
        ---
        delete:
          parameters:
          - in: path
            name: session_id
            schema:
              type: integer
          responses:
            200:
              description: Ended
            404:
              $ref: '#/components/responses/404'
        """
        user = current_user()
        pk = parse_pk(session_id, MAX_ID)
        row = self._db().get(AuthSession, pk) if pk is not None else None
        if row is None or row.user_id != user.id or not row.is_live():
            return self.response_404()
        tokens.revoke_sessions(self._db(), [row.id], "revoked")
        audit.record(
            self._db(),
            "session_revoked",
            "AuthSession",
            row.id,
            organisation_id=user.organisation_id,
            actor=_actor(user),
        )
        self._db().commit()
        return self.response(200, message=_("Session ended."))

    @expose("/logout", methods=["POST"])
    @protect()
    @safe
    def logout(self) -> Response:
        """End the session of the access token sent with this request.
        ---
        post:
          responses:
            200:
              description: Logged out; the access and refresh tokens of this session stop.
            400:
              $ref: '#/components/responses/400'
        """
        user, current = current_user(), current_session_id()
        if current is None:
            return self.response_400(message=_("This request is not authenticated by a session."))
        tokens.revoke_sessions(self._db(), [current], "logout")
        audit.record(
            self._db(),
            "logout",
            "AuthSession",
            current,
            organisation_id=user.organisation_id,
            actor=_actor(user),
        )
        self._db().commit()
        return self.response(200, message=_("Logged out."))

    @expose("/logout-all", methods=["POST"])
    @protect()
    @safe
    def logout_all(self) -> Response:
        """End every session of the caller (API keys stay: revoke them under /api-keys).
        ---
        post:
          responses:
            200:
              description: The number of sessions ended.
        """
        user = current_user()
        ended = tokens.revoke_user_sessions(self._db(), user.id, "logout_all")
        audit.record(
            self._db(),
            "logout_all",
            "User",
            user.id,
            {"sessions": ended},
            organisation_id=user.organisation_id,
            actor=_actor(user),
        )
        self._db().commit()
        return self.response(200, ended=ended)

    @expose("/users/<user_id>/sessions", methods=["DELETE"])
    @protect()
    @safe
    def end_user_sessions(self, user_id: str) -> Response:
        """An ADMIN ends every session of a user of their organisation.
        ---
        delete:
          parameters:
          - in: path
            name: user_id
            schema:
              type: integer
          responses:
            200:
              description: The number of sessions ended.
            404:
              $ref: '#/components/responses/404'
        """
        actor = current_user()
        pk = parse_pk(user_id, MAX_ID)
        target = self._db().get(AppUser, pk) if pk is not None else None
        if target is None or not may_see(actor, target):
            return self.response_404()
        ended = tokens.revoke_user_sessions(self._db(), target.id, "admin")
        audit.record(
            self._db(),
            "sessions_ended",
            "User",
            target.id,
            {"sessions": ended},
            organisation_id=target.organisation_id,
            actor=_actor(actor),
        )
        self._db().commit()
        return self.response(200, ended=ended)

    # --- API keys -------------------------------------------------------------
    @expose("/api-keys", methods=["GET"])
    @protect()
    @safe
    def list_api_keys(self) -> Response:
        """The caller's API keys (never the keys themselves).
        ---
        get:
          responses:
            200:
              description: The keys, active or not.
        """
        rows = api_keys.keys_of(self._db(), current_user().id)
        return self.response(200, result=[api_keys.describe(row) for row in rows])

    @expose("/api-keys", methods=["POST"])
    @protect()
    @safe
    def create_api_key(self) -> Response:
        """Create an API key; the answer's `key` is shown this once.
        ---
        post:
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [name]
                  properties:
                    name:
                      type: string
                    expires_at:
                      type: string
                      format: date-time
                      description: ISO 8601; a time without offset is UTC.
                    read_only:
                      type: boolean
          responses:
            201:
              description: The key (field `key`) and its description.
            400:
              $ref: '#/components/responses/400'
            422:
              $ref: '#/components/responses/422'
        """
        try:
            body = request.get_json(silent=False) if request.is_json else None
        except BadRequest:
            body = None
        if not isinstance(body, dict):
            return self.response_400(message=_("The request body must be a JSON object."))
        errors, name, expires_on, read_only = _key_fields(body)
        if errors:
            return self.response_422(message=errors)
        user = current_user()
        key, raw = api_keys.create(self._db(), user, name, expires_on, read_only)
        self._db().commit()
        return self.response(201, key=raw, **api_keys.describe(key))

    @expose("/api-keys/<key_id>", methods=["DELETE"])
    @protect()
    @safe
    def revoke_api_key(self, key_id: str) -> Response:
        """Revoke one of the caller's API keys.
        ---
        delete:
          parameters:
          - in: path
            name: key_id
            schema:
              type: integer
          responses:
            200:
              description: Revoked
            404:
              $ref: '#/components/responses/404'
        """
        user = current_user()
        pk = parse_pk(key_id, MAX_ID)
        key = self._db().get(ApiKey, pk) if pk is not None else None
        if key is None or key.user_id != user.id or key.revoked_on is not None:
            return self.response_404()
        api_keys.revoke(self._db(), key, user)
        self._db().commit()
        return self.response(200, message=_("API key revoked."))


def _key_fields(body: dict[str, Any]) -> tuple[dict[str, list[str]], str, Any, bool]:
    errors: dict[str, list[str]] = {}
    unknown = set(body) - {"name", "expires_at", "read_only"}
    for field in sorted(unknown):
        errors[field] = [_("Unknown field.")]
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = [_("This field is required.")]
    elif len(name.strip()) > api_keys.MAX_NAME_LENGTH:
        errors["name"] = [_("Text of 256 characters at most.")]
    read_only = body.get("read_only", False)
    if not isinstance(read_only, bool):
        errors["read_only"] = [_("Must be true or false.")]
    expires_on = None
    raw_expiry = body.get("expires_at")
    if raw_expiry is not None:
        try:
            if not isinstance(raw_expiry, str):
                raise ValueError
            expires_on = api_keys.to_local_naive(dt.datetime.fromisoformat(raw_expiry))
        except (ValueError, OverflowError):
            errors["expires_at"] = [_("An ISO 8601 date and time, e.g. 2027-01-31T18:00:00Z.")]
        else:
            if expires_on <= api_keys.local_now():
                errors["expires_at"] = [_("Must be in the future.")]
    return errors, (name or "").strip() if isinstance(name, str) else "", expires_on, read_only


def init_auth(appbuilder: Any) -> None:
    """Wire tokens, keys and rate limits; call once every API is registered."""
    from app.api.limits import init_rate_limits

    app = current_app._get_current_object()
    tokens.install()
    app.before_request(api_keys.forget_request_key)
    init_rate_limits(app, appbuilder)
