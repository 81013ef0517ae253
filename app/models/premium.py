"""Money owed and paid on contracts: premium notices (quittances), payments, allocations.

A :class:`PremiumNotice` asks for one instalment of a term (or a one-off amount); a
:class:`Payment` is money received; an :class:`Allocation` says how much of a payment
settles which notice (a cheque can pay three). Amounts are Decimal, in the notice's
currency, taxes included unless the column says otherwise.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import (
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

CENT = Decimal("0.01")


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # VARCHAR + CHECK, as every enum of the schema (app/models/policy.py).
    return Enum(cls, name=name, native_enum=False, length=30, validate_strings=True)


def _money() -> Numeric:
    return Numeric(12, 2)


class NoticeKind(enum.Enum):
    instalment = "instalment"  # one instalment of a term, by its payment frequency
    one_off = "one_off"  # comptant: a premium asked once
    adjustment = "adjustment"  # an amendment's extra premium
    refund = "refund"  # money owed back to the client (negative total)


class NoticeStatus(enum.Enum):
    draft = "draft"
    issued = "issued"
    partly_paid = "partly_paid"
    paid = "paid"
    unpaid = "unpaid"  # past its due date with something left to pay
    cancelled = "cancelled"


class Collection(enum.Enum):
    """Who collects the premium: the broker (encaissement confié) or the insurer."""

    broker = "broker"
    insurer = "insurer"


class UnpaidStage(enum.Enum):
    """The values of app/services/renewals/unpaid.Stage, stored so lists filter on them."""

    up_to_date = "up_to_date"
    reminder_due = "reminder_due"
    overdue = "overdue"
    formal_notice_possible = "formal_notice_possible"
    in_formal_notice = "in_formal_notice"
    suspended = "suspended"
    cancellable = "cancellable"
    cancelled = "cancelled"
    restored = "restored"


class PremiumNotice(OrganisationOwned, Timestamped, Model):
    """A quittance: what a client owes for a period, due on a date."""

    __tablename__ = "premium_notice"
    __table_args__ = (
        UniqueConstraint("organisation_id", "number", name="uq_premium_notice_organisation_number"),
        # Issuing is idempotent: one instalment n of a term, ever (one-offs have no number).
        UniqueConstraint("term_id", "kind", "instalment", name="uq_premium_notice_term_instalment"),
        CheckConstraint("period_end > period_start", name="ck_premium_notice_period_ordered"),
        # To the cent: SQLite keeps NUMERIC as floats, where 70.62 + 12.71 != 83.33 (0015).
        CheckConstraint(
            "round(total - (amount_before_tax + taxes + fees), 2) = 0",
            name="ck_premium_notice_total_adds_up",
        ),
        # The work lists: an agency's notices by status or unpaid stage, by due date.
        Index("ix_premium_notice_organisation_status_due", "organisation_id", "status", "due_on"),
        Index("ix_premium_notice_organisation_stage_due", "organisation_id", "stage", "due_on"),
        Index("ix_premium_notice_policy_due", "policy_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("policy.id", ondelete="RESTRICT"), nullable=False
    )
    term_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("term.id", ondelete="SET NULL"))
    number: Mapped[str] = mapped_column(String(60), nullable=False)
    kind: Mapped[NoticeKind] = mapped_column(_enum(NoticeKind, "notice_kind"), nullable=False)
    instalment: Mapped[int | None] = mapped_column(Integer)  # 1..n within the term
    period_start: Mapped[dt.date] = mapped_column(Date, nullable=False)
    period_end: Mapped[dt.date] = mapped_column(Date, nullable=False)
    due_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    pay_by: Mapped[dt.date] = mapped_column(Date, nullable=False)  # the last day to pay
    amount_before_tax: Mapped[Decimal] = mapped_column(_money(), nullable=False)
    taxes: Mapped[Decimal] = mapped_column(_money(), nullable=False)
    fees: Mapped[Decimal] = mapped_column(_money(), nullable=False, default=Decimal("0.00"))
    total: Mapped[Decimal] = mapped_column(_money(), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="EUR")
    collection: Mapped[Collection] = mapped_column(
        _enum(Collection, "premium_collection"), nullable=False, default=Collection.broker
    )
    status: Mapped[NoticeStatus] = mapped_column(
        _enum(NoticeStatus, "notice_status"), nullable=False, default=NoticeStatus.issued
    )
    # The sum of live allocations, kept with them (app/services/premiums/payments.py).
    paid_amount: Mapped[Decimal] = mapped_column(_money(), nullable=False, default=Decimal("0.00"))
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    # The L113-3 procedure (app/services/renewals/unpaid.py).
    stage: Mapped[UnpaidStage] = mapped_column(
        _enum(UnpaidStage, "unpaid_stage"), nullable=False, default=UnpaidStage.up_to_date
    )
    reminded_on: Mapped[dt.date | None] = mapped_column(Date)
    relanced_on: Mapped[dt.date | None] = mapped_column(Date)
    formal_notice_sent_on: Mapped[dt.date | None] = mapped_column(Date)
    registered_letter_number: Mapped[str | None] = mapped_column(String(40))
    formal_notice_document_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("document.id", ondelete="SET NULL")
    )
    suspension_on: Mapped[dt.date | None] = mapped_column(Date)
    cancellable_on: Mapped[dt.date | None] = mapped_column(Date)
    restored_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # agency's local time
    cancelled_on: Mapped[dt.date | None] = mapped_column(Date)

    policy = relationship("Policy")
    term = relationship("Term")
    allocations = relationship("Allocation", back_populates="premium_notice")

    @property
    def balance(self) -> Decimal:
        """What is left to pay (0 once paid; negative for a refund not yet paid out)."""
        return (self.total or Decimal(0)) - (self.paid_amount or Decimal(0))

    def __repr__(self) -> str:
        return self.number


class PaymentMethod(enum.Enum):
    sepa_debit = "sepa_debit"
    transfer = "transfer"
    cheque = "cheque"
    card = "card"
    cash = "cash"


class PaymentStatus(enum.Enum):
    received = "received"
    rejected = "rejected"  # a debit or cheque returned unpaid: its allocations no longer count


class Payment(OrganisationOwned, Timestamped, Model):
    """Money received from a client, allocated to one or more notices."""

    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_payment_amount_positive"),
        CheckConstraint("allocated_amount <= amount", name="ck_payment_not_over_allocated"),
        Index("ix_payment_organisation_received", "organisation_id", "received_on"),
        Index("ix_payment_client", "client_id"),
        Index("ix_payment_debit_job", "debit_job_id"),  # a batch's debits, for its file
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("client.id", ondelete="RESTRICT")
    )
    payer: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(_money(), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="EUR")
    received_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    method: Mapped[PaymentMethod] = mapped_column(
        _enum(PaymentMethod, "payment_method"), nullable=False
    )
    reference: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[PaymentStatus] = mapped_column(
        _enum(PaymentStatus, "payment_status"), nullable=False, default=PaymentStatus.received
    )
    # The sum of its allocations; the rest is the client's credit (over-payment).
    allocated_amount: Mapped[Decimal] = mapped_column(
        _money(), nullable=False, default=Decimal("0.00")
    )
    rejected_on: Mapped[dt.date | None] = mapped_column(Date)
    rejection_reason: Mapped[str | None] = mapped_column(String(10))  # e.g. SEPA AM04
    note: Mapped[str | None] = mapped_column(Text)
    # A direct debit: its mandate, and the batch job that wrote its pain.008 file. Plain
    # numbers (migration 0014 says why), kept right by app/services/premiums/debits.py.
    mandate_id: Mapped[int | None] = mapped_column(Integer)
    debit_job_id: Mapped[int | None] = mapped_column(Integer)

    client = relationship("Client")
    allocations = relationship("Allocation", back_populates="payment", cascade="all, delete-orphan")

    @property
    def unallocated(self) -> Decimal:
        return (self.amount or Decimal(0)) - (self.allocated_amount or Decimal(0))

    def __repr__(self) -> str:
        return f"{self.received_on.isoformat()} {self.amount}"


class Allocation(OrganisationOwned, Model):
    """How much of one payment settles one notice."""

    __tablename__ = "allocation"
    __table_args__ = (
        UniqueConstraint("payment_id", "premium_notice_id", name="uq_allocation_payment_notice"),
        CheckConstraint("amount > 0", name="ck_allocation_amount_positive"),
        Index("ix_allocation_premium_notice", "premium_notice_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("payment.id", ondelete="CASCADE"), nullable=False
    )
    premium_notice_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("premium_notice.id", ondelete="RESTRICT"), nullable=False
    )
    amount: Mapped[Decimal] = mapped_column(_money(), nullable=False)

    payment = relationship("Payment", back_populates="allocations")
    premium_notice = relationship("PremiumNotice", back_populates="allocations")
