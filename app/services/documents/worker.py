"""The worker side: render one queued document, at most once at a time, never lost.

Huey has no acknowledgements, so the database row carries the work's state:
- a worker *claims* the row with one conditional UPDATE (queued, or running with
  an expired lease; attempts left) and gets a lease token; every later write is
  conditional on that token, so a worker that lost its lease changes nothing;
- while it renders, a small thread renews the lease: a long render keeps its
  row, a killed worker stops renewing and the sweeper hands the row on;
- the file's key comes from ids, so a re-run overwrites one file, never adds one.

Outcomes: ready; failed at once for a RenderError (the template is wrong: trying
again would fail again); back to queued for trouble that may pass (storage,
database), until DOCUMENT_MAX_ATTEMPTS, then failed with the reason.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app import metrics
from app.extensions import db
from app.models import (
    Document,
    DocumentStatus,
    OutputFormat,
    Template,
    TemplateKind,
    TemplateVersion,
)
from app.models.base import utcnow
from app.services import audit
from app.services.documents.progress import mark_job_running, record_document_finished
from app.services.rendering import (
    RenderError,
    context_sha256,
    file_name_for,
    load_policy_for_render,
    policy_context,
    render,
)
from app.services.storage import StorageError, document_key, file_store

log = logging.getLogger(__name__)
WORKER = "worker"  # the audit trail's name for the worker process


@dataclass(frozen=True)
class Claim:
    """What the worker holds after a successful claim."""

    document_id: int
    token: str
    attempts: int
    started: float  # time.monotonic() at the claim
    organisation_id: int
    job_id: int | None
    template_id: int
    template_version_id: int
    policy_id: int | None
    format: OutputFormat
    compressed: bool
    encrypted: bool


class UnrenderableError(Exception):
    """A deterministic problem outside the template (policy gone, no key): fail at once."""


class LeaseLostError(Exception):
    """Another worker holds the row now: stop without writing anything."""


def run_render(document_id: int) -> None:
    """Render and store one document if it is ours to do; idempotent.

    Runs in its own session, never the caller's (in immediate mode the caller is
    the request that asked for the document).
    """
    config = current_app.config
    with Session(db.engine) as session:
        claim = claim_document(session, document_id)
        if claim is None:
            return
        keeper = LeaseKeeper(db.engine, claim, config["DOCUMENT_LEASE_SECONDS"])
        try:
            with keeper:
                result = _produce(session, claim, keeper)
        except LeaseLostError:
            log.warning("document %s: lease lost to another worker; its result stands", document_id)
        except UnrenderableError as error:
            _settle_failed(session, claim, str(error))
        except RenderError as error:
            _settle_failed(session, claim, error.message)
        except StorageError as error:
            _settle_retry(session, claim, f"storage: {error}")
        except SQLAlchemyError as error:
            session.rollback()
            _settle_retry(session, claim, f"database: {type(error).__name__}")
        except (KeyboardInterrupt, SystemExit):
            # SIGTERM to the consumer: hand the row back instead of waiting for the lease.
            _settle_retry(session, claim, "interrupted: the worker stopped")
            raise
        except Exception as error:
            log.exception("document %s: unexpected error while rendering", document_id)
            _settle_retry(session, claim, f"unexpected error ({type(error).__name__})")
        else:
            _settle_ready(session, claim, result)


# --- claim -------------------------------------------------------------------------


def claim_document(session: Session, document_id: int) -> Claim | None:
    """Take the row with one conditional UPDATE; None if it is not ours to render."""
    config = current_app.config
    now = utcnow()
    token = secrets.token_hex(16)
    claimed = session.execute(
        update(Document)
        .where(
            Document.id == document_id,
            Document.attempts < config["DOCUMENT_MAX_ATTEMPTS"],
            or_(
                Document.status == DocumentStatus.queued,
                (Document.status == DocumentStatus.running) & (Document.lease_expires_at < now),
            ),
        )
        .values(
            status=DocumentStatus.running,
            attempts=Document.attempts + 1,
            lease_token=token,
            lease_expires_at=now + timedelta(seconds=config["DOCUMENT_LEASE_SECONDS"]),
            started_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        session.rollback()
        return None
    row = session.execute(
        select(
            Document.attempts,
            Document.organisation_id,
            Document.job_id,
            Document.template_id,
            Document.template_version_id,
            Document.policy_id,
            Document.format,
            Document.compressed,
            Document.encrypted,
        ).where(Document.id == document_id)
    ).one()
    mark_job_running(session, row.job_id, now)
    session.commit()
    return Claim(
        document_id=document_id,
        token=token,
        attempts=row.attempts,
        started=time.monotonic(),
        organisation_id=row.organisation_id,
        job_id=row.job_id,
        template_id=row.template_id,
        template_version_id=row.template_version_id,
        policy_id=row.policy_id,
        format=row.format,
        compressed=row.compressed,
        encrypted=row.encrypted,
    )


class LeaseKeeper:
    """Renews the lease every third of its length while the render runs.

    Uses a connection of its own, so it never touches the session of the
    rendering thread. A renewal that finds the token gone marks the lease lost.
    """

    def __init__(self, engine: Engine, claim: Claim, seconds: int) -> None:
        self.engine = engine
        self.claim = claim
        self.seconds = seconds
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"lease-document-{claim.document_id}", daemon=True
        )

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def renew(self) -> bool:
        """Extend the lease now; False when the row is no longer ours."""
        with self.engine.begin() as connection:
            renewed = connection.execute(
                update(Document)
                .where(
                    Document.id == self.claim.document_id,
                    Document.lease_token == self.claim.token,
                    Document.status == DocumentStatus.running,
                )
                .values(lease_expires_at=utcnow() + timedelta(seconds=self.seconds))
            ).rowcount
        if renewed != 1:
            self.lost.set()
        return renewed == 1

    def _run(self) -> None:
        interval = max(self.seconds / 3, 0.2)
        while not self._stop.wait(interval):
            try:
                if not self.renew():
                    return
            except SQLAlchemyError as error:  # the database may come back before the lease ends
                log.warning("document %s: lease renewal failed: %s", self.claim.document_id, error)


# --- the work ----------------------------------------------------------------------


@dataclass(frozen=True)
class Produced:
    stored: Any  # StoredFile
    media_type: str
    engine: str
    file_name: str
    data_sha256: str
    render_seconds: float


def _produce(session: Session, claim: Claim, keeper: LeaseKeeper) -> Produced:
    version = session.get(TemplateVersion, claim.template_version_id)
    template = session.get(Template, claim.template_id)
    if version is None or template is None:
        raise UnrenderableError("the template version of this document no longer exists")
    policy = (
        load_policy_for_render(session, claim.policy_id, claim.organisation_id)
        if claim.policy_id
        else None
    )
    if policy is None:
        raise UnrenderableError("the policy of this document no longer exists")
    locale = template.locale or "fr"
    context = policy_context(policy, locale=locale)
    body, kind, number = version.body, TemplateKind(template.kind), policy.number
    # Nothing of the database is held while the render runs (it may take seconds).
    session.rollback()

    started = time.monotonic()
    rendered = render(
        body,
        claim.format,
        context,
        locale=locale,
        timeout=current_app.config["RENDER_TIMEOUT_SECONDS"],
    )
    render_seconds = time.monotonic() - started

    store = file_store()
    if claim.encrypted and not store.codec.can_encrypt:
        raise UnrenderableError("encryption was asked for but STORAGE_ENCRYPTION_KEYS is not set")
    # Write only while the row is ours, so a worker that lost its lease cannot
    # replace the file of the one that took over.
    if keeper.lost.is_set() or not keeper.renew():
        raise LeaseLostError
    stored = store.put(
        document_key(claim.organisation_id, claim.document_id),
        rendered.data,
        compress=claim.compressed,
        encrypt=claim.encrypted,
    )
    return Produced(
        stored=stored,
        media_type=rendered.media_type,
        engine=rendered.engine,
        file_name=file_name_for(kind, number, claim.document_id, rendered.extension),
        data_sha256=context_sha256(context),
        render_seconds=render_seconds,
    )


# --- outcomes ----------------------------------------------------------------------


def _owned(claim: Claim) -> Any:
    return (
        (Document.id == claim.document_id)
        & (Document.lease_token == claim.token)
        & (Document.status == DocumentStatus.running)
    )


def _duration_ms(claim: Claim) -> int:
    return int((time.monotonic() - claim.started) * 1000)


def _settle_ready(session: Session, claim: Claim, result: Produced) -> None:
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


def _settle_failed(session: Session, claim: Claim, reason: str) -> None:
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


def _settle_retry(session: Session, claim: Claim, reason: str) -> None:
    """Back to queued for the sweeper, or failed once the attempts are spent."""
    session.rollback()
    limit = current_app.config["DOCUMENT_MAX_ATTEMPTS"]
    if claim.attempts >= limit:
        _settle_failed(session, claim, f"gave up after {claim.attempts} attempts: {reason}")
        return
    log.warning(
        "document %s: attempt %d of %d failed (%s); the sweeper will retry",
        claim.document_id,
        claim.attempts,
        limit,
        reason,
    )
    values = {
        "status": DocumentStatus.queued,
        "error": f"attempt {claim.attempts} failed: {reason}"[:1000],
        "lease_token": None,
        "lease_expires_at": None,
        # Never sent since: the next sweep enqueues it (a minute's pause, on purpose).
        "enqueued_at": None,
    }
    try:
        session.execute(
            update(Document)
            .where(_owned(claim))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    except SQLAlchemyError as error:
        session.rollback()
        # The lease runs out and the sweeper takes the row back: nothing is lost.
        log.error("document %s: could not record the failed attempt: %s", claim.document_id, error)


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
            .where(_owned(claim))
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
