"""Premiums collected on the dashboard: what fell due per month and how much of it came in,
and the unpaid premiums by age and by insurer.

Amounts are the premium notices' (app/models/premium.py), taxes included, per currency (never
added across currencies). A notice counts from its due date; cancelled notices and refunds
are left out. Collected is what live allocations paid on it (``paid_amount``), so a rejected
debit moves back to outstanding.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.models import Company, NoticeKind, NoticeStatus, Policy, PremiumNotice
from app.services.dashboard.premiums import period_months
from app.services.dashboard.scope import Scope, day_of, scoped

# Notices that ask for money (not cancelled ones); each index range of
# ix_premium_notice_organisation_status_due is read once per status.
LIVE = (NoticeStatus.issued, NoticeStatus.partly_paid, NoticeStatus.paid, NoticeStatus.unpaid)
OPEN = (NoticeStatus.issued, NoticeStatus.partly_paid, NoticeStatus.unpaid)
# Days past due: 1–30, 31–60, 61–90, over 90 (the last bound is open).
AGE_BUCKETS = ((1, 30), (31, 60), (61, 90), (91, None))
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class MonthlyCollections:
    """Per currency, per month of due date: collected and still outstanding."""

    months: list[dt.date]
    collected: dict[str, list[Decimal]]
    outstanding: dict[str, list[Decimal]]

    def issued(self, currency: str) -> Decimal:
        return sum(self.collected[currency], ZERO) + sum(self.outstanding[currency], ZERO)


@dataclass(frozen=True)
class InsurerUnpaid:
    company_id: int
    name: str
    amount: Decimal
    notices: int


@dataclass(frozen=True)
class Unpaid:
    """Per currency: the unpaid amount in each age bucket, and per insurer (largest first)."""

    by_age: dict[str, list[Decimal]]  # currency -> one amount per AGE_BUCKETS
    notices_by_age: list[int]  # every currency
    by_insurer: dict[str, list[InsurerUnpaid]]


def _in_scope(statement: Select, scope: Scope) -> Select:
    """The scope's organisation; its insurer through the notice's contract."""
    statement = scoped(statement, PremiumNotice, scope)
    if scope.company_id is not None:
        statement = statement.where(
            PremiumNotice.policy_id.in_(
                select(Policy.id).where(Policy.company_id == scope.company_id)
            )
        )
    return statement


def collections_per_month(session: Session, scope: Scope) -> MonthlyCollections:
    """One query grouped by due day and currency (a month expression per row costs more than
    the scan: app/services/dashboard/premiums.py), summed into the period's months here."""
    statement = _in_scope(
        select(
            PremiumNotice.due_on,
            PremiumNotice.currency,
            func.sum(PremiumNotice.paid_amount),
            func.sum(PremiumNotice.total - PremiumNotice.paid_amount),
        )
        .where(
            PremiumNotice.status.in_(LIVE),
            PremiumNotice.due_on >= scope.start,
            PremiumNotice.due_on < scope.end,
            PremiumNotice.kind != NoticeKind.refund,
        )
        .group_by(PremiumNotice.due_on, PremiumNotice.currency),
        scope,
    )
    months = period_months(scope.start, scope.end)
    index = {(month.year, month.month): position for position, month in enumerate(months)}
    collected: dict[str, list[Decimal]] = {}
    outstanding: dict[str, list[Decimal]] = {}
    for day, currency, paid, left in session.execute(statement):
        day = day_of(day)
        position = index.get((day.year, day.month))
        if position is None:
            continue
        collected.setdefault(currency, [ZERO] * len(months))[position] += Decimal(paid or 0)
        outstanding.setdefault(currency, [ZERO] * len(months))[position] += Decimal(left or 0)
    return MonthlyCollections(months, collected, outstanding)


def unpaid_on(session: Session, scope: Scope) -> Unpaid:
    """Notices past due on the scope's today with something left: one query grouped by due
    day, insurer and currency (a handful of insurer rows joined), bucketed by age here."""
    left = PremiumNotice.total - PremiumNotice.paid_amount
    statement = _in_scope(
        select(
            PremiumNotice.due_on,
            Company.id,
            Company.name,
            PremiumNotice.currency,
            func.sum(left),
            func.count(),
        )
        .join(Policy, Policy.id == PremiumNotice.policy_id)
        .join(Company, Company.id == Policy.company_id)
        .where(
            PremiumNotice.status.in_(OPEN),
            PremiumNotice.due_on < scope.today,
            PremiumNotice.kind != NoticeKind.refund,
            left > 0,
        )
        .group_by(PremiumNotice.due_on, Company.id, Company.name, PremiumNotice.currency),
        scope,
    )
    by_age: dict[str, list[Decimal]] = {}
    notices_by_age = [0] * len(AGE_BUCKETS)
    per_insurer: dict[tuple[str, int, str], list] = {}
    for day, company_id, name, currency, amount, count in session.execute(statement):
        bucket = age_bucket((scope.today - day_of(day)).days)
        amount = Decimal(amount or 0)
        by_age.setdefault(currency, [ZERO] * len(AGE_BUCKETS))[bucket] += amount
        notices_by_age[bucket] += int(count)
        totals = per_insurer.setdefault((currency, company_id, name), [ZERO, 0])
        totals[0] += amount
        totals[1] += int(count)
    by_insurer: dict[str, list[InsurerUnpaid]] = {}
    for (currency, company_id, name), (amount, count) in per_insurer.items():
        by_insurer.setdefault(currency, []).append(InsurerUnpaid(company_id, name, amount, count))
    for rows in by_insurer.values():
        rows.sort(key=lambda row: (-row.amount, row.name))
    return Unpaid(by_age, notices_by_age, by_insurer)


def age_bucket(days_past_due: int) -> int:
    """The index in AGE_BUCKETS of a notice ``days_past_due`` days past its due date (≥ 1)."""
    for position, (_low, high) in enumerate(AGE_BUCKETS):
        if high is None or days_past_due <= high:
            return position
    return len(AGE_BUCKETS) - 1
