"""An e-mail in the outbox: what was sent, to whom, about which record, and how it went.

The row is written (and committed) before anything is handed to the queue or to an
SMTP server, with its RFC 5322 Message-ID already chosen: a retry after a worker died
mid-send carries the same Message-ID, so the receiving side can tell it is the same
message. Its delivery follows the lease discipline of documents (app/services/leasing.py).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from flask_appbuilder import Model
from sqlalchemy import JSON, DateTime, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import OrganisationOwned, Timestamped


class MessageStatus(enum.Enum):
    awaiting_approval = "awaiting_approval"  # a bulk send a manager has not approved yet
    queued = "queued"
    running = "running"  # a worker holds its lease and is talking to the SMTP server
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"  # refused at approval


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20, validate_strings=True)


class Message(OrganisationOwned, Timestamped, Model):
    __tablename__ = "message"
    __table_args__ = (
        Index("ix_message_organisation_created", "organisation_id", "created_at"),
        # The sending rate counts an agency's messages sent in the last minute.
        Index(
            "ix_message_organisation_status_finished", "organisation_id", "status", "finished_at"
        ),
        # The sweeper's query, as for documents: queued rows and expired leases.
        Index("ix_message_status_lease", "status", "lease_expires_at"),
        Index("ix_message_policy", "policy_id"),
        Index("ix_message_client", "client_id"),
        Index("ix_message_claim", "claim_id"),
        # One message per task rule and record: the daily run inserts ON CONFLICT DO NOTHING.
        Index("uq_message_rule_key", "rule_id", "rule_key", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[MessageStatus] = mapped_column(
        _enum(MessageStatus, "message_status"), nullable=False, default=MessageStatus.queued
    )
    # "<…@…>", chosen when the row is written and never changed (a retry's signature).
    message_id: Mapped[str] = mapped_column(String(250), nullable=False, unique=True)
    from_address: Mapped[str] = mapped_column(String(320), nullable=False)
    reply_to: Mapped[str | None] = mapped_column(String(254))
    # Comma-separated addresses, as written in the headers.
    to_addresses: Mapped[str] = mapped_column(String(1000), nullable=False)
    cc_addresses: Mapped[str | None] = mapped_column(String(1000))
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    # As rendered when the message was asked for: what the client received.
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str | None] = mapped_column(Text)
    # [{"document_id", "file_name", "media_type", "size", "sha256"}]: the bytes sent are
    # checked against sha256 at sending time.
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    template_version_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("template_version.id", ondelete="RESTRICT"), index=True
    )
    client_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("client.id", ondelete="RESTRICT")
    )
    policy_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("policy.id", ondelete="RESTRICT")
    )
    renewal_cycle_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("renewal_cycle.id", ondelete="RESTRICT"), index=True
    )
    premium_notice_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("premium_notice.id", ondelete="RESTRICT"), index=True
    )
    # Sent from a claim's page (or the API naming the claim): a plain number (migration
    # 0034, as task.claim_id), set only after the claim was found in the sender's agency.
    claim_id: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL")
    )
    # Written by a task rule (app/services/tasks/mailing.py): the rule and the record it is
    # about. Plain numbers (migration 0027); the unique pair keeps a re-run from doubling it.
    rule_id: Mapped[int | None] = mapped_column(Integer)
    rule_key: Mapped[str | None] = mapped_column(String(60))
    approved_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL")
    )
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The server's last answer ("250 2.0.0 Ok: queued as …", "550 5.1.1 unknown user"),
    # or "local outbox" when no MAIL_URL is set.
    smtp_answer: Mapped[str | None] = mapped_column(String(1000))
    error: Mapped[str | None] = mapped_column(String(1000))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # When it was sent (or given up).
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    template_version = relationship("TemplateVersion")
    client = relationship("Client")
    policy = relationship("Policy")
    claim = relationship("Claim", primaryjoin="foreign(Message.claim_id) == Claim.id")
    created_by = relationship("AppUser", foreign_keys=[created_by_id])
    approved_by = relationship("AppUser", foreign_keys=[approved_by_id])

    def __repr__(self) -> str:
        return self.subject or f"message #{self.id}"
