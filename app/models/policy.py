"""An insurance policy placed by the agency for a client with an insurer."""

from __future__ import annotations

import datetime as dt
import enum
import re
from calendar import monthrange
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
    UniqueConstraint,
    case,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from sqlalchemy.sql.expression import Grouping

from app.models.base import ModelValidationError, OrganisationOwned, Timestamped

DEFAULT_NOTICE_MONTHS = 2  # L113-12: at least two months before the échéance

POLICY_NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./_-]{0,39}$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
MAX_PREMIUM = Decimal("9999999999.99")  # Numeric(12, 2)
# The key of ix_policy_organisation_work: WORK_RANK below, laid out as PostgreSQL prints
# it back (casts aside), so Alembic's comparison of the models and the database is exact.
WORK_RANK_KEY = (
    "(\nCASE\n    WHEN status = 'active' THEN 0\n    WHEN status = 'suspended' THEN 1\n"
    "    WHEN status = 'draft' THEN 2\n    ELSE 3\nEND)"
)


class LineOfBusiness(enum.Enum):
    auto = "auto"
    home = "home"
    health = "health"
    life = "life"
    liability = "liability"
    professional = "professional"
    travel = "travel"


class PolicyStatus(enum.Enum):
    draft = "draft"
    active = "active"
    suspended = "suspended"
    cancelled = "cancelled"
    expired = "expired"


class ContractUse(enum.Enum):
    """Whether the client holds the contract as a consumer or for a trade (Chatel, Hamon)."""

    consumer = "consumer"
    professional = "professional"


class PaymentFrequency(enum.Enum):
    monthly = "monthly"
    quarterly = "quarterly"
    semiannual = "semiannual"
    annual = "annual"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as VARCHAR + CHECK so adding a value is a plain migration on every database.
    return Enum(cls, name=name, native_enum=False, length=20, validate_strings=True)


