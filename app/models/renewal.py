"""A contract's life across years: its terms, its renewal cycles and its cancellation.

A policy (the contract) keeps its number for as long as it runs; each insured period
is a :class:`Term`. A :class:`RenewalCycle` follows one échéance of one contract, from
the avis d'échéance to the decision; a :class:`Cancellation` records a client's request
with the ground, dates and legal basis computed by app/services/renewals/rules.py.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import (
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import OrganisationOwned, Timestamped


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # VARCHAR + CHECK, as every enum of the schema (app/models/policy.py).
    return Enum(cls, name=name, native_enum=False, length=20, validate_strings=True)


class TermStatus(enum.Enum):
    """How a term stands: the contract's last term is open; the others say how they ended."""

    open = "open"
    renewed = "renewed"  # followed by the next term
    lapsed = "lapsed"  # not renewed: the contract ended at the échéance
    cancelled = "cancelled"  # ended early by a cancellation


class Term(OrganisationOwned, Timestamped, Model):
    """One insured period of a contract, at its annual premium taxes included."""

    __tablename__ = "term"
    __table_args__ = (
        UniqueConstraint("policy_id", "sequence", name="uq_term_policy_sequence"),
        CheckConstraint("end_date > start_date", name="ck_term_dates_ordered"),
        CheckConstraint("premium >= 0", name="ck_term_premium_positive"),
        Index("ix_term_policy_start", "policy_id", "start_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("policy.id", ondelete="CASCADE"), nullable=False
    )
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)  # 1 for the first term
    start_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    end_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    premium: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    status: Mapped[TermStatus] = mapped_column(
        _enum(TermStatus, "term_status"), nullable=False, default=TermStatus.open
    )

    policy = relationship("Policy", back_populates="terms")

    def covers(self, day: dt.date) -> bool:
        return self.start_date <= day < self.end_date

    def __repr__(self) -> str:
        return f"{self.start_date.isoformat()} – {self.end_date.isoformat()}"


class RenewalDecision(enum.Enum):
    renew = "renew"
    remarket = "remarket"  # place the risk elsewhere: a new contract replaces this one
    not_renew = "not_renew"


class RenewalStatus(enum.Enum):
    open = "open"
    renewed = "renewed"  # the next term exists
    closed = "closed"  # not renewed, replaced or cancelled


class NoticeChannel(enum.Enum):
    post = "post"
    email = "email"
    registered_letter = "registered_letter"
    hand = "hand"


class RenewalCycle(OrganisationOwned, Timestamped, Model):
    """One échéance of one contract: the avis, the proposed premium and the decision."""

    __tablename__ = "renewal_cycle"
    __table_args__ = (
        UniqueConstraint("policy_id", "echeance", name="uq_renewal_cycle_policy_echeance"),
        CheckConstraint(
            "proposed_premium IS NULL OR proposed_premium > 0",
            name="ck_renewal_cycle_proposed_premium_positive",
        ),
        # The Échéances screen: an agency's open cycles by échéance date.
        Index("ix_renewal_cycle_organisation_echeance", "organisation_id", "status", "echeance"),
        # The dashboard: an agency's cycles over a range of échéances, every status
        # (PostgreSQL answers from the index alone; migration 0013).
        Index(
            "ix_renewal_cycle_organisation_due",
            "organisation_id",
            "echeance",
            postgresql_include=["policy_id", "status", "decision"],
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("policy.id", ondelete="CASCADE"), nullable=False
    )
    echeance: Mapped[dt.date] = mapped_column(Date, nullable=False)
    last_day_to_refuse: Mapped[dt.date] = mapped_column(Date, nullable=False)
    avis_sent_on: Mapped[dt.date | None] = mapped_column(Date)
    avis_channel: Mapped[NoticeChannel | None] = mapped_column(
        _enum(NoticeChannel, "notice_channel")
    )
    avis_document_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("document.id", ondelete="SET NULL")
    )
    # Set when the avis was sent late or not at all by the last day (L113-15-1, Chatel).
    chatel_window_end: Mapped[dt.date | None] = mapped_column(Date)
    previous_premium: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    proposed_premium: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # Stored (not computed on read) so the screen filters "premium change above x %".
    change_percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    decision: Mapped[RenewalDecision | None] = mapped_column(
        _enum(RenewalDecision, "renewal_decision")
    )
    decision_reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[RenewalStatus] = mapped_column(
        _enum(RenewalStatus, "renewal_status"), nullable=False, default=RenewalStatus.open
    )
    term_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("term.id", ondelete="SET NULL"))

    policy = relationship("Policy", back_populates="renewal_cycles")
    avis_document = relationship("Document")
    term = relationship("Term")

    def __repr__(self) -> str:
        return self.echeance.isoformat()


class Cancellation(OrganisationOwned, Timestamped, Model):
    """A cancellation of a contract recorded at the client's request, and its legal effect."""

    __tablename__ = "cancellation"
    __table_args__ = (
        CheckConstraint("received_on >= requested_on", name="ck_cancellation_dates_ordered"),
        Index("ix_cancellation_organisation_effective", "organisation_id", "effective_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("policy.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    ground: Mapped[str] = mapped_column(String(30), nullable=False)  # facts.Ground
    requested_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    received_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    effective_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    basis: Mapped[str] = mapped_column(String(60), nullable=False)
    reason: Mapped[str] = mapped_column(String(60), nullable=False)  # facts.Reason
    note: Mapped[str | None] = mapped_column(Text)
    letter_document_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("document.id", ondelete="SET NULL")
    )

    policy = relationship("Policy", back_populates="cancellation")
    letter_document = relationship("Document")
