"""The outbox's sweeper, run every minute: what Huey's missing acknowledgements would catch.

Queued messages whose task never went out (Redis was down), was lost, or that waited
for the agency's sending rate or for the SMTP server are sent again; a running message
whose lease expired (its worker died) is sent again once per expiry; messages with no
attempt left fail with the reason. Sending twice is harmless: the claim lets one through.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Message
from app.models.base import utcnow
from app.services import leasing
from app.services.mail.outbox import enqueue_messages

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepResult:
    requeued: int = 0
    failed: int = 0
    not_sent: int = 0


def sweep(now: dt.datetime | None = None) -> SweepResult:
    """One pass over the outbox; safe to run in several processes at once."""
    config = current_app.config
    now = now or utcnow()
    cutoff = now - timedelta(seconds=config["DOCUMENT_REQUEUE_SECONDS"])
    limit = config["DOCUMENT_MAX_ATTEMPTS"]
    with Session(db.engine) as session:
        failed = _give_up(session, now, limit)
        due = leasing.due_ids(session, Message, now, cutoff, limit, leasing.queue_is_empty())
        session.rollback()
        sent = enqueue_messages(session, due) if due else 0
    result = SweepResult(requeued=sent, failed=failed, not_sent=len(due) - sent)
    if result != SweepResult():
        log.info("outbox sweep: %s", result)
    return result


def _give_up(session: Session, now: dt.datetime, limit: int) -> int:
    condition = leasing.exhausted(Message, now, limit)
    rows = session.execute(
        select(
            Message.id,
            Message.status,
            Message.attempts,
            Message.lease_expires_at,
            Message.error,
            Message.organisation_id,
        )
        .where(condition)
        .order_by(Message.id)
        .limit(leasing.SWEEP_LIMIT)
    ).all()
    session.rollback()
    return sum(
        leasing.fail_exhausted(session, Message, row, condition, now, "message.failed")
        for row in rows
    )
