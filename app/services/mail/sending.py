"""The worker side: send one queued message, at most one attempt at a time, never lost.

The row is the truth (app/services/leasing.py): a worker claims it under a lease,
reads the attachments back from the store (checked against the sha256 kept when the
message was written), talks to the SMTP server (smtp.py), then settles the row with
one UPDATE conditional on its lease. What each outcome does:
- sent: the server's answer is kept;
- refused for good (5xx), an attachment gone or changed: failed at once, with the reason;
- the server unreachable or saying "later" (4xx): back to queued *without* spending the
  attempt, so an outage of any length delays the message and never fails it;
- anything else (storage, database, the worker stopping): the attempt is spent, and the
  sweeper tries again until DOCUMENT_MAX_ATTEMPTS.
A worker killed after the server took the message but before the row says so leaves
the lease to expire; the next attempt sends the same Message-ID, which lets the
receiving side recognise the repeat.

An agency over MAIL_RATE_PER_MINUTE is not claimed: the row stays queued for the
sweeper's next pass.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Document, DocumentStatus, Message, MessageStatus
from app.models.base import utcnow
from app.services import audit, leasing
from app.services.mail.smtp import Outgoing, RefusedError, UnreachableError, deliver
from app.services.storage import file_store

log = logging.getLogger(__name__)
WORKER = "worker"


class UnsendableError(Exception):
    """A deterministic problem with the message itself (an attachment gone): fail at once."""


class AttachmentPendingError(Exception):
    """An attached document is still being rendered: the message waits, at no attempt's cost."""


@dataclass(frozen=True)
class Claim:
    message_id: int
    token: str
    attempts: int
    organisation_id: int


@dataclass(frozen=True)
class Outcome:
    answer: str
    unreachable: bool = False
    # The attachments as sent, each with the sha256 of the bytes that left.
    attachments: list[dict[str, Any]] | None = None


def run_send(message_id: int) -> None:
    """Send one message if it is ours to send; idempotent (a repeated task is a no-op)."""
    with Session(db.engine) as session:
        label = f"message {message_id}"
        if _over_rate(session, message_id):
            return
        claim = leasing.once_more_on_disconnect(
            session, label, lambda: claim_message(session, message_id)
        )
        if claim is None:
            return
        outcome = leasing.settle_attempt(
            session,
            label,
            lambda: _attempt(session, claim),
            final=(RefusedError, UnsendableError),
            fail=lambda reason: settle_failed(session, claim, reason),
            retry=lambda reason: settle_retry(session, claim, reason),
            retry_unexpected=True,
        )
        if outcome is None:
            return
        if outcome.unreachable:
            settle_later(session, claim, outcome.answer)
        else:
            settle_sent(session, claim, outcome.answer, outcome.attachments)


def claim_message(session: Session, message_id: int) -> Claim | None:
    taken = leasing.take(session, Message, message_id)
    if taken is None:
        return None
    token, _now = taken
    row = session.execute(
        select(Message.attempts, Message.organisation_id).where(Message.id == message_id)
    ).one()
    session.commit()
    return Claim(message_id, token, row.attempts, row.organisation_id)


