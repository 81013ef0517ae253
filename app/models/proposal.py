"""The advice duty before a sale (DDA, Code des assurances L521-2 and L521-4).

A **proposal** is what the agency puts to a client (or a prospect: a client without a
contract) for one line of business: the needs statement (the answers to that line's
questionnaire, kept as asked), the recommendation and its reasons, and how the sale is
made (in person, at a distance, door to door: the last two open a withdrawal window).
It holds one or more **quotes** (insurer, product, premium, validity), each going
to_price → priced → sent → accepted | refused; an accepted quote still valid converts
into the contract (app/services/advice/conversion.py).

A **compliance document** is the DER (one per client, before the first contract) or the
FIC (one per proposal), generated from a built-in template, then sent, then signed.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
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
from app.models.policy import LineOfBusiness


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # VARCHAR + CHECK, as every enum of the schema (app/models/policy.py).
    return Enum(cls, name=name, native_enum=False, length=20, validate_strings=True)


class SaleChannel(enum.Enum):
    in_person = "in_person"  # at the agency: no withdrawal period
    distance = "distance"  # phone, e-mail, web: L112-2-1
    door_to_door = "door_to_door"  # démarchage at home or work: L112-9


class QuoteStatus(enum.Enum):
    to_price = "to_price"
    priced = "priced"
    sent = "sent"
    accepted = "accepted"
    refused = "refused"


class ComplianceKind(enum.Enum):
    der = "der"  # document d'entrée en relation, per client
    fic = "fic"  # fiche d'information et de conseil, per proposal


class ComplianceStatus(enum.Enum):
    generated = "generated"
    sent = "sent"
    signed = "signed"


class DeliveryMethod(enum.Enum):
    """How a compliance document reached the client, or came back signed."""

    by_hand = "by_hand"
    post = "post"
    email = "email"
    electronic = "electronic"  # an e-signature platform


class NeedsQuestionnaire(OrganisationOwned, Timestamped, Model):
    """An agency's own questions for one line (the built-in ones otherwise)."""

    __tablename__ = "needs_questionnaire"
    __table_args__ = (
        UniqueConstraint("organisation_id", "line_of_business", name="uq_needs_questionnaire_line"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_of_business: Mapped[LineOfBusiness] = mapped_column(
        _enum(LineOfBusiness, "questionnaire_line"), nullable=False
    )
    # One question a line (app/services/advice/questionnaire.py reads them).
    questions: Mapped[str] = mapped_column(Text, nullable=False)

    def __repr__(self) -> str:
        return self.line_of_business.value if self.line_of_business else ""


class Proposal(OrganisationOwned, Timestamped, Model):
    __tablename__ = "proposal"
    __table_args__ = (
        Index("ix_proposal_organisation_created", "organisation_id", "created_at"),
        Index("ix_proposal_client", "client_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("client.id", ondelete="RESTRICT"), nullable=False
    )
    line_of_business: Mapped[LineOfBusiness] = mapped_column(
        _enum(LineOfBusiness, "proposal_line"), nullable=False
    )
    sale_channel: Mapped[SaleChannel] = mapped_column(
        _enum(SaleChannel, "sale_channel"), nullable=False, default=SaleChannel.in_person
    )
    # [{"question": ..., "answer": ...}] in the questionnaire's order, the questions as
    # they were asked: a questionnaire changed later does not rewrite a signed FIC.
    answers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    recommendation: Mapped[str | None] = mapped_column(Text)
    reasons: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL")
    )

    client = relationship("Client")
    created_by = relationship("AppUser")
    quotes = relationship(
        "Quote", back_populates="proposal", order_by="Quote.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"#{self.id}"


class Quote(OrganisationOwned, Timestamped, Model):
    __tablename__ = "quote"
    __table_args__ = (
        Index("ix_quote_proposal", "proposal_id"),
        Index("ix_quote_organisation_status", "organisation_id", "status"),
        Index("ix_quote_policy", "policy_id"),
        CheckConstraint("premium IS NULL OR premium >= 0", name="ck_quote_premium_positive"),
        # Priced and after: the premium is known.
        CheckConstraint(
            "status = 'to_price' OR premium IS NOT NULL", name="ck_quote_premium_when_priced"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("proposal.id", ondelete="CASCADE"), nullable=False
    )
    company_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("company.id", ondelete="RESTRICT"), nullable=False
    )
    product: Mapped[str | None] = mapped_column(String(100))
    premium: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[QuoteStatus] = mapped_column(
        _enum(QuoteStatus, "quote_status"), nullable=False, default=QuoteStatus.to_price
    )
    # Set by the conversion: the contract it became, and its withdrawal window's last day.
    policy_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("policy.id", ondelete="SET NULL")
    )
    converted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    withdrawal_ends_on: Mapped[dt.date | None] = mapped_column(Date)

    proposal = relationship("Proposal", back_populates="quotes")
    company = relationship("Company")
    policy = relationship("Policy")

    def __repr__(self) -> str:
        return f"#{self.id} {self.product or ''}".strip()


class ComplianceDocument(OrganisationOwned, Timestamped, Model):
    __tablename__ = "compliance_document"
    __table_args__ = (
        Index("ix_compliance_document_client", "client_id", "kind"),
        Index("ix_compliance_document_proposal", "proposal_id"),
        Index("ix_compliance_document_organisation_status", "organisation_id", "status"),
        # A FIC states one proposal's needs; a DER is the client's.
        CheckConstraint(
            "(kind = 'fic') = (proposal_id IS NOT NULL)", name="ck_compliance_document_subject"
        ),
        CheckConstraint(
            "(status = 'generated') OR sent_on IS NOT NULL", name="ck_compliance_document_sent"
        ),
        CheckConstraint(
            "(status <> 'signed') OR signed_on IS NOT NULL", name="ck_compliance_document_signed"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[ComplianceKind] = mapped_column(
        _enum(ComplianceKind, "compliance_kind"), nullable=False
    )
    client_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("client.id", ondelete="RESTRICT"), nullable=False
    )
    proposal_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("proposal.id", ondelete="CASCADE")
    )
    # The generated file (the document pipeline's row: queued, ready, its download).
    document_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("document.id", ondelete="SET NULL")
    )
    status: Mapped[ComplianceStatus] = mapped_column(
        _enum(ComplianceStatus, "compliance_status"),
        nullable=False,
        default=ComplianceStatus.generated,
    )
    sent_on: Mapped[dt.date | None] = mapped_column(Date)
    sent_by: Mapped[DeliveryMethod | None] = mapped_column(
        _enum(DeliveryMethod, "compliance_sent_by")
    )
    signed_on: Mapped[dt.date | None] = mapped_column(Date)
    signed_by: Mapped[DeliveryMethod | None] = mapped_column(
        _enum(DeliveryMethod, "compliance_signed_by")
    )

    client = relationship("Client")
    proposal = relationship("Proposal")
    document = relationship("Document")

    def __repr__(self) -> str:
        return f"{self.kind.value.upper() if self.kind else ''} #{self.id}"
