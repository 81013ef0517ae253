"""Commissions: the rules an agency negotiated with each insurer, the commission it
expects on every premium notice, and the insurers' statements reconciled against them.

A :class:`CommissionRule` gives a rate on the premium before tax (first contract year
and later years) or a fixed amount per notice, for an insurer and optionally a line of
business, a product or one contract. An :class:`ExpectedCommission` is what one rule
yields on one notice; a :class:`CommissionStatement` is an insurer's file of what it
paid, its :class:`CommissionStatementLine` rows each carrying a reconciliation result.
Rates are percentages (15.00 = 15 %); money is Decimal.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _
from sqlalchemy import (
    JSON,
    Boolean,
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

from app.models.base import ModelValidationError, OrganisationOwned, Timestamped
from app.models.policy import LineOfBusiness


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # VARCHAR + CHECK, as every enum of the schema (app/models/policy.py).
    return Enum(cls, name=name, native_enum=False, length=30, validate_strings=True)


def _money() -> Numeric:
    return Numeric(12, 2)


def _rate() -> Numeric:
    return Numeric(5, 2)  # a percentage, 0.00 to 100.00


class CommissionBasis(enum.Enum):
    rate = "rate"  # a percentage of the premium before tax
    fixed = "fixed"  # a fixed amount per notice


class CommissionDue(enum.Enum):
    """When the insurer owes the commission: once the notice is issued, or once paid."""

    on_issue = "on_issue"
    on_payment = "on_payment"


class CommissionRule(OrganisationOwned, Timestamped, Model):
    """A negotiated commission; the most specific valid rule applies (contract > product >
    line of business > insurer, app/services/commissions/rules.py)."""

    __tablename__ = "commission_rule"
    __table_args__ = (
        CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name="ck_commission_rule_dates"
        ),
        Index("ix_commission_rule_organisation_company", "organisation_id", "company_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("company.id", ondelete="RESTRICT"), nullable=False
    )
    line_of_business: Mapped[LineOfBusiness | None] = mapped_column(
        _enum(LineOfBusiness, "line_of_business")
    )
    product: Mapped[str | None] = mapped_column(String(100))
    policy_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("policy.id", ondelete="CASCADE")
    )
    basis: Mapped[CommissionBasis] = mapped_column(
        _enum(CommissionBasis, "commission_basis"), nullable=False, default=CommissionBasis.rate
    )
    first_year_rate: Mapped[Decimal | None] = mapped_column(_rate())
    later_years_rate: Mapped[Decimal | None] = mapped_column(_rate())
    fixed_amount: Mapped[Decimal | None] = mapped_column(_money())
    due: Mapped[CommissionDue] = mapped_column(
        _enum(CommissionDue, "commission_due"), nullable=False, default=CommissionDue.on_issue
    )
    valid_from: Mapped[dt.date] = mapped_column(Date, nullable=False)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    # Claw-back on early cancellation: the share (%) of the commission of the contract
    # year in which the contract ends that the insurer takes back, for years 1 and 2.
    clawback_first_year: Mapped[Decimal | None] = mapped_column(_rate())
    clawback_second_year: Mapped[Decimal | None] = mapped_column(_rate())
    note: Mapped[str | None] = mapped_column(Text)

    company = relationship("Company")
    policy = relationship("Policy")

    def check_invariants(self) -> None:
        """A rate rule has a first-year rate, a fixed rule an amount; percentages 0-100."""
        errors: dict[str, str] = {}
        if self.basis is CommissionBasis.fixed:
            if self.fixed_amount is None or self.fixed_amount < 0:
                errors["fixed_amount"] = str(_("Enter the fixed commission, 0 or more."))
        elif self.first_year_rate is None:
            errors["first_year_rate"] = str(_("Enter the first-year rate (a percentage)."))
        for key in (
            "first_year_rate",
            "later_years_rate",
            "clawback_first_year",
            "clawback_second_year",
        ):
            value = getattr(self, key)
            if value is not None and not Decimal(0) <= value <= Decimal(100):
                errors.setdefault(key, str(_("Enter a percentage between 0 and 100.")))
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            errors["valid_to"] = str(_("The end of validity comes before its start."))
        if errors:
            raise ModelValidationError(errors)

    def __repr__(self) -> str:
        return f"{self.company} {self.line_of_business.value if self.line_of_business else ''}"


class ExpectedStatus(enum.Enum):
    expected = "expected"
    received = "received"
    differs = "differs"  # on a statement, with another amount
    cancelled = "cancelled"  # its notice was cancelled, or another rule now applies
    clawed_back = "clawed_back"  # the contract ended early: part of it is owed back


class ExpectedCommission(OrganisationOwned, Timestamped, Model):
    """The commission one rule yields on one premium notice."""

    __tablename__ = "expected_commission"
    __table_args__ = (
        UniqueConstraint("premium_notice_id", "rule_id", name="uq_expected_commission_notice_rule"),
        # Reconciliation reads an insurer's expectations by period; the dashboard by month.
        Index(
            "ix_expected_commission_organisation_company_period",
            "organisation_id",
            "company_id",
            "period_start",
        ),
        # The dashboard reads every insurer's over a period (app/services/dashboard/commissions.py).
        Index("ix_expected_commission_organisation_period", "organisation_id", "period_start"),
        Index("ix_expected_commission_policy", "policy_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    premium_notice_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("premium_notice.id", ondelete="CASCADE"), nullable=False
    )
    rule_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("commission_rule.id", ondelete="CASCADE"), nullable=False
    )
    # Copied from the notice and its contract: statements are matched on them.
    policy_id: Mapped[int] = mapped_column(Integer, nullable=False)
    company_id: Mapped[int] = mapped_column(Integer, nullable=False)
    period_start: Mapped[dt.date] = mapped_column(Date, nullable=False)
    first_year: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    base_amount: Mapped[Decimal] = mapped_column(_money(), nullable=False)
    rate: Mapped[Decimal | None] = mapped_column(_rate())
    amount: Mapped[Decimal] = mapped_column(_money(), nullable=False)
    due_on: Mapped[dt.date | None] = mapped_column(Date)  # None: due on a payment not made yet
    status: Mapped[ExpectedStatus] = mapped_column(
        _enum(ExpectedStatus, "expected_commission_status"),
        nullable=False,
        default=ExpectedStatus.expected,
    )
    received_amount: Mapped[Decimal | None] = mapped_column(_money())
    clawback_amount: Mapped[Decimal | None] = mapped_column(_money())

    premium_notice = relationship("PremiumNotice")
    rule = relationship("CommissionRule")

    def __repr__(self) -> str:
        return f"{self.premium_notice.number} {self.amount}" if self.premium_notice else "-"


class StatementStatus(enum.Enum):
    reconciled = "reconciled"


class LineResult(enum.Enum):
    matched = "matched"
    amount_differs = "amount_differs"
    missing = "missing"  # expected, but not on the statement
    unknown = "unknown"  # on the statement, but matches no expected commission


class CommissionColumnMapping(OrganisationOwned, Timestamped, Model):
    """How one insurer's statements name their columns, saved at the first import."""

    __tablename__ = "commission_column_mapping"
    __table_args__ = (
        UniqueConstraint(
            "organisation_id", "company_id", name="uq_commission_column_mapping_company"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("company.id", ondelete="CASCADE"), nullable=False
    )
    # field (policy_number, notice_reference, period, premium, commission, sign) -> header
    columns: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


class CommissionStatement(OrganisationOwned, Timestamped, Model):
    """An insurer's statement of the commissions it paid for a period."""

    __tablename__ = "commission_statement"
    __table_args__ = (
        # The same file twice is refused (app/services/commissions/statements.py).
        UniqueConstraint("organisation_id", "sha256", name="uq_commission_statement_file"),
        Index("ix_commission_statement_organisation_company", "organisation_id", "company_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("company.id", ondelete="RESTRICT"), nullable=False
    )
    period_start: Mapped[dt.date] = mapped_column(Date, nullable=False)
    period_end: Mapped[dt.date] = mapped_column(Date, nullable=False)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[StatementStatus] = mapped_column(
        _enum(StatementStatus, "commission_statement_status"),
        nullable=False,
        default=StatementStatus.reconciled,
    )
    tolerance: Mapped[Decimal] = mapped_column(_money(), nullable=False)
    line_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total_commission: Mapped[Decimal] = mapped_column(_money(), nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(Integer)

    company = relationship("Company")
    lines = relationship(
        "CommissionStatementLine", back_populates="statement", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"{self.company} {self.period_start.isoformat()}"


class CommissionStatementLine(OrganisationOwned, Model):
    """One line of a statement (or an expected commission it lacks), with its result."""

    __tablename__ = "commission_statement_line"
    __table_args__ = (
        Index("ix_commission_statement_line_statement_result", "statement_id", "result"),
        Index("ix_commission_statement_line_expected", "expected_commission_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("commission_statement.id", ondelete="CASCADE"), nullable=False
    )
    row_number: Mapped[int | None] = mapped_column(Integer)  # None: a missing line
    policy_number: Mapped[str | None] = mapped_column(String(40))
    notice_reference: Mapped[str | None] = mapped_column(String(60))
    period_start: Mapped[dt.date | None] = mapped_column(Date)
    premium: Mapped[Decimal | None] = mapped_column(_money())
    commission: Mapped[Decimal | None] = mapped_column(_money())
    result: Mapped[LineResult] = mapped_column(
        _enum(LineResult, "commission_line_result"), nullable=False
    )
    expected_commission_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("expected_commission.id", ondelete="SET NULL")
    )
    expected_amount: Mapped[Decimal | None] = mapped_column(_money())
    manual: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    statement = relationship("CommissionStatement", back_populates="lines")
    expected_commission = relationship("ExpectedCommission")

    @property
    def difference(self) -> Decimal | None:
        """Received minus expected, where both are known."""
        if self.commission is None or self.expected_amount is None:
            return None
        return self.commission - self.expected_amount


class RemittanceStatus(enum.Enum):
    draft = "draft"
    issued = "issued"  # sent to the insurer: its notices and their payments are frozen
    paid = "paid"


class Remittance(OrganisationOwned, Timestamped, Model):
    """A bordereau d'encaissement: premiums collected for an insurer, net of commission."""

    __tablename__ = "remittance"
    __table_args__ = (
        CheckConstraint("period_to >= period_from", name="ck_remittance_period"),
        Index("ix_remittance_organisation_company", "organisation_id", "company_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("company.id", ondelete="RESTRICT"), nullable=False
    )
    number: Mapped[str] = mapped_column(String(40), nullable=False)
    period_from: Mapped[dt.date] = mapped_column(Date, nullable=False)
    period_to: Mapped[dt.date] = mapped_column(Date, nullable=False)
    status: Mapped[RemittanceStatus] = mapped_column(
        _enum(RemittanceStatus, "remittance_status"),
        nullable=False,
        default=RemittanceStatus.draft,
    )
    premiums_collected: Mapped[Decimal] = mapped_column(_money(), nullable=False)
    commission_retained: Mapped[Decimal] = mapped_column(_money(), nullable=False)
    net_amount: Mapped[Decimal] = mapped_column(_money(), nullable=False)
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    paid_on: Mapped[dt.date | None] = mapped_column(Date)

    company = relationship("Company")
    lines = relationship(
        "RemittanceLine",
        back_populates="remittance",
        cascade="all, delete-orphan",
        order_by="RemittanceLine.id",
    )

    def __repr__(self) -> str:
        return self.number


class RemittanceLine(OrganisationOwned, Model):
    """One paid notice in a bordereau: a notice is remitted once."""

    __tablename__ = "remittance_line"
    __table_args__ = (
        UniqueConstraint("premium_notice_id", name="uq_remittance_line_notice"),
        Index("ix_remittance_line_remittance", "remittance_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    remittance_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("remittance.id", ondelete="CASCADE"), nullable=False
    )
    premium_notice_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("premium_notice.id", ondelete="RESTRICT"), nullable=False
    )
    paid_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    collected: Mapped[Decimal] = mapped_column(_money(), nullable=False)
    commission: Mapped[Decimal] = mapped_column(_money(), nullable=False)

    remittance = relationship("Remittance", back_populates="lines")
    premium_notice = relationship("PremiumNotice")
