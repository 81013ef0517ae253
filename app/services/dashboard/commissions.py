"""The agency's commissions on the dashboard: expected against received per month and per
insurer, the differences insurers' statements left open, and the contracts earning most.

Expected is what the rules yield on live notices (cancelled expectations left out);
received is what the statements reconciled against them paid. A commission counts in the
month its notice's period starts, the key statements are matched on. Commissions are in
euros: the rules hold no other currency (app/models/commission.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.models import (
    CommissionStatement,
    CommissionStatementLine,
    Company,
    ExpectedCommission,
    ExpectedStatus,
    LineResult,
    Policy,
)
from app.services.dashboard.premiums import period_months
from app.services.dashboard.scope import Scope, day_of, scoped

ZERO = Decimal("0.00")
TOP_CONTRACTS = 10
DIFFERENCES = (LineResult.amount_differs, LineResult.missing, LineResult.unknown)


@dataclass(frozen=True)
class InsurerCommissions:
    company_id: int
    name: str
    expected: Decimal
    received: Decimal


@dataclass(frozen=True)
class OpenDifference:
    """The statement lines left with one result: how many, and the gap they hold
    (commission on the statement minus the commission expected)."""

    result: LineResult
    lines: int
    gap: Decimal


@dataclass(frozen=True)
class TopContract:
    policy_id: int
    number: str
    amount: Decimal


@dataclass(frozen=True)
class Commissions:
    months: list[dt.date]
    expected: list[Decimal]  # one per month
    received: list[Decimal]
    by_insurer: list[InsurerCommissions]  # most expected first
    differences: list[OpenDifference]  # in DIFFERENCES order, the empty ones left out
    top: list[TopContract]

    @property
    def total_expected(self) -> Decimal:
        return sum(self.expected, ZERO)

    @property
    def total_received(self) -> Decimal:
        return sum(self.received, ZERO)


def _expected_in_scope(statement: Select, scope: Scope) -> Select:
    return scoped(statement, ExpectedCommission, scope, by_insurer=True).where(
        ExpectedCommission.period_start >= scope.start,
        ExpectedCommission.period_start < scope.end,
        ExpectedCommission.status != ExpectedStatus.cancelled,
    )


def commissions_on(session: Session, scope: Scope) -> Commissions:
    """Three aggregate queries: per period day and insurer (read in the order of
    ix_expected_commission_organisation_company_period, summed into months here), per
    difference kind, and the top contracts."""
    received = func.coalesce(ExpectedCommission.received_amount, 0)
    per_day = _expected_in_scope(
        select(
            ExpectedCommission.period_start,
            Company.id,
            Company.name,
            func.sum(ExpectedCommission.amount),
            func.sum(received),
        )
        .join(Company, Company.id == ExpectedCommission.company_id)
        .group_by(ExpectedCommission.period_start, Company.id, Company.name),
        scope,
    )
    months = period_months(scope.start, scope.end)
    index = {(month.year, month.month): position for position, month in enumerate(months)}
    expected, got = [ZERO] * len(months), [ZERO] * len(months)
    insurers: dict[tuple[int, str], list[Decimal]] = {}
    for day, company_id, name, amount, paid in session.execute(per_day):
        day = day_of(day)
        position = index.get((day.year, day.month))
        if position is None:
            continue
        amount, paid = Decimal(amount or 0), Decimal(paid or 0)
        expected[position] += amount
        got[position] += paid
        totals = insurers.setdefault((company_id, name), [ZERO, ZERO])
        totals[0] += amount
        totals[1] += paid
    by_insurer = sorted(
        (InsurerCommissions(key[0], key[1], *totals) for key, totals in insurers.items()),
        key=lambda row: (-row.expected, row.name),
    )
    return Commissions(
        months=months,
        expected=expected,
        received=got,
        by_insurer=by_insurer,
        differences=_differences(session, scope),
        top=_top_contracts(session, scope),
    )


def _differences(session: Session, scope: Scope) -> list[OpenDifference]:
    """Lines of the statements for periods starting in the scope still not matched."""
    gap = func.coalesce(CommissionStatementLine.commission, 0) - func.coalesce(
        CommissionStatementLine.expected_amount, 0
    )
    statement = scoped(
        select(CommissionStatementLine.result, func.count(), func.sum(gap))
        .join(CommissionStatement, CommissionStatement.id == CommissionStatementLine.statement_id)
        .where(
            CommissionStatementLine.result.in_(DIFFERENCES),
            CommissionStatement.period_start >= scope.start,
            CommissionStatement.period_start < scope.end,
        )
        .group_by(CommissionStatementLine.result),
        CommissionStatement,
        scope,
        by_insurer=True,
    )
    found = {
        result: OpenDifference(result, int(count), Decimal(total or 0))
        for result, count, total in session.execute(statement)
    }
    return [found[result] for result in DIFFERENCES if result in found]


def _top_contracts(session: Session, scope: Scope) -> list[TopContract]:
    total = func.sum(ExpectedCommission.amount).label("total")
    ranked = (
        _expected_in_scope(
            select(ExpectedCommission.policy_id, total).group_by(ExpectedCommission.policy_id),
            scope,
        )
        .order_by(total.desc(), ExpectedCommission.policy_id)
        .limit(TOP_CONTRACTS)
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.policy_id, Policy.number, ranked.c.total)
        .join(Policy, Policy.id == ranked.c.policy_id)
        .order_by(ranked.c.total.desc(), ranked.c.policy_id)
    ).all()
    return [TopContract(policy_id, number, Decimal(amount)) for policy_id, number, amount in rows]
