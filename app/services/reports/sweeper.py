"""The sweeper of report and export jobs: the documents' sweeper, for jobs that work themselves.

Same rules as app/services/documents/sweeper.py (same settings: DOCUMENT_REQUEUE_SECONDS,
DOCUMENT_MAX_ATTEMPTS): a queued job whose message never went out, or went out but
was lost while the queue is empty, is sent again; a running job whose lease expired
belongs to a dead worker and is sent again; a job with no attempt left is failed
with the reason. Sending twice is harmless: the claim lets one message through.
Both queries ride the job's (status, lease_expires_at) index.
"""

from __future__ import annotations

import datetime as dt
import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app import metrics
from app.extensions import db
from app.models import Job, JobStatus
from app.models.base import utcnow
from app.services.documents.sweeper import (
    SWEEP_LIMIT,
    SweepResult,
    _queue_is_empty,
    fail_exhausted,
)
from app.services.reports.jobs import enqueue_jobs
from app.services.reports.runs import TABULAR_KINDS

log = logging.getLogger(__name__)


def sweep_jobs(now: dt.datetime | None = None) -> SweepResult:
    """One pass over abandoned report and export jobs; safe in several processes at once."""
    config = current_app.config
    now = now or utcnow()
    cutoff = now - timedelta(seconds=config["DOCUMENT_REQUEUE_SECONDS"])
    limit = config["DOCUMENT_MAX_ATTEMPTS"]
    with Session(db.engine) as session:
        failed = _give_up(session, now, limit)
        due = _due(session, now, cutoff, limit, _queue_is_empty())
        session.rollback()
        sent = enqueue_jobs(session, due) if due else 0
    result = SweepResult(requeued=sent, failed=failed, not_sent=len(due) - sent)
    if result.requeued or result.failed or result.not_sent:
        log.info("job sweep: %s", result)
    return result


def _due(
    session: Session, now: dt.datetime, cutoff: dt.datetime, limit: int, queue_empty: bool
) -> list[int]:
    tabular = Job.kind.in_(TABULAR_KINDS)
    queued = select(Job.id).where(
        Job.status == JobStatus.queued,
        tabular,
        Job.attempts < limit,
        or_(
            and_(Job.enqueued_at.is_(None), Job.created_at < cutoff),
            and_(Job.enqueued_at < cutoff, queue_empty),
        ),
    )
    expired = select(Job.id).where(
        Job.status == JobStatus.running,
        tabular,
        Job.lease_expires_at < now,
        Job.attempts < limit,
        or_(
            Job.enqueued_at.is_(None),
            Job.enqueued_at <= Job.lease_expires_at,  # not sent since it expired
            and_(Job.enqueued_at < cutoff, queue_empty),
        ),
    )
    ids: list[int] = []
    for query in (expired, queued):
        room = SWEEP_LIMIT - len(ids)
        if room > 0:
            ids += session.execute(query.order_by(Job.id).limit(room)).scalars().all()
    return ids


def _give_up(session: Session, now: dt.datetime, limit: int) -> int:
    exhausted = (
        Job.kind.in_(TABULAR_KINDS)
        & (Job.attempts >= limit)
        & or_(
            Job.status == JobStatus.queued,
            (Job.status == JobStatus.running) & (Job.lease_expires_at < now),
        )
    )
    rows = session.execute(
        select(
            Job.id,
            Job.status,
            Job.attempts,
            Job.lease_expires_at,
            Job.error,
            Job.organisation_id,
            Job.params,
            Job.kind,
        )
        .where(exhausted)
        .order_by(Job.id)
        .limit(SWEEP_LIMIT)
    ).all()
    session.rollback()
    failed = 0
    for row in rows:
        if not fail_exhausted(
            session, Job, row, exhausted, JobStatus.failed, now, f"{row.kind.value}.failed"
        ):
            continue
        failed += 1
        producer = (row.params or {}).get("producer") or "unknown"
        metrics.REPORT_JOBS_TOTAL.labels(producer, JobStatus.failed.value).inc()
    return failed
