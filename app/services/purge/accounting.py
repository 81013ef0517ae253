"""Accounting entries past their legal retention: found and deleted by the purge.

Code de commerce L123-22: accounting documents are kept 10 years from the closing of the
financial year (the agency's ``retention_accounting_years``, never less than 10). The
project has no fiscal-year setting: a financial year here is the calendar year, closed on
31 December, so an entry of 2015 may go from 1 January 2026 (10 years).

What goes, per agency, set-based and batch by batch (no per-row loop): premium notices
due in a year past retention whose client was erased or whose contract's retention is
over (closed, and its expiry more than ``retention_contract_years`` ago; a cancellation
ends a contract earlier, so the expiry is the later, safer bound), with what only
describes them: their allocations, expected commissions, remittance (bordereau) lines and
tasks; their e-mails stay (anonymised at erasure) with the link to the notice cleared.
A payment goes when every notice it pays goes, and a notice waits while one of its
payments was received in a year still kept or also pays a notice that must stay.
Kept: unallocated payments, insurer statements and their lines (the insurer's
documents, naming contracts by number; a line's link to a deleted expected commission is
cleared) and remittance headers (the bordereau as sent).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, delete, exists, func, not_, or_, select, update
from sqlalchemy.orm import Session, aliased

from app.models import (
    Allocation,
    Client,
    CommissionStatementLine,
    ExpectedCommission,
    Message,
    Organisation,
    Payment,
    Policy,
    PolicyStatus,
    PremiumNotice,
    RemittanceLine,
    Task,
)
from app.services.privacy.holds import OPEN_CONTRACT_STATUSES, years_after

LAW = "Code de commerce L123-22"
# Notices deleted per transaction (with their allocations, payments and the rest).
BATCH = 500


def year_past_retention(year: int, today: dt.date, years: int) -> bool:
    """Whether financial year ``year`` (closed 31 December) has been kept ``years`` years."""
    return year + years < today.year


def first_kept_day(today: dt.date, years: int) -> dt.date:
    """Entries dated before this day belong to a financial year past retention."""
    return dt.date(today.year - years, 1, 1)


@dataclass(frozen=True)
class AccountingCut:
    """One agency's cut: what is dated before ``first_kept`` may go, on the conditions."""

    organisation_id: int
    first_kept: dt.date
    contract_ended_before: dt.date
    years: int
    # Clients erased after the dry run's look (by the same run's anonymisation) wait for the
    # next run: applying deletes what was listed, no more.
    erased_before: dt.datetime

    @classmethod
    def of(
        cls, organisation: Organisation, today: dt.date, erased_before: dt.datetime
    ) -> AccountingCut:
        years = organisation.retention_accounting_years
        return cls(
            organisation_id=organisation.id,
            first_kept=first_kept_day(today, years),
            contract_ended_before=years_after(today, -organisation.retention_contract_years),
            years=years,
            erased_before=erased_before,
        )

    def reason(self, notices: int, payments: int) -> str:
        last = self.first_kept.year - 1
        return (
            f"accounting of financial years up to {last} (closed on {last}-12-31), kept "
            f"{self.years} years ({LAW}), client erased or contract's retention over: "
            f"{notices} premium notice(s), {payments} payment(s)"
        )


def _settled_policies(cut: AccountingCut) -> Select[tuple[int]]:
    """Contracts whose history may go: their client erased, or closed long enough ago."""
    return (
        select(Policy.id)
        .join(Client, Client.id == Policy.client_id)
        .where(
            Policy.organisation_id == cut.organisation_id,
            or_(
                Client.erased_at < cut.erased_before,
                and_(
                    Policy.status.not_in([PolicyStatus(s) for s in OPEN_CONTRACT_STATUSES]),
                    Policy.expiry_date < cut.contract_ended_before,
                ),
            ),
        )
    )


def _past(notice: type[PremiumNotice], cut: AccountingCut) -> ColumnElement[bool]:
    """The notice's own conditions: its agency, its year past retention, its contract settled."""
    return and_(
        notice.organisation_id == cut.organisation_id,
        notice.due_on < cut.first_kept,
        notice.policy_id.in_(_settled_policies(cut)),
    )


