"""API keys for scripts, stored in FAB's ``ab_api_key`` table.

A key is ``ma_`` + 43 random characters, shown once. The table keeps FAB's
keyed lookup hash and a salted hash of the key; ``key_prefix`` keeps the first
characters so a user can tell their keys apart. ``scopes`` is ``read`` for a
read-only key (refused with 403 on POST/PUT/PATCH/DELETE) and empty otherwise.

A request authenticated by a key acts as the key's owner (FAB sets ``g.user``),
so it has the owner's role and organisation. Keys are accepted as
``Authorization: Bearer <key>`` and as ``X-API-Key: <key>``.

Times in ``ab_api_key`` are naive local time: FAB's ``ApiKey.is_active``
compares ``expires_on`` with ``datetime.now()``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from flask import current_app, g, request
from flask_appbuilder.security.sqla.models import ApiKey
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.services import audit

HEADER = "X-API-Key"
READ_SCOPE = "read"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SHOWN_PREFIX_LENGTH = 10
MAX_NAME_LENGTH = 256
# last_used_on is written at most this often (a script may call many times a second).
TOUCH_EVERY = dt.timedelta(seconds=60)
_ENVIRON_KEY = "monassurance.api_key"


def local_now() -> dt.datetime:
    return dt.datetime.now()


def to_local_naive(value: dt.datetime) -> dt.datetime:
    """An aware time, or a naive one read as UTC, in naive local time (FAB's convention)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone().replace(tzinfo=None)


def iso(value: dt.datetime | None) -> str | None:
    return value.astimezone().isoformat() if value is not None else None


def extract_from_request() -> str | None:
    """The key the request brings, if any: ``X-API-Key``, or a Bearer value with our prefix."""
    header = request.headers.get(HEADER)
    if header is not None:
        return header.strip()
    authorization = request.headers.get("Authorization", "")
    if authorization[:7].lower() == "bearer ":
        token = authorization[7:].strip()
        prefixes = current_app.config.get("FAB_API_KEY_PREFIXES", ["ma_"])
        if token and any(token.startswith(prefix) for prefix in prefixes):
            return token
    return None


def create(
    session: Session,
    user: Any,
    name: str,
    expires_on: dt.datetime | None = None,
    read_only: bool = False,
) -> tuple[ApiKey, str]:
    """Add a key for ``user`` (not committed); returns the row and the key, shown once."""
    sm = current_app.appbuilder.sm
    prefixes = current_app.config.get("FAB_API_KEY_PREFIXES", ["ma_"])
    raw = prefixes[0] + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        key_hash=generate_password_hash(raw, method=current_app.config["FAB_API_KEY_HASH_METHOD"]),
        lookup_hash=sm._compute_lookup_hash(raw),
        key_prefix=raw[:SHOWN_PREFIX_LENGTH],
        user_id=user.id,
        scopes=READ_SCOPE if read_only else None,
        active=True,
        created_on=local_now(),
        expires_on=expires_on,
    )
    session.add(key)
    session.flush()
    _audit(session, "api_key_created", key, user)
    return key, raw


def revoke(session: Session, key: ApiKey, actor: Any) -> None:
    key.active = False
    key.revoked_on = local_now()
    _audit(session, "api_key_revoked", key, actor)


def keys_of(session: Session, user_id: int) -> list[ApiKey]:
    return list(
        session.scalars(select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.id))
    )


def describe(key: ApiKey) -> dict[str, Any]:
    """A key as the API lists it: never the key or its hashes."""
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.key_prefix,
        "read_only": key.scopes == READ_SCOPE,
        "active": key.is_active,
        "created_on": iso(key.created_on),
        "expires_on": iso(key.expires_on),
        "last_used_on": iso(key.last_used_on),
        "revoked_on": iso(key.revoked_on),
    }


def _audit(session: Session, action: str, key: ApiKey, actor: Any) -> None:
    changes = {
        "name": key.name,
        "read_only": key.scopes == READ_SCOPE,
        "expires_on": iso(key.expires_on),
        "owner_id": key.user_id,
    }
    audit.record(
        session,
        action,
        "ApiKey",
        key.id,
        changes,
        organisation_id=getattr(actor, "organisation_id", None),
        actor=audit.Actor(actor.id, actor.username, getattr(actor, "organisation_id", None)),
    )


def validate(session: Session, raw: str) -> Any | None:
    """The owner of a valid key (and the request now acts as them), else None.

    Asked once per request: FAB's ``protect`` may ask again.
    """
    cached = request.environ.get(_ENVIRON_KEY)
    if cached is not None and cached["raw"] == raw:
        _act_as(cached["user"])
        return cached["user"]
    sm = current_app.appbuilder.sm
    key = session.scalar(select(ApiKey).where(ApiKey.lookup_hash == sm._compute_lookup_hash(raw)))
    if key is None or not check_password_hash(key.key_hash, raw) or not key.is_active:
        return None
    user = sm.get_user_by_id(key.user_id)
    if user is None or not user.is_active:
        return None
    now = local_now()
    if key.last_used_on is None or now - key.last_used_on > TOUCH_EVERY:
        key.last_used_on = now
        session.commit()
    request.environ[_ENVIRON_KEY] = {
        "raw": raw,
        "user": user,
        "read_only": key.scopes == READ_SCOPE,
    }
    _act_as(user)
    return user


def _act_as(user: Any) -> None:
    # FAB's current_user reads these: the request acts with the owner's role and organisation.
    g.user = user
    g._api_key_user = True


def forget_request_key() -> None:
    """before_request: ``g`` may outlive a request (a held app context); the key must not."""
    g._api_key_user = False


def write_refused() -> bool:
    """Is this request a write through a read-only key?"""
    used = request.environ.get(_ENVIRON_KEY)
    return bool(used and used["read_only"] and request.method not in SAFE_METHODS)


def request_key_in_use() -> bool:
    return _ENVIRON_KEY in request.environ
