"""Job progress as documents finish, safe when several workers finish at once.

A job's progress is derived from its documents (done = ready or failed), never
counted up by hand, and written by one conditional UPDATE:
- it runs in its own transaction after the document's status is committed, so it
  sees that document;
- ``progress_done`` only grows (GREATEST-like CASE): on PostgreSQL a concurrent
  UPDATE with an older snapshot re-evaluated after ours cannot move it back;
- it touches only unfinished jobs, so the first statement that sees every document
  done settles the job and later ones change nothing.
On SQLite writes are serialized, and each statement sees every commit before it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, case, func, literal, select, update
from sqlalchemy.orm import Session

from app.models import Document, DocumentStatus, Job, JobStatus

UNFINISHED = (JobStatus.queued, JobStatus.running)


def mark_job_running(
    session: Session, job_id: int | None, now: dt.datetime, attempts: int = 1
) -> None:
    """A claimed document starts its job (the first one) and counts its attempt there.

    A render job's attempts are its documents' (the job itself is never leased): the
    most any of them took, so a one-document job says what its document says.
    Runs in the caller's transaction.
    """
    if job_id is None:
        return
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(UNFINISHED))
        .values(
            status=JobStatus.running,
            started_at=func.coalesce(Job.started_at, now),
            attempts=case((Job.attempts < attempts, attempts), else_=Job.attempts),
        )
        .execution_options(synchronize_session=False)
    )


def record_document_finished(session: Session, job_id: int | None, now: dt.datetime) -> None:
    """Recount the job's finished documents and settle it when all are; commits."""
    if job_id is None:
        return
    finished = _count(job_id, (DocumentStatus.ready, DocumentStatus.failed))
    failed = _count(job_id, (DocumentStatus.failed,))
    done = case((finished > Job.progress_done, finished), else_=Job.progress_done)
    complete = done >= Job.progress_total
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(UNFINISHED))
        .values(
            progress_done=done,
            status=case(
                (and_(complete, failed > 0), literal(JobStatus.failed.value)),
                (complete, literal(JobStatus.succeeded.value)),
                else_=literal(JobStatus.running.value),
            ),
            started_at=func.coalesce(Job.started_at, now),
            finished_at=case((complete, now), else_=None),
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    _explain_failure(session, job_id)


def _explain_failure(session: Session, job_id: int) -> None:
    """Say how many documents failed, once the job has failed (all documents settled)."""
    row = session.execute(
        select(Job.progress_total).where(
            Job.id == job_id, Job.status == JobStatus.failed, Job.error.is_(None)
        )
    ).first()
    if row is None:
        return
    failed = session.execute(
        select(func.count())
        .select_from(Document)
        .where(Document.job_id == job_id, Document.status == DocumentStatus.failed)
    ).scalar_one()
    total = row[0]
    message = "the document failed" if total == 1 else f"{failed} of {total} documents failed"
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.failed, Job.error.is_(None))
        .values(error=message)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def _count(job_id: int, statuses: tuple[DocumentStatus, ...]):  # noqa: ANN202 (SQL expression)
    return (
        select(func.count())
        .select_from(Document)
        .where(Document.job_id == job_id, Document.status.in_(statuses))
        .scalar_subquery()
    )
