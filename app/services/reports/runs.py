"""The worker side of a tabular job: claim it, write the file, deliver one Document.

Like a document render (app/services/documents/worker.py), the Job row carries
the state, since Huey has no acknowledgements: the worker claims the row under
a lease (renewed by documents.leases.LeaseKeeper, subclassed here), writes the
file to a temporary path while progress is recorded, then in ONE transaction
adds the Document row, stores the bytes under that document's key and marks the
job succeeded — conditional on still holding the lease. A failure anywhere
before that commit leaves no Document row (and, at worst, a stored file with no
row, which the purge removes as an orphan). A second run of a finished job is
refused by the claim, so a job never delivers two documents.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app import metrics
from app.extensions import db
from app.models import Document, DocumentStatus, Job, JobKind, JobStatus, OutputFormat
from app.models.base import utcnow
from app.services import audit, leasing
from app.services.documents.leases import LeaseKeeper
from app.services.reports.tabular import (
    MEDIA_TYPES,
    FileOutput,
    Tabular,
    TabularError,
    TabularRequest,
    registered,
    write_tabular,
)
from app.services.storage import document_key, file_store
from app.services.timezones import organisation_zone, reading_in

log = logging.getLogger(__name__)
TABULAR_KINDS = (JobKind.report, JobKind.export)
PROGRESS_ROWS = 5000  # progress written at most every this many rows...
PROGRESS_SECONDS = 1.0  # ...and at least this often while rows flow
WORKER = "report worker"  # the audit trail's name for it


@dataclass(frozen=True)
class JobClaim:
    job_id: int
    token: str
    attempts: int
    organisation_id: int
    owner_id: int | None
    kind: JobKind
    params: dict[str, Any]

    @property
    def producer(self) -> str:
        return str(self.params.get("producer", ""))


class JobLeaseKeeper(LeaseKeeper):
    """documents.leases.LeaseKeeper, renewing a Job's lease instead of a Document's."""

    def name(self) -> str:
        return f"lease-job-{self.claim.job_id}"

    def renewal(self) -> Any:
        return (
            update(Job)
            .where(owned(self.claim))
            .values(lease_expires_at=utcnow() + timedelta(seconds=self.seconds))
        )


def owned(claim: JobClaim) -> Any:
    """SQL condition: the job is still running under this claim's lease."""
    return (
        (Job.id == claim.job_id)
        & (Job.lease_token == claim.token)
        & (Job.status == JobStatus.running)
    )


def claim_job(session: Session, job_id: int) -> JobClaim | None:
    """Take the job with one conditional UPDATE; None if it is not ours to run."""
    taken = leasing.take(
        session, Job, job_id, Job.kind.in_(TABULAR_KINDS), Job.organisation_id.is_not(None)
    )
    if taken is None:
        return None
    token, _now = taken
    row = session.execute(
        select(Job.attempts, Job.organisation_id, Job.owner_id, Job.kind, Job.params).where(
            Job.id == job_id
        )
    ).one()
    session.commit()
    return JobClaim(
        job_id, token, row.attempts, row.organisation_id, row.owner_id, row.kind, row.params or {}
    )


def run_tabular_job(job_id: int) -> None:
    """Run a queued report or export job if it is ours to do; idempotent."""
    with Session(db.engine) as session:
        claim = leasing.once_more_on_disconnect(
            session, f"job {job_id}", lambda: claim_job(session, job_id)
        )
        if claim is None:
            return
        job_type = claim.producer or "unknown"
        metrics.REPORT_JOBS_ACTIVE.labels(job_type).inc()
        keeper = JobLeaseKeeper(db.engine, claim, current_app.config["DOCUMENT_LEASE_SECONDS"])

        def produce_and_deliver() -> int:
            with keeper, _scratch_file() as scratch:
                return _produce_and_deliver(session, claim, keeper, scratch)

        try:
            document_id = leasing.settle_attempt(
                session,
                f"job {job_id} ({job_type})",
                produce_and_deliver,
                final=(TabularError,),
                fail=lambda reason: settle_failed(session, claim, reason),
                retry=lambda reason: settle_retry(session, claim, reason),
                # A producer's bug would fail again: no second attempt.
                retry_unexpected=False,
            )
            if document_id is not None:
                log.info("job %s: %s delivered as document %s", job_id, job_type, document_id)
        finally:
            metrics.REPORT_JOBS_ACTIVE.labels(job_type).dec()


def _produce_and_deliver(
    session: Session, claim: JobClaim, keeper: JobLeaseKeeper, scratch: Path
) -> int:
    producer = registered(claim.producer)
    if producer is None:
        raise TabularError(f"unknown producer {claim.producer!r}")
    output = OutputFormat(claim.params.get("format", OutputFormat.xlsx.value))
    request = TabularRequest(
        organisation_id=claim.organisation_id,
        params=dict(claim.params.get("params") or {}),
        owner_id=claim.owner_id,
        job_id=claim.job_id,
    )
    # The requester's language, and the organisation's time zone for its times.
    zone = organisation_zone(session, claim.organisation_id)
    with force_locale(claim.params.get("locale") or "fr"), reading_in(zone):
        tabular = producer.produce(session, request)
        if isinstance(tabular, FileOutput):
            output = tabular.output
            progress = _ProgressWriter(claim, keeper, tabular.total)
            progress.write(0)
            tabular.write(scratch, progress)
        else:
            total = sum(sheet.total for sheet in tabular.sheets)
            progress = _ProgressWriter(claim, keeper, total)
            progress.write(0)
            write_tabular(tabular, output, scratch, progress)
        progress.write(progress.done)  # the last rows, whatever the throttle said
    session.rollback()  # nothing of the database held while the file is stored
    return _deliver(session, claim, keeper, tabular, output, scratch)


