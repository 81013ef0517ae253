"""Claims (sinistres): a loss on a contract, from the client's declaration to its closing.

A :class:`Claim` belongs to a contract and to the term in force on the day of the loss
(the contract's last one when the loss falls outside every term: brokers record such
claims, and ``outside_term`` shows it). The declaration's deadline, its late flag and the
prescription date are computed by app/services/claims/rules.py when the dates change and
kept on the row, so that lists filter and sort on them.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.models.base import ModelValidationError, OrganisationOwned, Timestamped
from app.models.policy import LineOfBusiness
from app.models.validators import clean_text


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # VARCHAR + CHECK, as every enum of the schema (app/models/policy.py).
    return Enum(cls, name=name, native_enum=False, length=30, validate_strings=True)


class ClaimNature(enum.Enum):
    water_damage = "water_damage"
    theft = "theft"
    attempted_theft = "attempted_theft"
    fire = "fire"
    glass = "glass"
    motor_damage = "motor_damage"
    bodily_injury = "bodily_injury"
    liability = "liability"
    natural_disaster = "natural_disaster"
    storm = "storm"
    legal_protection = "legal_protection"
    other = "other"


class ClaimStatus(enum.Enum):
    declared = "declared"
    open = "open"
    expertise = "expertise"
    waiting_documents = "waiting_documents"
    settlement = "settlement"
    closed = "closed"
    reopened = "reopened"


class CloseReason(enum.Enum):
    indemnified = "indemnified"
    no_follow_up = "no_follow_up"
    cover_refused = "cover_refused"


LIABILITY_SHARES = (0, 50, 100)


class Claim(OrganisationOwned, Timestamped, Model):
    """A loss declared on a contract."""

    __tablename__ = "claim"
    __table_args__ = (
        UniqueConstraint("organisation_id", "number", name="uq_claim_organisation_number"),
        CheckConstraint("known_on >= occurred_on", name="ck_claim_known_after_occurred"),
        CheckConstraint(
            "liability_share IS NULL OR liability_share IN (0, 50, 100)",
            name="ck_claim_liability_share",
        ),
        CheckConstraint("estimate IS NULL OR estimate >= 0", name="ck_claim_estimate_positive"),
        CheckConstraint("excess IS NULL OR excess >= 0", name="ck_claim_excess_positive"),
        CheckConstraint(
            "(status = 'closed') = (close_reason IS NOT NULL)", name="ck_claim_closed_has_reason"
        ),
        # The Sinistres list: the agency's claims by status, newest loss first.
        Index("ix_claim_organisation_status_occurred", "organisation_id", "status", "occurred_on"),
        Index("ix_claim_organisation_occurred", "organisation_id", "occurred_on"),
        # A contract's and a client's pages list their claims.
        Index("ix_claim_policy", "policy_id"),
        Index("ix_claim_client", "client_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), nullable=False)  # ours: SIN-2026-00001
    insurer_claim_number: Mapped[str | None] = mapped_column(String(60))
    policy_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("policy.id", ondelete="RESTRICT"), nullable=False
    )
    term_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("term.id", ondelete="SET NULL"))
    # The contract's client, kept so that a client's page lists its claims without a join.
    client_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("client.id", ondelete="RESTRICT"), nullable=False
    )
    nature: Mapped[ClaimNature] = mapped_column(_enum(ClaimNature, "claim_nature"), nullable=False)
    occurred_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    known_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    client_declared_on: Mapped[dt.date | None] = mapped_column(Date)
    insurer_declared_on: Mapped[dt.date | None] = mapped_column(Date)
    # Computed from the dates and the nature (app/services/claims/rules.py).
    declaration_deadline: Mapped[dt.date] = mapped_column(Date, nullable=False)
    declared_late: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=text("false")
    )
    outside_term: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=text("false")
    )
    prescription_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    circumstances: Mapped[str | None] = mapped_column(Text)
    place: Mapped[str | None] = mapped_column(String(200))
    third_parties: Mapped[str | None] = mapped_column(Text)
    liability_share: Mapped[int | None] = mapped_column(SmallInteger)
    expert: Mapped[str | None] = mapped_column(String(200))
    estimate: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    excess: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    status: Mapped[ClaimStatus] = mapped_column(
        _enum(ClaimStatus, "claim_status"), nullable=False, default=ClaimStatus.declared
    )
    close_reason: Mapped[CloseReason | None] = mapped_column(
        _enum(CloseReason, "claim_close_reason")
    )
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    reopened_on: Mapped[dt.date | None] = mapped_column(Date)

    policy = relationship("Policy")
    term = relationship("Term")
    client = relationship("Client")

    def __repr__(self) -> str:
        return self.number


class SettlementKind(enum.Enum):
    indemnity_client = "indemnity_client"  # the insurer indemnifies the client
    indemnity_third_party = "indemnity_third_party"  # ... or a third party (liability)
    refund_request = "refund_request"  # the insurer asks money back (paid too much, no cover)
    insurer_recourse = "insurer_recourse"  # the insurer recovers from the liable third party
    client_recourse = "client_recourse"  # the client recovers (the excess, from the third party)


class ClaimPayment(OrganisationOwned, Timestamped, Model):
    """A sum paid or claimed on a claim: indemnities, refund requests, recourses."""

    __tablename__ = "claim_payment"
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_claim_payment_amount_positive"),
        Index("ix_claim_payment_claim", "claim_id"),
        # The loss ratio sums the indemnities of an agency over a period.
        Index("ix_claim_payment_organisation_paid", "organisation_id", "paid_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("claim.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[SettlementKind] = mapped_column(
        _enum(SettlementKind, "claim_payment_kind"), nullable=False
    )
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    paid_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    # Who pays or receives it (the insurer, the client, the third party's insurer).
    counterparty: Mapped[str | None] = mapped_column(String(200))
    # The money passed through the broker's account (encaissement confié) or not.
    collected_by_broker: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=text("false")
    )
    note: Mapped[str | None] = mapped_column(Text)

    claim = relationship("Claim")


class ClaimDocument(OrganisationOwned, Timestamped, Model):
    """One document the insurer needs for a claim: asked for on a day, received on another."""

    __tablename__ = "claim_document"
    __table_args__ = (
        UniqueConstraint("claim_id", "label", name="uq_claim_document_claim_label"),
        Index("ix_claim_document_claim", "claim_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("claim.id", ondelete="CASCADE"), nullable=False
    )
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    requested_on: Mapped[dt.date | None] = mapped_column(Date)
    received_on: Mapped[dt.date | None] = mapped_column(Date)

    claim = relationship("Claim")


MAX_POSITION = 1000


class ClaimChecklistItem(OrganisationOwned, Timestamped, Model):
    """One document an agency asks for on the claims of a nature, on every line or on one.

    A claim recorded asks for its agency's active items of its nature (those of its
    contract's line first, then the nature-wide ones), or for the shipped defaults when the
    agency configured nothing for that nature and line (app/services/claims/checklist.py).
    """

    __tablename__ = "claim_checklist_item"
    __table_args__ = (
        # Also the index a claim's recording reads through (organisation, nature). A NULL
        # line (every line) is not equal to another NULL here: the service refuses those
        # duplicates (app/services/claims/checklist.py check_item).
        UniqueConstraint(
            "organisation_id",
            "nature",
            "line_of_business",
            "label",
            name="uq_claim_checklist_item",
        ),
        CheckConstraint("position >= 0", name="ck_claim_checklist_item_position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nature: Mapped[ClaimNature] = mapped_column(
        _enum(ClaimNature, "claim_checklist_nature"), nullable=False
    )
    # None: every line of business.
    line_of_business: Mapped[LineOfBusiness | None] = mapped_column(
        _enum(LineOfBusiness, "claim_checklist_line")
    )
    # The claim's document list copies it (claim_document.label, 200 characters).
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    position: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default=text("0")
    )
    active: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=text("true")
    )

    @validates("label")
    def _check_label(self, key: str, value: str | None) -> str | None:
        # Spaces collapsed as a document asked on a claim is (documents.ask): the same text.
        text_value = " ".join(value.split()) if isinstance(value, str) else value
        return clean_text(key, text_value, required=True, max_length=200)

    @validates("position")
    def _check_position(self, key: str, value: int | None) -> int | None:
        # None until the service puts the item last in its list (checklist.check_item).
        if value is not None and not 0 <= value <= MAX_POSITION:
            raise ModelValidationError({key: str(_("Between 0 and 1000."))})
        return value

    def __repr__(self) -> str:
        return self.label or ""