class Policy(OrganisationOwned, Timestamped, Model):
    __tablename__ = "policy"
    __table_args__ = (
        UniqueConstraint("organisation_id", "number", name="uq_policy_organisation_number"),
        CheckConstraint("premium >= 0", name="ck_policy_premium_positive"),
        CheckConstraint("expiry_date > effective_date", name="ck_policy_dates_ordered"),
        Index("ix_policy_organisation_status", "organisation_id", "status"),
        # PostgreSQL: INCLUDE lets the dashboard's expiring and premiums aggregates read
        # the index alone (migration 0008, measured in docs/benchmarks.md).
        # tacit_renewal, id: the Échéances' contracts due without a cycle yet (migration 0018).
        Index(
            "ix_policy_organisation_expiry",
            "organisation_id",
            "expiry_date",
            postgresql_include=["status", "company_id", "tacit_renewal", "id"],
        ),
        Index(
            "ix_policy_organisation_effective",
            "organisation_id",
            "effective_date",
            postgresql_include=["status", "company_id", "currency", "premium"],
        ),
        Index("ix_policy_organisation_line", "organisation_id", "line_of_business"),
        Index("ix_policy_mandate", "mandate_id"),  # the contracts a mandate debits
        Index("ix_policy_manager", "manager_id"),  # a manager's contracts
        # Keyed (not INCLUDEd) so B-tree deduplication keeps it small: the dashboard counts
        # policies per insurer, and per status and line for one insurer, from it alone.
        Index(
            "ix_policy_organisation_company_status_line",
            "organisation_id",
            "company_id",
            "status",
            "line_of_business",
        ),
        # The lists sort by premium too (measured in docs/benchmarks.md).
        Index("ix_policy_organisation_premium", "organisation_id", "premium"),
        # The policy screen's default order (WORK_ORDER below), ties broken by the id as
        # the list breaks them: a page is read from the index, nothing sorted.
        Index(
            "ix_policy_organisation_work",
            "organisation_id",
            text(WORK_RANK_KEY),
            "expiry_date",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), nullable=False)
    client_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("client.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    company_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("company.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    line_of_business: Mapped[LineOfBusiness] = mapped_column(
        _enum(LineOfBusiness, "line_of_business"), nullable=False
    )
    status: Mapped[PolicyStatus] = mapped_column(
        _enum(PolicyStatus, "policy_status"), nullable=False, default=PolicyStatus.draft
    )
    effective_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    expiry_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    premium: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="EUR")
    payment_frequency: Mapped[PaymentFrequency] = mapped_column(
        _enum(PaymentFrequency, "payment_frequency"),
        nullable=False,
        default=PaymentFrequency.annual,
    )
    renewal_of_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("policy.id", ondelete="SET NULL"), index=True
    )
    # Paid by SEPA direct debit under this mandate (app/models/mandate.py); empty: by other means.
    # A plain number (migration 0014 says why): the relation below lets the reference checks
    # (app/services/validation.py) keep it inside the organisation.
    mandate_id: Mapped[int | None] = mapped_column(Integer)
    # The agency's user who manages the contract (the task rules give its tasks to them).
    # A plain number too (migration 0014 says why); the relation below lets the reference
    # checks keep it inside the organisation.
    manager_id: Mapped[int | None] = mapped_column(Integer)
    # What the cancellation rules need (app/services/renewals/facts.py). The main échéance
    # is a day and a month; empty, it is the current term's end (echeance_day_month).
    echeance_day: Mapped[int | None] = mapped_column(SmallInteger)
    echeance_month: Mapped[int | None] = mapped_column(SmallInteger)
    tacit_renewal: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=text("true")
    )
    notice_months: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, default=DEFAULT_NOTICE_MONTHS, server_default=text("2")
    )
    use: Mapped[ContractUse] = mapped_column(
        # No CHECK on columns added to an existing table: SQLite cannot drop them then.
        Enum(ContractUse, name="contract_use", native_enum=False, length=20),
        nullable=False,
        default=ContractUse.consumer,
        server_default=ContractUse.consumer.value,
    )
    borrower: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=text("false")
    )
    group_contract: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=text("false")
    )
    # The insurer's product name; commission rules may be negotiated per product.
    product: Mapped[str | None] = mapped_column(String(100))

    organisation = relationship("Organisation")
    client = relationship("Client", back_populates="policies")
    mandate = relationship("Mandate", primaryjoin="foreign(Policy.mandate_id) == Mandate.id")
    # Read by the documents (the arrears a mise en demeure names); written through the
    # premium notices service only.
    premium_notices = relationship("PremiumNotice", viewonly=True, order_by="PremiumNotice.due_on")
    manager = relationship("AppUser", primaryjoin="foreign(Policy.manager_id) == AppUser.id")
    company = relationship("Company", back_populates="policies")
    renewal_of = relationship("Policy", remote_side=[id])
    terms = relationship(
        "Term",
        back_populates="policy",
        order_by="Term.sequence",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    renewal_cycles = relationship(
        "RenewalCycle",
        back_populates="policy",
        order_by="RenewalCycle.echeance",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    cancellation = relationship(
        "Cancellation",
        back_populates="policy",
        uselist=False,
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @validates("number")
    def _check_number(self, key: str, value: str | None) -> str:
        value = (value or "").strip()
        if not POLICY_NUMBER_PATTERN.match(value):
            raise ModelValidationError(
                {key: str(_("Use 1 to 40 letters, digits, '.', '/', '_' or '-'."))}
            )
        return value

    @validates("premium")
    def _check_premium(self, key: str, value: Decimal | None) -> Decimal | None:
        if value is None:
            return value
        value = Decimal(value)
        if not value.is_finite() or value < 0:
            raise ModelValidationError({key: str(_("The premium cannot be negative."))})
        if value > MAX_PREMIUM:
            raise ModelValidationError({key: str(_("The premium is too large."))})
        return value.quantize(Decimal("0.01"))

    @validates("currency")
    def _check_currency(self, key: str, value: str | None) -> str:
        value = (value or "EUR").strip().upper()
        if not CURRENCY_PATTERN.match(value):
            raise ModelValidationError({key: str(_("Use an ISO 4217 code such as EUR."))})
        return value

    @validates("echeance_day", "echeance_month", "notice_months")
    def _check_small_numbers(self, key: str, value: int | None) -> int | None:
        if value is None:
            if key == "notice_months":
                return DEFAULT_NOTICE_MONTHS
            return None
        value = int(value)
        bounds = {"echeance_day": (1, 31), "echeance_month": (1, 12), "notice_months": (1, 12)}
        low, high = bounds[key]
        if not low <= value <= high:
            raise ModelValidationError(
                {key: str(_("Enter a number from %(low)d to %(high)d.", low=low, high=high))}
            )
        return value

    def echeance_day_month(self) -> tuple[int, int] | None:
        """The main échéance (day, month): as entered, else the current term's end."""
        if self.echeance_day and self.echeance_month:
            return self.echeance_day, self.echeance_month
        if self.expiry_date:
            return self.expiry_date.day, self.expiry_date.month
        return None

    def check_invariants(self) -> None:
        """Raise ModelValidationError listing every cross-field rule this policy breaks."""
        errors: dict[str, str] = {}
        if self.effective_date and self.expiry_date and self.expiry_date <= self.effective_date:
            errors["expiry_date"] = str(_("The expiry date must be after the effective date."))
        if self.renewal_of_id is not None and self.renewal_of_id == self.id:
            errors["renewal_of_id"] = str(_("A policy cannot renew itself."))
        if bool(self.echeance_day) != bool(self.echeance_month):
            errors["echeance_month"] = str(_("Enter both the day and the month of the échéance."))
        elif (
            self.echeance_day
            and self.echeance_month
            and self.echeance_day > monthrange(2000, self.echeance_month)[1]  # 29 Feb allowed
        ):
            errors["echeance_day"] = str(_("This day does not exist in that month."))
        if errors:
            raise ModelValidationError(errors)

    def __repr__(self) -> str:
        return self.number


# The order staff work in: live policies first (active, then suspended, then drafts),
# then the history (expired and cancelled). Literal SQL, not bound parameters, so the
# query's expression is the index's (WORK_RANK_KEY) and both databases read the order
# from the index.
WORK_RANKS = {PolicyStatus.active: 0, PolicyStatus.suspended: 1, PolicyStatus.draft: 2}
# In parentheses: PostgreSQL takes an expression as an index key only so.
WORK_RANK = Grouping(
    case(
        *(
            (Policy.status == literal_column(f"'{status.name}'"), literal_column(str(rank)))
            for status, rank in WORK_RANKS.items()
        ),
        else_=literal_column(str(len(WORK_RANKS))),
    )
)
# The policy list's default order: what staff work on first, nearest expiry first,
# read from ix_policy_organisation_work (migration 0010, docs/benchmarks.md).
WORK_ORDER = (WORK_RANK, Policy.expiry_date)
