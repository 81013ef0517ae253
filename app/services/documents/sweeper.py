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

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app import metrics
from app.extensions import db
from app.models import Document, DocumentStatus, Job, JobKind
from app.models.base import utcnow
from app.services import leasing
from app.services.documents.progress import UNFINISHED, record_document_finished
from app.services.documents.queueing import enqueue_renders

log = logging.getLogger(__name__)
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
        due = leasing.due_ids(session, Document, now, cutoff, limit, leasing.queue_is_empty())
        session.rollback()
        sent = enqueue_renders(session, due) if due else 0
        settled = _settle_open_jobs(session, now)
    result = SweepResult(
        requeued=sent, failed=failed, not_sent=len(due) - sent, jobs_settled=settled
    )
    if result.requeued or result.failed or result.not_sent or result.jobs_settled:
        log.info("document sweep: %s", result)
    return result


def _give_up(session: Session, now: dt.datetime, limit: int) -> int:
    """Fail the rows with no attempt left: expired leases, and queued rows over the limit."""
    condition = leasing.exhausted(Document, now, limit)
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
        .where(condition)
        .order_by(Document.id)
        .limit(leasing.SWEEP_LIMIT)
    ).all()
    session.rollback()
    failed = 0
    for row in rows:
        if not leasing.fail_exhausted(session, Document, row, condition, now, "document.failed"):
            continue
        failed += 1
        metrics.DOCUMENTS_GENERATED.labels(row.format.value, "failed").inc()
        try:
            record_document_finished(session, row.job_id, now)
        except SQLAlchemyError as error:
            session.rollback()
            log.error("document sweep: job %s progress not recorded: %s", row.job_id, error)
    return failed


def _settle_open_jobs(session: Session, now: dt.datetime) -> int:
    """Close render jobs left open although none of their documents is still working."""
    still_working = exists().where(Document.job_id == Job.id, Document.status.in_(WORKING))
    job_ids = (
        session.execute(
            select(Job.id)
            .where(Job.status.in_(UNFINISHED), Job.kind.in_(RENDER_JOBS), ~still_working)
            .limit(leasing.SWEEP_LIMIT)
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
