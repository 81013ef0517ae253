"""Link-signing keys: one signs new links, several verify; from the environment or the database.

- ``LINK_SIGNING_KEYS="kid:secret,kid:secret"`` (first signs, every one verifies):
  the operator owns the keys and rotates them by editing the variable. The
  ``signing_key`` table is then ignored.
- Otherwise the ``signing_key`` table: secrets encrypted at rest with a Fernet
  key derived from SECRET_KEY by HKDF; the first key is made on first use;
  ``rotate`` makes a new signing key and lets the previous one verify for
  LINK_TTL_MAX_SECONDS more (the longest a link it signed can live), then
  retires keys past that time and wipes their secrets.

Functions take the session and never commit: the caller's transaction does.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import SigningKey
from app.services import audit
from app.services.links import clock
from app.services.links.tokens import KID_PATTERN

log = logging.getLogger(__name__)

MIN_SECRET_LENGTH = 32
SECRET_BYTES = 32
ENV = "environment"
DATABASE = "database"
_HKDF_INFO = b"monassurance link-signing keys v1"


class KeyConfigError(RuntimeError):
    """Keys unusable (malformed LINK_SIGNING_KEYS, SECRET_KEY changed): for an operator to fix."""


class EnvironmentKeysError(RuntimeError):
    """Keys come from LINK_SIGNING_KEYS: the database keys are not used and not rotated."""


@dataclass(frozen=True)
class LinkKey:
    kid: str
    secret: bytes = field(repr=False)
    active: bool
    source: str  # ENV or DATABASE
    verify_until: dt.datetime | None = None
    # Retired: its secret is wiped, nothing it signed may open any more.
    retired: bool = False

    def verifies_at(self, moment: dt.datetime) -> bool:
        return self.verify_until is None or moment <= self.verify_until


@dataclass(frozen=True)
class KeyInfo:
    """A key as the list and the screen show it (never its secret)."""

    kid: str
    source: str
    active: bool
    created_at: dt.datetime | None
    verify_until: dt.datetime | None
    retired_at: dt.datetime | None

    def state(self, moment: dt.datetime) -> str:
        if self.retired_at is not None:
            return "retired"
        if self.active:
            return "signing"
        if self.verify_until is not None and moment > self.verify_until:
            return "expired"
        return "verifying"


@dataclass(frozen=True)
class Rotation:
    new_kid: str
    demoted: list[tuple[str, dt.datetime]]  # (kid, verify_until)
    retired: list[str]


def _settings(settings: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return settings if settings is not None else current_app.config


# --- keys from the environment ------------------------------------------------------------


def environment_keys(settings: Mapping[str, Any] | None = None) -> list[LinkKey] | None:
    """The keys of LINK_SIGNING_KEYS (first signs), or None when it is not set."""
    raw = _settings(settings).get("LINK_SIGNING_KEYS")
    if not raw or not str(raw).strip():
        return None
    return _parse_environment_keys(str(raw))


@functools.lru_cache(maxsize=8)
def _parse_environment_keys(raw: str) -> list[LinkKey]:
    keys: list[LinkKey] = []
    for position, item in enumerate(part.strip() for part in raw.split(",")):
        if not item:
            continue
        kid, separator, secret = item.partition(":")
        kid, secret = kid.strip(), secret.strip()
        if not separator or not KID_PATTERN.match(kid):
            raise KeyConfigError(
                "LINK_SIGNING_KEYS: each entry is kid:secret, the kid 1-16 letters, digits, - or _"
            )
        if len(secret) < MIN_SECRET_LENGTH:
            raise KeyConfigError(
                f"LINK_SIGNING_KEYS: the secret of {kid!r} is shorter than "
                f"{MIN_SECRET_LENGTH} characters"
            )
        if any(key.kid == kid for key in keys):
            raise KeyConfigError(f"LINK_SIGNING_KEYS: the kid {kid!r} appears twice")
        keys.append(LinkKey(kid, secret.encode("utf-8"), active=position == 0, source=ENV))
    if not keys:
        raise KeyConfigError("LINK_SIGNING_KEYS is set but holds no key")
    return keys


# --- keys in the database -----------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _fernet(secret_key: str) -> Fernet:
    """The Fernet key that encrypts stored secrets, derived from SECRET_KEY (never stored)."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret_key.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _decrypt(row: SigningKey, settings: Mapping[str, Any]) -> bytes:
    try:
        return _fernet(str(settings["SECRET_KEY"])).decrypt(row.secret_encrypted.encode("ascii"))
    except (InvalidToken, ValueError):
        raise KeyConfigError(
            f"the signing key {row.kid!r} cannot be decrypted: SECRET_KEY changed since it was "
            "made. Run `flask keys rotate` (links signed before stop working)."
        ) from None


def _to_key(row: SigningKey, settings: Mapping[str, Any]) -> LinkKey:
    return LinkKey(
        row.kid,
        _decrypt(row, settings),
        active=row.active,
        source=DATABASE,
        verify_until=row.verify_until,
    )


