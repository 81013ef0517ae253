"""How a render ends: ready, failed, or back to queued for another attempt.

Each outcome is one UPDATE conditional on the claim's lease token, with its
audit row in the same transaction; the job's progress follows in its own.
RenderError and other deterministic problems fail at once (trying again would
fail again); trouble that may pass (storage, database) goes back to queued for
the sweeper until DOCUMENT_MAX_ATTEMPTS, then fails with the reason.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app import metrics
from app.models import Document, DocumentStatus
from app.models.base import utcnow
from app.services import audit, leasing
from app.services.documents.leases import Claim, owned
from app.services.documents.progress import record_document_finished

log = logging.getLogger(__name__)
WORKER = "worker"  # the audit trail's name for the worker process


@dataclass(frozen=True)
class Produced:
    stored: Any  # StoredFile
    media_type: str
    engine: str
    file_name: str
    data_sha256: str
    render_seconds: float


def _duration_ms(claim: Claim) -> int:
    return int((time.monotonic() - claim.started) * 1000)


def settle_ready(session: Session, claim: Claim, result: Produced) -> None:
    now = utcnow()
    stored = result.stored
    values = {
        "status": DocumentStatus.ready,
        "error": None,
        "storage_key": stored.key,
        "size": stored.size,
        "stored_size": stored.stored_size,
        "sha256": stored.sha256,
        "data_sha256": result.data_sha256,
        "engine": result.engine,
        "media_type": result.media_type,
        "file_name": result.file_name,
        "duration_ms": _duration_ms(claim),
        "finished_at": now,
        "lease_token": None,
        "lease_expires_at": None,
    }
    changes = {"attempts": claim.attempts, "sha256": stored.sha256, "size": stored.size}
    if _settle(session, claim, values, "document.ready", changes):
        metrics.DOCUMENTS_GENERATED.labels(claim.format.value, "ready").inc()
        metrics.DOCUMENT_RENDER_SECONDS.labels(claim.format.value, result.engine).observe(
            result.render_seconds
        )


def settle_failed(session: Session, claim: Claim, reason: str) -> None:
    session.rollback()
    values = {
        "status": DocumentStatus.failed,
        "error": reason[:1000],
        "duration_ms": _duration_ms(claim),
        "finished_at": utcnow(),
        "lease_token": None,
        "lease_expires_at": None,
    }
    changes = {"attempts": claim.attempts, "error": reason[:1000]}
    if _settle(session, claim, values, "document.failed", changes):
        metrics.DOCUMENTS_GENERATED.labels(claim.format.value, "failed").inc()


def settle_retry(session: Session, claim: Claim, reason: str) -> None:
    """Back to queued for the sweeper, or failed once the attempts are spent."""
    leasing.requeue_or_fail(
        session,
        Document,
        owned(claim),
        label=f"document {claim.document_id}",
        attempts=claim.attempts,
        reason=reason,
        fail=lambda message: settle_failed(session, claim, message),
    )


def _settle(
    session: Session,
    claim: Claim,
    values: dict[str, Any],
    action: str,
    changes: dict[str, Any],
) -> bool:
    """Write a final status if the lease is still ours, with its audit row; then the job."""
    try:
        written = session.execute(
            update(Document)
            .where(owned(claim))
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if written != 1:
            session.rollback()
            log.warning("document %s: lease lost before it was settled", claim.document_id)
            return False
        audit.record(
            session,
            action,
            "Document",
            claim.document_id,
            changes,
            organisation_id=claim.organisation_id,
            actor=audit.Actor(None, WORKER, claim.organisation_id),
        )
        session.commit()
    except SQLAlchemyError as error:
        session.rollback()
        log.error("document %s: could not record %s: %s", claim.document_id, action, error)
        return False
    try:
        record_document_finished(session, claim.job_id, utcnow())
    except SQLAlchemyError as error:
        session.rollback()
        log.error("job %s: could not record progress: %s", claim.job_id, error)
    return True
