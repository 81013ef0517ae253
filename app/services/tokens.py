"""API tokens: sessions (one per login), rotating refresh tokens, revocation.

- ``start_session`` (login) opens a session and returns an access token and the
  first refresh token of its family.
- ``rotate`` (refresh) spends the presented refresh token and returns a new
  pair. A refresh token that was already spent or revoked ends its whole family
  and is audited as ``token_reuse``: either the user or a thief holds a copy,
  and we cannot tell which.
- Access tokens carry the session id (``sid``); ``live_session_user`` is asked
  on every request (the JWT blocklist check) and reads the database, so ending
  a session stops its access tokens at once in every process.
- Changing a user's password or role, or deactivating them, ends all their
  sessions (``install`` watches every flush, whatever the door).

Nothing here commits except the request-level entry points the API calls
(``rotate``'s reuse branch must persist even though the request fails).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session, joinedload

from app.models.auth import AuthSession, RefreshToken
from app.models.base import utcnow
from app.models.user import AppUser
from app.services import audit

SESSION_CLAIM = "sid"
# last_used_on is written at most this often by access-token requests.
TOUCH_EVERY = dt.timedelta(seconds=60)
DEVICE_LENGTH = 256


class TokenRefusedError(Exception):
    """The refresh token cannot be used; ``message`` says why (the answer is 401)."""


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str
    session_id: int


def jti_hash(jti: str) -> str:
    return hashlib.sha256(jti.encode()).hexdigest()


def _client() -> tuple[str | None, str | None]:
    """(IP, User-Agent) of the request, cut to their column sizes."""
    agent = request.headers.get("User-Agent") or None
    return request.remote_addr, agent[:DEVICE_LENGTH] if agent else None


def _refresh_lifetime() -> dt.timedelta:
    return current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]


def start_session(session: Session, user: AppUser, device: str | None = None) -> TokenPair:
    """Open a session for ``user`` (just authenticated) and issue its first tokens."""
    ip, agent = _client()
    now = utcnow()
    label = (device or agent or "")[:DEVICE_LENGTH] or None
    auth_session = AuthSession(
        user_id=user.id,
        device=label,
        ip=ip,
        last_ip=ip,
        created_on=now,
        last_used_on=now,
        expires_on=now + _refresh_lifetime(),
    )
    session.add(auth_session)
    session.flush()
    return _issue(session, user, auth_session, fresh=True)


def _issue(session: Session, user: AppUser, auth_session: AuthSession, *, fresh: bool) -> TokenPair:
    ip, agent = _client()
    now = utcnow()
    claims = {SESSION_CLAIM: auth_session.id}
    # The family's absolute end bounds every refresh token of it.
    remaining = auth_session.expires_on - now
    jti = secrets.token_urlsafe(24)  # ours, so we know what to hash without decoding
    refresh = create_refresh_token(
        identity=str(user.id), additional_claims={**claims, "jti": jti}, expires_delta=remaining
    )
    session.add(
        RefreshToken(
            session_id=auth_session.id,
            jti_hash=jti_hash(jti),
            user_agent=agent,
            ip=ip,
            issued_on=now,
            expires_on=auth_session.expires_on,
        )
    )
    access = create_access_token(identity=str(user.id), fresh=fresh, additional_claims=claims)
    return TokenPair(access, refresh, auth_session.id)


def rotate(session: Session, payload: dict[str, Any]) -> TokenPair:
    """Spend the refresh token described by ``payload`` (already verified) and issue the next pair.

    Commits: a detected reuse must revoke the family even though the caller answers 401.
    """
    token = session.scalar(
        select(RefreshToken)
        .options(joinedload(RefreshToken.session))
        .where(RefreshToken.jti_hash == jti_hash(str(payload.get("jti", ""))))
    )
    if token is None or str(token.session.user_id) != str(payload.get("sub")):
        raise TokenRefusedError("unknown")
    auth_session = token.session
    now = utcnow()
    # Atomic: of two concurrent refreshes with one token, only one spends it.
    spent = session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.id == token.id,
            RefreshToken.used_on.is_(None),
            RefreshToken.revoked_on.is_(None),
        )
        .values(used_on=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if spent != 1:
        _report_reuse(session, auth_session, token)
        session.commit()
        raise TokenRefusedError("reused")
    user = session.get(AppUser, auth_session.user_id)
    if not auth_session.is_live(now) or user is None or not user.is_active:
        session.rollback()
        raise TokenRefusedError("ended")
    ip, _agent = _client()
    auth_session.last_used_on = now
    auth_session.last_ip = ip
    pair = _issue(session, user, auth_session, fresh=False)
    session.commit()
    return pair


def _report_reuse(session: Session, auth_session: AuthSession, token: RefreshToken) -> None:
    user = session.get(AppUser, auth_session.user_id)
    revoke_sessions(session, [auth_session.id], "reuse")
    ip, agent = _client()
    audit.record(
        session,
        "token_reuse",
        "AuthSession",
        auth_session.id,
        {"refresh_token_id": token.id, "ip": ip, "user_agent": agent},
        organisation_id=getattr(user, "organisation_id", None),
        actor=audit.Actor(
            getattr(user, "id", None),
            getattr(user, "username", None),
            getattr(user, "organisation_id", None),
        ),
    )


def revoke_sessions(session: Session, session_ids: list[int], reason: str) -> int:
    """End these sessions and their unspent refresh tokens; returns how many were live."""
    if not session_ids:
        return 0
    now = utcnow()
    ended = session.execute(
        update(AuthSession)
        .where(AuthSession.id.in_(session_ids), AuthSession.revoked_on.is_(None))
        .values(revoked_on=now, revoked_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.session_id.in_(session_ids), RefreshToken.revoked_on.is_(None))
        .values(revoked_on=now)
        .execution_options(synchronize_session=False)
    )
    return ended


def live_session_ids(session: Session, user_id: int) -> list[int]:
    return list(
        session.scalars(
            select(AuthSession.id).where(
                AuthSession.user_id == user_id,
                AuthSession.revoked_on.is_(None),
                AuthSession.expires_on > utcnow(),
            )
        )
    )


def revoke_user_sessions(session: Session, user_id: int, reason: str) -> int:
    """End every session of a user (their outstanding access tokens stop with them)."""
    return revoke_sessions(session, live_session_ids(session, user_id), reason)


def live_sessions(session: Session, user_id: int) -> list[AuthSession]:
    return list(
        session.scalars(
            select(AuthSession)
            .where(
                AuthSession.user_id == user_id,
                AuthSession.revoked_on.is_(None),
                AuthSession.expires_on > utcnow(),
            )
            .order_by(AuthSession.last_used_on.desc(), AuthSession.id.desc())
        )
    )


# --- the check every access-token request goes through ---------------------------


def live_session_user(session: Session, payload: dict[str, Any]) -> AppUser | None:
    """The token's user, with roles, if its session is live; None when it must be refused.

    One statement: the session check and the user load the request needs anyway.
    """
    session_id, subject = payload.get(SESSION_CLAIM), payload.get("sub")
    if not isinstance(session_id, int) or not isinstance(subject, str) or not subject.isdecimal():
        return None  # a token we did not issue through a session
    now = utcnow()
    row = session.execute(
        select(AppUser, AuthSession.last_used_on)
        .join(AuthSession, AuthSession.user_id == AppUser.id)
        .options(joinedload(AppUser.roles))
        .where(
            AuthSession.id == session_id,
            AppUser.id == int(subject),
            AuthSession.revoked_on.is_(None),
            AuthSession.expires_on > now,
        )
    ).first()
    if row is None:
        return None
    user, last_used_on = row
    if now - last_used_on > TOUCH_EVERY:
        _touch(session_id, now)
    return user


def _touch(session_id: int, now: dt.datetime) -> None:
    """Record the session's last use on a connection of its own (GET requests never commit)."""
    from app.extensions import db

    with db.engine.begin() as connection:
        connection.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id)
            .values(last_used_on=now, last_ip=request.remote_addr)
        )


# --- password, role or activity changes end the user's sessions -------------------


def _sessions_to_end(user: AppUser) -> str | None:
    state = inspect(user)
    if state.attrs.password.history.has_changes():
        return "password_changed"
    if state.attrs.active.history.has_changes() and not user.active:
        return "deactivated"
    if state.attrs.roles.history.has_changes():
        return "role_changed"
    return None


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.dirty):
        if isinstance(obj, AppUser) and obj.id is not None:
            reason = _sessions_to_end(obj)
            if reason is not None:
                revoke_user_sessions(session, obj.id, reason)


def install(session_class: type[Session] = Session) -> None:
    """Watch every flush of every session (idempotent)."""
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)
