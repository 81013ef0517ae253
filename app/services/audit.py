"""The audit trail: one function writes every entry, in the caller's transaction.

Changes to audited models are captured by a flush listener, so every door
(screens, API, CLI, tasks) is covered without code in the doors. Other events
(logins, downloads, purges) call ``record`` directly. Because the audit rows are
written in the same flush as the change, a failed audit write fails the change.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import functools
import logging
from typing import Any

from flask import g, has_app_context, has_request_context, request
from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from app.models.audit import AuditLog
from app.models.base import utcnow
from app.services.bank_accounts import mask_iban

log = logging.getLogger(__name__)

MASK = "***"
SECRET_FIELDS = {"password", "secret", "token", "key", "api_key"}
# FAB updates these on every login: they are login events, not user edits.
NOISE_FIELDS = {"last_login", "login_count", "fail_login_count", "changed_on", "updated_at"}


class Actor:
    """Who acts: the request's user, or an explicit one for CLI and tasks."""

    def __init__(self, user_id: int | None, username: str | None, organisation_id: int | None):
        self.user_id = user_id
        self.username = username
        self.organisation_id = organisation_id


def current_actor() -> Actor:
    explicit = g.get("audit_actor") if has_app_context() else None
    if explicit is not None:
        return explicit
    if not has_request_context():
        return Actor(None, None, None)
    user = _request_user()
    if user is None:
        return Actor(None, None, None)
    return Actor(user.id, user.username, getattr(user, "organisation_id", None))


def record(
    session: Session,
    action: str,
    object_type: str | None = None,
    object_id: Any = None,
    changes: dict[str, Any] | None = None,
    *,
    organisation_id: int | None = None,
    actor: Actor | None = None,
) -> None:
    """Add an audit entry to the session's current transaction (committed with it)."""
    session.execute(
        insert(AuditLog), [_row(action, object_type, object_id, changes, organisation_id, actor)]
    )


@functools.cache
def audited_models() -> tuple[type, ...]:
    # Read on every flush: the imports below are resolved once, not per flush.
    from flask_appbuilder.security.sqla.models import Role

    from app.models import (
        Allocation,
        AppUser,
        Attachment,
        Cancellation,
        Claim,
        ClaimChecklistItem,
        ClaimDocument,
        ClaimPayment,
        Client,
        CommissionRule,
        Company,
        Complaint,
        ComplianceDocument,
        ExpectedCommission,
        Mandate,
        NeedsQuestionnaire,
        Organisation,
        Payment,
        Policy,
        Proposal,
        Quote,
        RenewalCycle,
        Task,
        TaskCategory,
        TaskRule,
        Term,
        TrainingRecord,
    )

    # Premium notices are audited by their use cases (issued, formal notice, cancelled):
    # the daily stage moves are computed from dates, not decisions.
    return (
        Organisation,
        AppUser,
        Role,
        Company,
        Client,
        Policy,
        Term,
        RenewalCycle,
        Cancellation,
        Payment,
        Allocation,
        Mandate,
        Task,
        TaskRule,
        TaskCategory,
        CommissionRule,
        ExpectedCommission,
        Claim,
        Complaint,
        Attachment,
        TrainingRecord,
        ClaimPayment,
        ClaimDocument,
        ClaimChecklistItem,
        Proposal,
        Quote,
        ComplianceDocument,
        NeedsQuestionnaire,
    )


def install(session_class: type[Session] = Session) -> None:
    """Listen to every flush of every session (idempotent)."""
    if not event.contains(session_class, "after_flush", _after_flush):
        event.listen(session_class, "after_flush", _after_flush)


# --- internals ---------------------------------------------------------------


def _after_flush(session: Session, _context: Any) -> None:
    models = audited_models()
    changes: list[tuple[str, Any, dict[str, Any]]] = []
    for obj in session.new:
        if isinstance(obj, models):
            changes.append(("create", obj, _snapshot(obj, after=True)))
    for obj in session.dirty:
        if isinstance(obj, models) and session.is_modified(obj, include_collections=True):
            diff = _diff(obj)
            if diff:
                changes.append(("update", obj, diff))
    for obj in session.deleted:
        if isinstance(obj, models):
            changes.append(("delete", obj, _snapshot(obj, after=False)))
    if not changes:
        return
    # One flush has one actor: look the request's user up once, not once per entry.
    actor = current_actor()
    rows = [
        _row(action, _type(obj), _pk(obj), values, _org(obj), actor)
        for action, obj, values in changes
    ]
    session.connection().execute(insert(AuditLog), rows)


