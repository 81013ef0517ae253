"""The complaints register (ACPR recommendation 2022-R-01).

One row per complaint a client made to the agency: when and how it came, what it is
about, the contract or claim it concerns, and the two legal deadlines (acknowledge, answer)
with the days they were kept. The deadlines are computed from ``received_on`` by
app/services/compliance/deadlines.py and stored, so the register and its tasks read
them without recomputing the holidays; each has its task in the work queue.
"""

from __future__ import annotations

import datetime as dt
import enum

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import OrganisationOwned, Timestamped


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # VARCHAR + CHECK, as every enum of the schema (app/models/policy.py).
    return Enum(cls, name=name, native_enum=False, length=30, validate_strings=True)


class ComplaintChannel(enum.Enum):
    letter = "letter"
    email = "email"
    phone = "phone"
    in_person = "in_person"
    web = "web"


class ComplaintOutcome(enum.Enum):
    upheld = "upheld"  # the client is right: satisfied in full
    partly_upheld = "partly_upheld"
    rejected = "rejected"
    withdrawn = "withdrawn"  # the client gave up before the answer


class Complaint(OrganisationOwned, Timestamped, Model):
    __tablename__ = "complaint"
    __table_args__ = (
        # The register and the yearly summary read an agency's complaints by date.
        Index("ix_complaint_organisation_received", "organisation_id", "received_on"),
        Index("ix_complaint_client", "client_id"),
        Index("ix_complaint_policy", "policy_id"),
        Index("ix_complaint_claim", "claim_id"),
        CheckConstraint(
            "acknowledged_on IS NULL OR acknowledged_on >= received_on",
            name="ck_complaint_acknowledged_after_receipt",
        ),
        CheckConstraint(
            "answered_on IS NULL OR answered_on >= received_on",
            name="ck_complaint_answered_after_receipt",
        ),
        # An answer says how it ends; an outcome is only known once answered.
        CheckConstraint(
            "(answered_on IS NULL) = (outcome IS NULL)", name="ck_complaint_outcome_with_answer"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    channel: Mapped[ComplaintChannel] = mapped_column(
        _enum(ComplaintChannel, "complaint_channel"), nullable=False
    )
    client_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("client.id", ondelete="RESTRICT"), nullable=False
    )
    subject: Mapped[str] = mapped_column(Text, nullable=False)
    policy_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("policy.id", ondelete="RESTRICT")
    )
    claim_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("claim.id", ondelete="RESTRICT")
    )
    acknowledgement_due_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    acknowledged_on: Mapped[dt.date | None] = mapped_column(Date)
    answer_due_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    answered_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[ComplaintOutcome | None] = mapped_column(
        _enum(ComplaintOutcome, "complaint_outcome")
    )
    # The answer must name the mediator the client may turn to (2022-R-01 §3).
    mediator_named: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=text("false")
    )
    # The two deadlines' tasks: closed when the deadline is kept.
    acknowledgement_task_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("task.id", ondelete="SET NULL")
    )
    answer_task_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("task.id", ondelete="SET NULL")
    )

    client = relationship("Client")
    policy = relationship("Policy")
    claim = relationship("Claim")
    acknowledgement_task = relationship("Task", foreign_keys=[acknowledgement_task_id])
    answer_task = relationship("Task", foreign_keys=[answer_task_id])

    def __repr__(self) -> str:
        return f"{self.received_on} {self.subject[:40]}"