def _deliver(
    session: Session,
    claim: JobClaim,
    keeper: JobLeaseKeeper,
    tabular: Tabular | FileOutput,
    output: OutputFormat,
    scratch: Path,
) -> int:
    """Document row + stored file + job succeeded, all or nothing."""
    if keeper.lost.is_set() or not keeper.renew():
        raise leasing.LeaseLostError
    now = utcnow()
    file_name = f"{tabular.file_stem}-{now:%Y-%m-%d}.{output.value}"
    try:
        document = Document(
            organisation_id=claim.organisation_id,
            job_id=claim.job_id,
            created_by_id=claim.owner_id,
            format=output,
            status=DocumentStatus.running,
            attempts=claim.attempts,  # the job's attempts made this file: both pages agree
            compressed=False,
            encrypted=False,
            file_name=file_name,
            media_type=MEDIA_TYPES[output],
            started_at=now,
        )
        session.add(document)
        session.flush()
        stored = file_store().put_file(
            document_key(claim.organisation_id, document.id), scratch, compress=False, encrypt=False
        )
        document.status = DocumentStatus.ready
        document.storage_key = stored.key
        document.size = stored.size
        document.stored_size = stored.stored_size
        document.sha256 = stored.sha256
        document.finished_at = utcnow()
        written = session.execute(
            update(Job)
            .where(owned(claim), Job.document_id.is_(None))
            .values(
                status=JobStatus.succeeded,
                document_id=document.id,
                error=None,
                finished_at=document.finished_at,
                lease_token=None,
                lease_expires_at=None,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if written != 1:
            raise leasing.LeaseLostError
        audit.record(
            session,
            f"{claim.kind.value}.delivered",
            "Job",
            claim.job_id,
            {"producer": claim.producer, "document_id": document.id, "size": stored.size},
            organisation_id=claim.organisation_id,
            actor=audit.Actor(None, WORKER, claim.organisation_id),
        )
        document_id = document.id
        session.commit()
    except BaseException:
        session.rollback()
        raise
    metrics.REPORT_JOBS_TOTAL.labels(claim.producer, JobStatus.succeeded.value).inc()
    return document_id


class _ProgressWriter:
    """Writes rows done / total to the job, throttled, on its own connection.

    Each write is conditional on the lease (so it also tells when the job was
    lost) and extends it: rows flowing are a sign of life.
    """

    def __init__(self, claim: JobClaim, keeper: JobLeaseKeeper, total: int) -> None:
        self.claim = claim
        self.keeper = keeper
        self.total = total
        self.done = 0
        self._written_rows = 0
        self._written_at = time.monotonic()

    def __call__(self, done: int) -> None:
        self.done = done
        if (
            done - self._written_rows >= PROGRESS_ROWS
            or time.monotonic() - self._written_at >= PROGRESS_SECONDS
        ):
            self.write(done)

    def write(self, done: int) -> None:
        if self.keeper.lost.is_set():
            raise leasing.LeaseLostError
        # A sheet may yield more rows than it announced: the total never falls behind.
        total = max(self.total, done)
        with db.engine.begin() as connection:
            written = connection.execute(
                update(Job)
                .where(owned(self.claim))
                .values(
                    progress_done=done,
                    progress_total=total,
                    lease_expires_at=utcnow() + timedelta(seconds=self.keeper.seconds),
                )
            ).rowcount
        if written != 1:
            raise leasing.LeaseLostError
        self._written_rows = done
        self._written_at = time.monotonic()


@contextmanager
def _scratch_file() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="monassurance-report-") as folder:
        yield Path(folder) / "output"


# --- outcomes ----------------------------------------------------------------------


def settle_failed(session: Session, claim: JobClaim, reason: str) -> None:
    """The job failed for good, with the reason; no document."""
    session.rollback()
    message = reason[:1000]
    try:
        written = session.execute(
            update(Job)
            .where(owned(claim))
            .values(
                status=JobStatus.failed,
                error=message,
                finished_at=utcnow(),
                lease_token=None,
                lease_expires_at=None,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if written != 1:
            session.rollback()
            return
        audit.record(
            session,
            f"{claim.kind.value}.failed",
            "Job",
            claim.job_id,
            {"producer": claim.producer, "attempts": claim.attempts, "error": message},
            organisation_id=claim.organisation_id,
            actor=audit.Actor(None, WORKER, claim.organisation_id),
        )
        session.commit()
    except SQLAlchemyError as error:
        session.rollback()
        log.error("job %s: could not record its failure: %s", claim.job_id, error)
        return
    metrics.REPORT_JOBS_TOTAL.labels(claim.producer or "unknown", JobStatus.failed.value).inc()


def settle_retry(session: Session, claim: JobClaim, reason: str) -> None:
    """Back to queued for the sweeper, or failed once the attempts are spent."""
    leasing.requeue_or_fail(
        session,
        Job,
        owned(claim),
        label=f"job {claim.job_id}",
        attempts=claim.attempts,
        reason=reason,
        fail=lambda message: settle_failed(session, claim, message),
    )
