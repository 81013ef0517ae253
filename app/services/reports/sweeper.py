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
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import metrics
from app.extensions import db
from app.models import Job, JobStatus
from app.models.base import utcnow
from app.services import leasing
from app.services.documents.sweeper import SweepResult
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
        due = leasing.due_ids(
            session, Job, now, cutoff, limit, leasing.queue_is_empty(), Job.kind.in_(TABULAR_KINDS)
        )
        session.rollback()
        sent = enqueue_jobs(session, due) if due else 0
    result = SweepResult(requeued=sent, failed=failed, not_sent=len(due) - sent)
    if result.requeued or result.failed or result.not_sent:
        log.info("job sweep: %s", result)
    return result


def _give_up(session: Session, now: dt.datetime, limit: int) -> int:
    condition = leasing.exhausted(Job, now, limit, Job.kind.in_(TABULAR_KINDS))
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
        .where(condition)
        .order_by(Job.id)
        .limit(leasing.SWEEP_LIMIT)
    ).all()
    session.rollback()
    failed = 0
    for row in rows:
        action = f"{row.kind.value}.failed"
        if not leasing.fail_exhausted(session, Job, row, condition, now, action):
            continue
        failed += 1
        producer = (row.params or {}).get("producer") or "unknown"
        metrics.REPORT_JOBS_TOTAL.labels(producer, JobStatus.failed.value).inc()
    return failed
