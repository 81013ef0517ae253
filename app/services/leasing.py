"""Rows that carry their own lease: documents (renders) and report/export jobs.

Huey does not acknowledge messages, so the row is the truth and the queue a
messenger. Both kinds of row have the same columns (status queued / running /
failed, attempts, lease_token, lease_expires_at, enqueued_at, created_at,
started_at, finished_at, error) and follow the same rules:

- rows are *sent* to the queue after they are committed (``send``): a refusal
  (Redis down) leaves them queued, and nothing raises;
- a worker *takes* a row with one conditional UPDATE (``take``): queued, or
  running with an expired lease, with attempts left;
- the sweeper sends again the rows that are *due* (``due_ids``): queued rows
  whose message never left or was lost while the queue is empty, running rows
  whose lease expired (once per expiry);
- rows with no attempt left are *failed* with the reason (``fail_exhausted``);
- a worker's attempt ends one way for every kind of row (``settle_attempt``):
  deterministic errors fail at once, trouble that may pass (storage, database, the
  worker stopping) goes back to queued (``requeue_or_fail``) until the attempts are
  spent, a lost lease writes nothing;
- a connection found dead (the database restarted, the network cut it) is not
  the row's fault: the claim, or the attempt's work under the same lease, runs
  once more at once (``once_more_on_disconnect``), so it costs no attempt and no
  wait for the sweeper. The engine also tests pooled connections before use
  (``pool_pre_ping``, config.py), which catches most of them earlier.

Each caller adds its own conditions (e.g. "a report or export job").
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from app.models.base import utcnow
from app.services import audit
from app.services.batches import in_lists

log = logging.getLogger(__name__)
T = TypeVar("T")
# user:password@ in a connection URL quoted by an error: never into the logs
_CREDENTIALS = re.compile(r"(://[^:/@\s]*):[^@/\s]*@")
SWEEP_LIMIT = 1000  # rows handled per run: a huge backlog drains over several runs
SWEEPER = "sweeper"  # the audit trail's name for it


class LeaseLostError(Exception):
    """Another worker holds the row now: stop without writing anything."""


def _statuses(model: Any) -> Any:
    return model.status.type.enum_class


def send(session: Session, model: Any, row_ids: list[int], task: Callable[[int], Any]) -> int:
    """Send one message per committed row; how many the queue accepted. Never raises.

    Stops at the first refusal (the others would be refused too) with one warning,
    and records ``enqueued_at`` for the rows that went through.
    """
    noun = model.__name__.lower()
    sent: list[int] = []
    for row_id in row_ids:
        try:
            task(row_id)
        except Exception as error:  # redis.ConnectionError, sqlite3 errors...: any refusal
            log.warning(
                "queue refused %s %s (%s: %s); %d of %d left queued for the sweeper",
                noun,
                row_id,
                type(error).__name__,
                _CREDENTIALS.sub(r"\1:***@", str(error)),
                len(row_ids) - len(sent),
                len(row_ids),
            )
            break
        sent.append(row_id)
    if sent:
        _mark_sent(session, model, sent)
    return len(sent)


def _mark_sent(session: Session, model: Any, row_ids: list[int]) -> None:
    # Unconditional: a fast worker may already be running it, which is fine.
    # Losing this write only makes the sweeper send the message a second time,
    # which the worker's claim turns into a no-op.
    now = utcnow()
    try:
        for chunk in in_lists(row_ids):
            session.execute(
                update(model)
                .where(model.id.in_(chunk))
                .values(enqueued_at=now)
                .execution_options(synchronize_session=False)
            )
        session.commit()
    except SQLAlchemyError as error:
        session.rollback()
        log.warning("could not record enqueued_at for %d rows: %s", len(row_ids), error)


def take(
    session: Session, model: Any, row_id: int, *conditions: Any
) -> tuple[str, dt.datetime] | None:
    """Take the row for this worker: (lease token, now), or None (rolled back) if not ours."""
    config = current_app.config
    status = _statuses(model)
    now = utcnow()
    token = secrets.token_hex(16)
    taken = session.execute(
        update(model)
        .where(
            model.id == row_id,
            *conditions,
            model.attempts < config["DOCUMENT_MAX_ATTEMPTS"],
            or_(
                model.status == status.queued,
                (model.status == status.running) & (model.lease_expires_at < now),
            ),
        )
        .values(
            status=status.running,
            attempts=model.attempts + 1,
            lease_token=token,
            lease_expires_at=now + timedelta(seconds=config["DOCUMENT_LEASE_SECONDS"]),
            started_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        session.rollback()
        return None
    return token, now


def queue_is_empty() -> bool:
    """True when the queue holds no message; False when it cannot be read (Redis down)."""
    from app.tasks.queue import huey

    try:
        return huey.pending_count() == 0
    except Exception as error:  # Redis down: enqueueing will fail too, said by the caller
        log.warning("sweep: cannot read the queue length (%s)", type(error).__name__)
        return False


def due_ids(
    session: Session,
    model: Any,
    now: dt.datetime,
    cutoff: dt.datetime,
    limit: int,
    queue_empty: bool,
    *conditions: Any,
) -> list[int]:
    """Ids to send again: expired leases first, then queued rows whose message is lost."""
    status = _statuses(model)
    queued = select(model.id).where(
        model.status == status.queued,
        *conditions,
        model.attempts < limit,
        or_(
            and_(model.enqueued_at.is_(None), model.created_at < cutoff),
            and_(model.enqueued_at < cutoff, queue_empty),
        ),
    )
    expired = select(model.id).where(
        model.status == status.running,
        *conditions,
        model.lease_expires_at < now,
        model.attempts < limit,
        or_(
            model.enqueued_at.is_(None),
            model.enqueued_at <= model.lease_expires_at,  # not sent since it expired
            and_(model.enqueued_at < cutoff, queue_empty),
        ),
    )
    ids: list[int] = []
    for query in (expired, queued):
        room = SWEEP_LIMIT - len(ids)
        if room > 0:
            ids += session.execute(query.order_by(model.id).limit(room)).scalars().all()
    return ids


def exhausted(model: Any, now: dt.datetime, limit: int, *conditions: Any) -> Any:
    """SQL condition: no attempt left, and nobody working on it (queued, or lease expired)."""
    status = _statuses(model)
    return and_(
        *conditions,
        model.attempts >= limit,
        or_(
            model.status == status.queued,
            (model.status == status.running) & (model.lease_expires_at < now),
        ),
    )


def fail_exhausted(
    session: Session, model: Any, row: Any, condition: Any, now: dt.datetime, action: str
) -> bool:
    """Mark one row with no attempt left failed, with the reason, audited, committed.

    ``row`` was read earlier (id, status, attempts, lease_expires_at, error,
    organisation_id) under ``condition`` (``exhausted``); the update is
    conditional on both, so a worker that took the row meanwhile keeps it.
    False when nothing was written.
    """
    status = _statuses(model)
    if row.status is status.running:
        when = row.lease_expires_at.strftime("%Y-%m-%d %H:%M:%S")
        reason = f"the worker stopped (its lease expired at {when} UTC)"
    else:
        reason = row.error or "no attempt left"
    message = f"gave up after {row.attempts} attempts: {reason}"[:1000]
    try:
        written = session.execute(
            update(model)
            .where(model.id == row.id, condition, model.status == row.status)
            .values(
                status=status.failed,
                error=message,
                finished_at=now,
                lease_token=None,
                lease_expires_at=None,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if written != 1:
            session.rollback()
            return False
        audit.record(
            session,
            action,
            model.__name__,
            row.id,
            {"attempts": row.attempts, "error": message},
            organisation_id=row.organisation_id,
            actor=audit.Actor(None, SWEEPER, row.organisation_id),
        )
        session.commit()
    except SQLAlchemyError as error:
        session.rollback()
        log.error("sweep: could not fail %s %s: %s", model.__name__, row.id, error)
        return False
    return True


def once_more_on_disconnect(session: Session, label: str, step: Callable[[], T]) -> T:
    """Run ``step``; if it found its database connection dead, run it once more at once.

    SQLAlchemy discards a connection it finds dead, with the pool's older ones,
    so the second run gets a fresh connection. Only for steps that can run
    twice: a claim (its UPDATE was not committed, or the second one finds the
    row taken) and an attempt's work under the lease it already holds (a
    document's file is overwritten, a job delivers in one conditional commit).
    """
    try:
        return step()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        session.rollback()
        log.warning(
            "%s: the database connection was lost (%s); trying again at once",
            label,
            type(error.orig).__name__ if error.orig is not None else type(error).__name__,
        )
        return step()


def settle_attempt(
    session: Session,
    label: str,
    work: Callable[[], T],
    *,
    final: tuple[type[Exception], ...],
    fail: Callable[[str], None],
    retry: Callable[[str], None],
    retry_unexpected: bool,
) -> T | None:
    """Run one attempt of a claimed row's work; its result, or None once settled otherwise.

    ``final`` errors fail the row with their message; a dead database connection is
    tried again at once, under the same lease and attempt; storage and database
    errors and a stopping worker (SIGTERM) hand it back through ``retry``; any other error is
    logged and goes to ``retry`` or ``fail`` as ``retry_unexpected`` says.
    """
    from app.services.storage import StorageError

    try:
        return once_more_on_disconnect(session, label, work)
    except LeaseLostError:
        log.warning("%s: lease lost to another worker; its result stands", label)
    except final as error:
        fail(getattr(error, "message", None) or str(error))
    except StorageError as error:
        retry(f"storage: {error}")
    except SQLAlchemyError as error:
        session.rollback()
        retry(f"database: {type(error).__name__}")
    except (KeyboardInterrupt, SystemExit):
        # SIGTERM to the consumer: hand the row back instead of waiting for the lease.
        retry("interrupted: the worker stopped")
        raise
    except Exception as error:
        log.exception("%s: unexpected error", label)
        (retry if retry_unexpected else fail)(f"unexpected error ({type(error).__name__})")
    return None


def requeue_or_fail(
    session: Session,
    model: Any,
    owned: Any,
    *,
    label: str,
    attempts: int,
    reason: str,
    fail: Callable[[str], None],
) -> None:
    """Back to queued for the sweeper, or ``fail`` once the attempts are spent.

    ``owned`` is the SQL condition "still running under this claim's lease".
    """
    session.rollback()
    limit = current_app.config["DOCUMENT_MAX_ATTEMPTS"]
    if attempts >= limit:
        fail(f"gave up after {attempts} attempts: {reason}")
        return
    log.warning(
        "%s: attempt %d of %d failed (%s); the sweeper will retry", label, attempts, limit, reason
    )
    try:
        session.execute(
            update(model)
            .where(owned)
            .values(
                status=_statuses(model).queued,
                error=f"attempt {attempts} failed: {reason}"[:1000],
                lease_token=None,
                lease_expires_at=None,
                # Never sent since: the next sweep sends it (a minute's pause, on purpose).
                enqueued_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()
    except SQLAlchemyError as error:
        session.rollback()
        # The lease runs out and the sweeper takes the row back: nothing is lost.
        log.error("%s: could not record the failed attempt: %s", label, error)
