"""Claiming a document and keeping its lease while it renders.

A worker *claims* a row with one conditional UPDATE (queued, or running with an
expired lease; attempts left) and gets a lease token. Every later write is
conditional on that token, so a worker that lost its lease changes nothing.
While it renders, a small thread renews the lease: a long render keeps its row,
and a killed worker stops renewing, so the sweeper hands the row on.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.models import Document, DocumentStatus, OutputFormat
from app.models.base import utcnow
from app.services import leasing
from app.services.documents.progress import mark_job_running

log = logging.getLogger(__name__)


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


def claim_document(session: Session, document_id: int) -> Claim | None:
    """Take the row with one conditional UPDATE; None if it is not ours to render."""
    taken = leasing.take(session, Document, document_id)
    if taken is None:
        return None
    token, now = taken
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
    mark_job_running(session, row.job_id, now, row.attempts)
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

    def __init__(self, engine: Engine, claim: Any, seconds: int) -> None:
        self.engine = engine
        self.claim = claim
        self.seconds = seconds
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # A job that works itself (app/services/reports/runs.py) holds its lease the same
    # way: a subclass names its row and its renewal.
    def name(self) -> str:
        return f"lease-document-{self.claim.document_id}"

    def renewal(self) -> Any:
        """The UPDATE extending the lease, matching only while the row is ours."""
        return (
            update(Document)
            .where(
                Document.id == self.claim.document_id,
                Document.lease_token == self.claim.token,
                Document.status == DocumentStatus.running,
            )
            .values(lease_expires_at=utcnow() + timedelta(seconds=self.seconds))
        )

    def __enter__(self) -> LeaseKeeper:
        # A thread per entry: an attempt's work may run twice (leasing.once_more_on_disconnect).
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name(), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def renew(self) -> bool:
        """Extend the lease now; False when the row is no longer ours."""
        with self.engine.begin() as connection:
            renewed = connection.execute(self.renewal()).rowcount
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
                log.warning("%s: lease renewal failed: %s", self.name(), error)


# --- the work ----------------------------------------------------------------------


def owned(claim: Claim) -> Any:
    """SQL condition: the row is still running under this claim's lease."""
    return (
        (Document.id == claim.document_id)
        & (Document.lease_token == claim.token)
        & (Document.status == DocumentStatus.running)
    )