def _new_row(session: Session, settings: Mapping[str, Any], moment: dt.datetime) -> SigningKey:
    secret = secrets.token_bytes(SECRET_BYTES)
    encrypted = _fernet(str(settings["SECRET_KEY"])).encrypt(secret).decode("ascii")
    # Date first, so an operator reading `flask keys list` sees the age at a glance.
    kid = f"{moment:%Y%m%d}-{secrets.token_hex(3)}"
    row = SigningKey(kid=kid, secret_encrypted=encrypted, active=True, created_at=moment)
    session.add(row)
    session.flush()
    return row


# --- what the link services ask -----------------------------------------------------------


def signing_key(session: Session, settings: Mapping[str, Any] | None = None) -> LinkKey:
    """The key that signs new links; the first database key is made here on first use."""
    settings = _settings(settings)
    from_env = environment_keys(settings)
    if from_env is not None:
        return from_env[0]
    # Two processes making the first key at once both commit one: both verify, and
    # the newest active one signs from then on; a rotation demotes every active key.
    row = session.scalar(
        select(SigningKey)
        .where(SigningKey.active.is_(True), SigningKey.retired_at.is_(None))
        .order_by(SigningKey.id.desc())
        .limit(1)
    )
    if row is None:
        row = _new_row(session, settings, clock.now())
        audit.record(session, "signing_key.created", "SigningKey", row.kid, {"kid": row.kid})
    return _to_key(row, settings)


def verifying_key(
    session: Session, kid: str, settings: Mapping[str, Any] | None = None
) -> LinkKey | None:
    """The key named ``kid`` (``retired`` set and no secret once retired), or None if unknown."""
    settings = _settings(settings)
    from_env = environment_keys(settings)
    if from_env is not None:
        return next((key for key in from_env if key.kid == kid), None)
    row = session.scalar(select(SigningKey).where(SigningKey.kid == kid))
    if row is None:
        return None
    if row.retired_at is not None or not row.secret_encrypted:
        return LinkKey(row.kid, b"", active=False, source=DATABASE, retired=True)
    return _to_key(row, settings)


def describe_keys(session: Session, settings: Mapping[str, Any] | None = None) -> list[KeyInfo]:
    """Every key, signing first, then newest first (the environment's in their order)."""
    settings = _settings(settings)
    from_env = environment_keys(settings)
    if from_env is not None:
        return [KeyInfo(key.kid, ENV, key.active, None, None, None) for key in from_env]
    rows = session.scalars(
        select(SigningKey).order_by(SigningKey.active.desc(), SigningKey.id.desc())
    ).all()
    return [
        KeyInfo(row.kid, DATABASE, row.active, row.created_at, row.verify_until, row.retired_at)
        for row in rows
    ]


def rotate(
    session: Session,
    settings: Mapping[str, Any] | None = None,
    *,
    actor: audit.Actor | None = None,
) -> Rotation:
    """Make a new signing key; the previous ones verify LINK_TTL_MAX_SECONDS more; retire old ones.

    Raises EnvironmentKeysError when LINK_SIGNING_KEYS is set (rotate the variable instead).
    """
    settings = _settings(settings)
    if environment_keys(settings) is not None:
        raise EnvironmentKeysError(
            "LINK_SIGNING_KEYS is set: the keys come from the environment. Rotate them there: "
            "put a new kid:secret first, keep the old one after it for LINK_TTL_MAX_SECONDS, "
            "then remove it (docs/operations.md, 'Signing keys and rotation')."
        )
    moment = clock.now()
    grace = dt.timedelta(seconds=int(settings["LINK_TTL_MAX_SECONDS"]))
    demoted: list[tuple[str, dt.datetime]] = []
    # Locked so two rotations at once do not both demote and leave two signing keys.
    active = session.scalars(
        select(SigningKey).where(SigningKey.active.is_(True)).with_for_update()
    ).all()
    for row in active:
        row.active = False
        row.verify_until = moment + grace
        demoted.append((row.kid, row.verify_until))
    retired: list[str] = []
    expired = session.scalars(
        select(SigningKey).where(
            SigningKey.active.is_(False),
            SigningKey.retired_at.is_(None),
            SigningKey.verify_until.is_not(None),
            SigningKey.verify_until < moment,
        )
    ).all()
    for row in expired:
        row.retired_at = moment
        row.secret_encrypted = ""  # no link it signed can be valid: nothing to keep
        retired.append(row.kid)
    new = _new_row(session, settings, moment)
    audit.record(
        session,
        "signing_key.rotated",
        "SigningKey",
        new.kid,
        {
            "new": new.kid,
            "verifying_until": {kid: until.isoformat() for kid, until in demoted},
            "retired": retired,
        },
        actor=actor,
    )
    log.info(
        "link-signing key rotated: %s signs, %d demoted, %d retired",
        new.kid,
        len(demoted),
        len(retired),
    )
    return Rotation(new.kid, demoted, retired)