def _row(
    action: str,
    object_type: str | None,
    object_id: Any,
    changes: dict[str, Any] | None,
    organisation_id: int | None,
    actor: Actor | None = None,
) -> dict[str, Any]:
    actor = actor or current_actor()
    ip = user_agent = request_id = None
    if has_request_context():
        ip = request.remote_addr
        user_agent = (request.user_agent.string or "")[:256] or None
        request_id = g.get("request_id")
    return {
        "created_at": utcnow(),
        "user_id": actor.user_id,
        "username": actor.username,
        "organisation_id": organisation_id
        if organisation_id is not None
        else actor.organisation_id,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "changes": changes,
        "request_id": request_id,
        "ip": ip,
        "user_agent": user_agent,
    }


def object_type_name(model: type) -> str:
    """The type name entries give objects of ``model`` (its class name, "User" for AppUser)."""
    return {"AppUser": "User"}.get(model.__name__, model.__name__)


def _type(obj: Any) -> str:
    return object_type_name(type(obj))


def _pk(obj: Any) -> Any:
    identity = inspect(obj).identity
    return identity[0] if identity else getattr(obj, "id", None)


def _org(obj: Any) -> int | None:
    if type(obj).__name__ == "Organisation":
        return obj.id
    return getattr(obj, "organisation_id", None)


def _snapshot(obj: Any, *, after: bool) -> dict[str, Any]:
    state = inspect(obj)
    values: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in NOISE_FIELDS:
            continue
        value = _plain(attr.key, getattr(obj, attr.key))
        if value is None:
            continue
        values[attr.key] = [None, value] if after else [value, None]
    for rel_key in _collection_keys(state.mapper):
        names = sorted(str(item) for item in getattr(obj, rel_key))
        if names:
            values[rel_key] = [None, names] if after else [names, None]
    return values


def _diff(obj: Any) -> dict[str, Any]:
    state = inspect(obj)
    diff: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in NOISE_FIELDS:
            continue
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        before = history.deleted[0] if history.deleted else None
        after = history.added[0] if history.added else None
        before, after = _plain(attr.key, before), _plain(attr.key, after)
        if before != after:
            diff[attr.key] = [before, after]
    for rel_key in _collection_keys(state.mapper):
        history = state.attrs[rel_key].history
        if history.has_changes():
            unchanged = [str(item) for item in history.unchanged]
            before = sorted(unchanged + [str(item) for item in history.deleted])
            after = sorted(unchanged + [str(item) for item in history.added])
            if before != after:
                diff[rel_key] = [before, after]
    return diff


def _collection_keys(mapper: Any) -> list[str]:
    # A user's roles and a role's permissions; other collections mirror audited rows.
    wanted = {"AppUser": "roles", "User": "roles", "Role": "permissions"}.get(
        mapper.class_.__name__
    )
    return [rel.key for rel in mapper.relationships if rel.key == wanted]


def _plain(key: str, value: Any) -> Any:
    """JSON-safe value, with secrets masked."""
    if value is None:
        return None
    if any(secret in key for secret in SECRET_FIELDS):
        return MASK
    if "iban" in key:  # an account number lets money be taken: its last four only
        return mask_iban(str(value))
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, int | float | str | bool):
        return value
    return str(value)


def _request_user() -> Any | None:
    try:
        from flask import current_app

        with current_app.appbuilder.sm.session.no_autoflush:
            user = current_app.appbuilder.sm.current_user
    except Exception:  # no user loader context (e.g. a failing JWT): anonymous
        return None
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


class acting_as:  # noqa: N801 (used as a context manager, reads like a clause)
    """Attribute audit entries to ``actor`` inside CLI commands and tasks."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self._previous: Actor | None = None

    def __enter__(self) -> Actor:
        self._previous = g.get("audit_actor")
        g.audit_actor = self.actor
        return self.actor

    def __exit__(self, *_exc: object) -> None:
        g.audit_actor = self._previous