def _over_rate(session: Session, message_id: int) -> bool:
    """True when the message's agency has sent its minute's worth: leave it queued.

    Its enqueued_at is cleared, so the sweeper sends it again on its next pass.
    """
    per_minute = current_app.config["MAIL_RATE_PER_MINUTE"]
    organisation_id = session.execute(
        select(Message.organisation_id).where(
            Message.id == message_id, Message.status == MessageStatus.queued
        )
    ).scalar()
    if organisation_id is None or per_minute <= 0:
        session.rollback()
        return False
    since = utcnow() - timedelta(minutes=1)
    sent = session.execute(
        select(func.count())
        .select_from(Message)
        .where(
            Message.organisation_id == organisation_id,
            Message.status == MessageStatus.sent,
            Message.finished_at >= since,
        )
    ).scalar_one()
    if sent < per_minute:
        session.rollback()
        return False
    session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == MessageStatus.queued)
        .values(enqueued_at=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    log.info("message %s: agency %s sent %d this minute; waits", message_id, organisation_id, sent)
    return True


def _attempt(session: Session, claim: Claim) -> Outcome:
    message = session.get(Message, claim.message_id)
    if message is None:
        raise UnsendableError("the message no longer exists")
    try:
        files, sent = _attachment_bytes(session, claim.organisation_id, message.attachments or [])
    except AttachmentPendingError as pending:
        session.rollback()
        return Outcome(str(pending), unreachable=True)
    outgoing = Outgoing(
        message_id=message.message_id,
        from_address=message.from_address,
        reply_to=message.reply_to,
        to=_split(message.to_addresses),
        cc=_split(message.cc_addresses),
        subject=message.subject,
        body_text=message.body_text,
        body_html=message.body_html,
        attachments=files,
    )
    # Nothing of the database is held while the SMTP server is talked to. The lease
    # (DOCUMENT_LEASE_SECONDS) outlasts the conversation, whose every step is bounded
    # by MAIL_URL's timeout.
    session.rollback()
    try:
        return Outcome(deliver(outgoing), attachments=sent or None)
    except UnreachableError as error:
        return Outcome(f"SMTP server unavailable: {error}"[:1000], unreachable=True)


def _attachment_bytes(
    session: Session, organisation_id: int, attachments: list[dict[str, Any]]
) -> tuple[list[tuple[str, bytes, str]], list[dict[str, Any]]]:
    """The files to send and what the message records of them (with their sha256).

    The bytes are those recorded when the message was written (UnsendableError if not);
    a document still rendering makes the message wait (AttachmentPendingError).
    """
    files, sent = [], []
    store = file_store()
    for item in attachments:
        document = session.execute(
            select(Document).where(
                Document.id == item["document_id"], Document.organisation_id == organisation_id
            )
        ).scalar()
        if document is not None and document.status in (
            DocumentStatus.queued,
            DocumentStatus.running,
        ):
            raise AttachmentPendingError(f"attachment {document.id} is still being rendered")
        if document is None or not document.storage_key:
            raise UnsendableError(f"attachment {item['file_name']} no longer exists")
        try:
            data = store.get(
                document.storage_key, compressed=document.compressed, encrypted=document.encrypted
            )
        except FileNotFoundError:
            raise UnsendableError(f"attachment {item['file_name']} no longer exists") from None
        digest = hashlib.sha256(data).hexdigest()
        if digest != (item.get("sha256") or document.sha256):
            raise UnsendableError(f"attachment {item['file_name']} changed since it was attached")
        name = document.file_name or item["file_name"]
        media_type = document.media_type or item["media_type"]
        files.append((name, data, media_type))
        sent.append({**item, "file_name": name, "media_type": media_type, "sha256": digest})
    return files, sent


def _split(addresses: str | None) -> list[str]:
    return [part.strip() for part in (addresses or "").split(",") if part.strip()]


# --- outcomes -------------------------------------------------------------------------


def owned(claim: Claim) -> Any:
    return (
        (Message.id == claim.message_id)
        & (Message.lease_token == claim.token)
        & (Message.status == MessageStatus.running)
    )


def settle_sent(
    session: Session, claim: Claim, answer: str, attachments: list[dict[str, Any]] | None = None
) -> None:
    values: dict[str, Any] = {
        "status": MessageStatus.sent,
        "smtp_answer": answer[:1000],
        "error": None,
        "finished_at": utcnow(),
        "lease_token": None,
        "lease_expires_at": None,
    }
    if attachments:
        values["attachments"] = attachments
    _settle(session, claim, values, "message.sent", {"attempts": claim.attempts, "answer": answer})


def settle_failed(session: Session, claim: Claim, reason: str) -> None:
    session.rollback()
    values = {
        "status": MessageStatus.failed,
        "error": reason[:1000],
        "smtp_answer": reason[:1000],
        "finished_at": utcnow(),
        "lease_token": None,
        "lease_expires_at": None,
    }
    changes = {"attempts": claim.attempts, "error": reason[:1000]}
    _settle(session, claim, values, "message.failed", changes)


def settle_retry(session: Session, claim: Claim, reason: str) -> None:
    leasing.requeue_or_fail(
        session,
        Message,
        owned(claim),
        label=f"message {claim.message_id}",
        attempts=claim.attempts,
        reason=reason,
        fail=lambda message: settle_failed(session, claim, message),
    )


def settle_later(session: Session, claim: Claim, reason: str) -> None:
    """Back to queued, the attempt given back: the server being away, or an attachment still
    rendering, is not the message's fault."""
    session.rollback()
    log.warning("message %s: waits (%s)", claim.message_id, reason)
    try:
        session.execute(
            update(Message)
            .where(owned(claim))
            .values(
                status=MessageStatus.queued,
                attempts=Message.attempts - 1,
                error=reason[:1000],
                lease_token=None,
                lease_expires_at=None,
                enqueued_at=None,  # the sweeper's next pass sends it again
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()
    except SQLAlchemyError as error:
        session.rollback()
        log.error("message %s: could not put it back in the queue: %s", claim.message_id, error)


def _settle(
    session: Session, claim: Claim, values: dict[str, Any], action: str, changes: dict[str, Any]
) -> None:
    try:
        written = session.execute(
            update(Message)
            .where(owned(claim))
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if written != 1:
            session.rollback()
            log.warning("message %s: lease lost before it was settled", claim.message_id)
            return
        audit.record(
            session,
            action,
            "Message",
            claim.message_id,
            changes,
            organisation_id=claim.organisation_id,
            actor=audit.Actor(None, WORKER, claim.organisation_id),
        )
        session.commit()
    except SQLAlchemyError as error:
        session.rollback()
        log.error("message %s: could not record %s: %s", claim.message_id, action, error)
