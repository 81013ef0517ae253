"""The sweeper: what Huey's missing acknowledgements would have caught.

Run every minute by a periodic task (and by `flask monassurance sweep-documents`):
- a *queued* row whose message never went out (Redis was down: ``enqueued_at`` is
  empty) is sent once it is DOCUMENT_REQUEUE_SECONDS old; one that went out but
  is still queued that long after, while the queue is empty, lost its message
  (a consumer died between taking it and claiming the row): sent again;
- a *running* row whose lease expired belongs to a worker that died: sent again,
  once per expiry (the next claim takes it);
- a row with no attempt left is marked failed, with the reason;
- a job whose documents have all finished but that is still open (its progress
  write failed) is settled.
Sending twice is harmless: the worker's claim lets one message through.
Both queries ride the (status, lease_expires_at) index.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app import metrics
from app.extensions import db
from app.models import Document, DocumentStatus, Job, JobKind
from app.models.base import utcnow
from app.services import audit
from app.services.documents.progress import UNFINISHED, record_document_finished
from app.services.documents.queueing import enqueue_renders

log = logging.getLogger(__name__)
SWEEP_LIMIT = 1000  # rows handled per run: a huge backlog drains over several runs
SWEEPER = "sweeper"  # the audit trail's name for it
RENDER_JOBS = (JobKind.render, JobKind.batch_render)
WORKING = (DocumentStatus.queued, DocumentStatus.running)


@dataclass(frozen=True)
class SweepResult:
    requeued: int = 0  # messages sent again
    failed: int = 0  # rows given up
    not_sent: int = 0  # due, but the queue refused them (still queued)
    jobs_settled: int = 0

    def __str__(self) -> str:
        text = f"{self.requeued} re-enqueued, {self.failed} failed"
        if self.not_sent:
            text += f", {self.not_sent} could not be enqueued (queue unavailable)"
        if self.jobs_settled:
            text += f", {self.jobs_settled} job(s) settled"
        return text


def sweep(now: dt.datetime | None = None) -> SweepResult:
    """One pass over abandoned documents; safe to run in several processes at once."""
    config = current_app.config
    now = now or utcnow()
    cutoff = now - timedelta(seconds=config["DOCUMENT_REQUEUE_SECONDS"])
    limit = config["DOCUMENT_MAX_ATTEMPTS"]
    with Session(db.engine) as session:
        failed = _give_up(session, now, limit)
        due = _due(session, now, cutoff, limit, _queue_is_empty())
        session.rollback()
        sent = enqueue_renders(session, due) if due else 0
        settled = _settle_open_jobs(session, now)
    result = SweepResult(
        requeued=sent, failed=failed, not_sent=len(due) - sent, jobs_settled=settled
    )
    if result.requeued or result.failed or result.not_sent or result.jobs_settled:
        log.info("document sweep: %s", result)
    return result


def _queue_is_empty() -> bool:
    from app.tasks.queue import huey

    try:
        return huey.pending_count() == 0
    except Exception as error:  # Redis down: enqueueing will fail too, said below
        log.warning("document sweep: cannot read the queue length (%s)", type(error).__name__)
        return False


def _due(
    session: Session, now: dt.datetime, cutoff: dt.datetime, limit: int, queue_empty: bool
) -> list[int]:
    queued = select(Document.id).where(
        Document.status == DocumentStatus.queued,
        Document.attempts < limit,
        or_(
            and_(Document.enqueued_at.is_(None), Document.created_at < cutoff),
            and_(Document.enqueued_at < cutoff, queue_empty),
        ),
    )
    expired = select(Document.id).where(
        Document.status == DocumentStatus.running,
        Document.lease_expires_at < now,
        Document.attempts < limit,
        or_(
            Document.enqueued_at.is_(None),
            Document.enqueued_at <= Document.lease_expires_at,  # not sent since it expired
            and_(Document.enqueued_at < cutoff, queue_empty),
        ),
    )
    ids: list[int] = []
    for query in (expired, queued):
        room = SWEEP_LIMIT - len(ids)
        if room > 0:
            ids += session.execute(query.order_by(Document.id).limit(room)).scalars().all()
    return ids


def _give_up(session: Session, now: dt.datetime, limit: int) -> int:
    """Fail the rows with no attempt left: expired leases, and queued rows over the limit."""
    exhausted = (Document.attempts >= limit) & or_(
        Document.status == DocumentStatus.queued,
        (Document.status == DocumentStatus.running) & (Document.lease_expires_at < now),
    )
    rows = session.execute(
        select(
            Document.id,
            Document.status,
            Document.attempts,
            Document.lease_expires_at,
            Document.error,
            Document.format,
            Document.job_id,
            Document.organisation_id,
        )
        .where(exhausted)
        .order_by(Document.id)
        .limit(SWEEP_LIMIT)
    ).all()
    session.rollback()
    failed = 0
    for row in rows:
        if not fail_exhausted(
            session, Document, row, exhausted, DocumentStatus.failed, now, "document.failed"
        ):
            continue
        failed += 1
        metrics.DOCUMENTS_GENERATED.labels(row.format.value, "failed").inc()
        try:
            record_document_finished(session, row.job_id, now)
        except SQLAlchemyError as error:
            session.rollback()
            log.error("document sweep: job %s progress not recorded: %s", row.job_id, error)
    return failed


def fail_exhausted(
    session: Session,
    model: type,
    row: Any,
    exhausted: Any,
    failed_status: Any,
    now: dt.datetime,
    action: str,
) -> bool:
    """Mark one row with no attempt left ``failed_status``, with the reason, audited, committed.

    ``row`` was read earlier (id, status, attempts, lease_expires_at, error,
    organisation_id); the update is conditional on it, so a worker that claimed
    the row meanwhile keeps it. False when nothing was written.
    """
    if row.status.value == "running":
        when = row.lease_expires_at.strftime("%Y-%m-%d %H:%M:%S")
        reason = f"the worker stopped (its lease expired at {when} UTC)"
    else:
        reason = row.error or "no attempt left"
    message = f"gave up after {row.attempts} attempts: {reason}"[:1000]
    try:
        written = session.execute(
            update(model)
            .where(model.id == row.id, exhausted, model.status == row.status)
            .values(
                status=failed_status,
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


def _settle_open_jobs(session: Session, now: dt.datetime) -> int:
    """Close render jobs left open although none of their documents is still working."""
    still_working = exists().where(Document.job_id == Job.id, Document.status.in_(WORKING))
    job_ids = (
        session.execute(
            select(Job.id)
            .where(Job.status.in_(UNFINISHED), Job.kind.in_(RENDER_JOBS), ~still_working)
            .limit(SWEEP_LIMIT)
        )
        .scalars()
        .all()
    )
    session.rollback()
    for job_id in job_ids:
        try:
            record_document_finished(session, job_id, now)
        except SQLAlchemyError as error:
            session.rollback()
            log.error("document sweep: job %s not settled: %s", job_id, error)
    return len(job_ids)