def _eligible(notice: type[PremiumNotice], cut: AccountingCut) -> ColumnElement[bool]:
    """Past, and none of its payments is kept (received in a kept year or paying a kept notice)."""
    mine, payment = aliased(Allocation), aliased(Payment)
    theirs, other = aliased(Allocation), aliased(PremiumNotice)
    pays_a_kept_notice = exists(
        select(theirs.id)
        .join(other, other.id == theirs.premium_notice_id)
        .where(theirs.payment_id == payment.id, not_(_past(other, cut)))
    )
    kept_payment = exists(
        select(mine.id)
        .join(payment, payment.id == mine.payment_id)
        .where(
            mine.premium_notice_id == notice.id,
            or_(payment.received_on >= cut.first_kept, pays_a_kept_notice),
        )
    )
    return and_(_past(notice, cut), ~kept_payment)


def _payments_going(cut: AccountingCut) -> ColumnElement[bool]:
    """Payments every one of whose notices goes (and that pay at least one)."""
    paid, going = aliased(Allocation), aliased(PremiumNotice)
    staying_alloc, staying = aliased(Allocation), aliased(PremiumNotice)
    return and_(
        Payment.organisation_id == cut.organisation_id,
        exists(
            select(paid.id)
            .join(going, going.id == paid.premium_notice_id)
            .where(paid.payment_id == Payment.id, _eligible(going, cut))
        ),
        ~exists(
            select(staying_alloc.id)
            .join(staying, staying.id == staying_alloc.premium_notice_id)
            .where(staying_alloc.payment_id == Payment.id, not_(_eligible(staying, cut)))
        ),
    )


def count_due(session: Session, cut: AccountingCut) -> tuple[int, int]:
    """(notices, payments) that would go now; reads only."""
    notices = session.scalar(
        select(func.count()).select_from(PremiumNotice).where(_eligible(PremiumNotice, cut))
    )
    payments = session.scalar(select(func.count()).select_from(Payment).where(_payments_going(cut)))
    return int(notices or 0), int(payments or 0)


@dataclass
class Deleted:
    notices: int = 0
    allocations: int = 0
    payments: int = 0
    expected_commissions: int = 0
    remittance_lines: int = 0
    tasks: int = 0
    messages_unlinked: int = 0

    def as_changes(self) -> dict[str, int]:
        return dict(self.__dict__)


def delete_batch(session: Session, cut: AccountingCut, deleted: Deleted) -> bool:
    """Delete up to BATCH eligible notices and what goes with them; False when none is left.

    The conditions are asked again here: a payment or a contract signed since the dry run
    keeps its notices. Children first, so the restricting foreign keys never fire.
    """
    ids = list(
        session.scalars(
            select(PremiumNotice.id)
            .where(_eligible(PremiumNotice, cut))
            .order_by(PremiumNotice.id)
            .limit(BATCH)
        )
    )
    if not ids:
        return False
    # Payments whose every allocation is to a notice of this batch; a payment spanning two
    # batches loses its first allocations with the first and goes with the second.
    elsewhere = aliased(Allocation)
    payment_ids = list(
        session.scalars(
            select(Allocation.payment_id)
            .where(Allocation.premium_notice_id.in_(ids))
            .where(
                ~exists(
                    select(elsewhere.id).where(
                        elsewhere.payment_id == Allocation.payment_id,
                        elsewhere.premium_notice_id.not_in(ids),
                    )
                )
            )
            .distinct()
        )
    )
    expected = select(ExpectedCommission.id).where(ExpectedCommission.premium_notice_id.in_(ids))
    session.execute(
        update(CommissionStatementLine)
        .where(CommissionStatementLine.expected_commission_id.in_(expected))
        .values(expected_commission_id=None)
    )
    deleted.messages_unlinked += _rows(
        session.execute(
            update(Message).where(Message.premium_notice_id.in_(ids)).values(premium_notice_id=None)
        )
    )
    deleted.tasks += _rows(session.execute(delete(Task).where(Task.premium_notice_id.in_(ids))))
    deleted.expected_commissions += _rows(
        session.execute(
            delete(ExpectedCommission).where(ExpectedCommission.premium_notice_id.in_(ids))
        )
    )
    deleted.remittance_lines += _rows(
        session.execute(delete(RemittanceLine).where(RemittanceLine.premium_notice_id.in_(ids)))
    )
    deleted.allocations += _rows(
        session.execute(delete(Allocation).where(Allocation.premium_notice_id.in_(ids)))
    )
    if payment_ids:
        deleted.payments += _rows(
            session.execute(delete(Payment).where(Payment.id.in_(payment_ids)))
        )
    deleted.notices += _rows(
        session.execute(delete(PremiumNotice).where(PremiumNotice.id.in_(ids)))
    )
    return True


def _rows(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
