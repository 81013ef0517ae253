"""Échéances on the dashboard: renewals due per month by decision, and retention per insurer.

A renewal is counted from its cycle (app/services/renewals/cycles.py) when one is open,
and otherwise from the contract's coming échéance (``Policy.expiry_date``): beyond the
agency's lead time no cycle exists yet, and within it a contract the daily task has not
reached yet is still due. A cycle closed without a decision on a contract still in force
is an échéance that moved (dates edited): it is no renewal and is left out everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, literal, literal_column, not_, select, union_all
from sqlalchemy.orm import Session

from app.models import (
    Company,
    Policy,
    PolicyStatus,
    RenewalCycle,
    RenewalDecision,
    RenewalStatus,
)
from app.services.dashboard.scope import Scope, day_of, scoped
from app.services.renewals.rules import add_months

DUE_MONTHS = 12
RETENTION_MONTHS = 12
# Contracts whose échéance is worked on (as app.services.renewals.cycles.LIVE): in force.
LIVE = (PolicyStatus.active, PolicyStatus.suspended)
# The stacked series, in the order they are drawn (bottom first).
RENEW, REMARKET, NOT_RENEW, UNDECIDED = "renew", "remarket", "not_renew", "undecided"
OUTCOMES = (RENEW, REMARKET, NOT_RENEW, UNDECIDED)


@dataclass(frozen=True)
class RenewalsDue:
    """Renewals per month of échéance, this month and the next eleven, per outcome."""

    months: list[dt.date]  # first day of each month, soonest first
    by_outcome: dict[str, list[int]]  # OUTCOMES -> one count per month

    def total(self) -> int:
        return sum(sum(counts) for counts in self.by_outcome.values())


@dataclass(frozen=True)
class InsurerRetention:
    company_id: int
    name: str
    due: int  # échéances of the period (moved ones left out)
    renewed: int
    pending: int  # still open after their échéance: neither renewed nor lost yet

    @property
    def lost(self) -> int:
        return self.due - self.renewed - self.pending

    @property
    def rate(self) -> Decimal | None:
        return retention_rate(self.renewed, self.due)


def retention_rate(renewed: int, due: int) -> Decimal | None:
    """Renewed / due in percent, one decimal (None when nothing was due)."""
    return (Decimal(renewed) * 100 / due).quantize(Decimal("0.1")) if due else None


@dataclass(frozen=True)
class Retention:
    first_day: dt.date  # échéances in [first_day, last_day]
    last_day: dt.date
    insurers: list[InsurerRetention]  # most échéances first


def due_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """[first day of this month, first day of the month twelve months on)."""
    first = today.replace(day=1)
    return first, add_months(first, DUE_MONTHS)


def retention_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last twelve months up to today, both ends included (a yearly échéance once)."""
    return add_months(today, -RETENTION_MONTHS) + dt.timedelta(days=1), today


def renewals_due_per_month(session: Session, scope: Scope) -> RenewalsDue:
    """One query: the cycles of the window by outcome, and the contracts due in it that
    have no cycle for that échéance yet (undecided), grouped by day in the database and
    summed into months here (a month expression per row costs more than the scan: see
    app/services/dashboard/premiums.py).

    Only a cycle closed without a decision needs its contract (ended, or an échéance that
    moved): those few are joined apart, so the others are counted from the cycles' index
    alone (measured in docs/benchmarks.md, "Dashboard")."""
    first, end = due_window(scope.today)
    in_window = and_(RenewalCycle.echeance >= first, RenewalCycle.echeance < end)
    outcome = _outcome()
    cycles = _cycles_in_scope(
        select(RenewalCycle.echeance.label("day"), outcome.label("outcome"), func.count())
        .select_from(RenewalCycle)
        .where(in_window, not_(_closed_undecided()))
        .group_by(RenewalCycle.echeance, outcome),
        scope,
        contract=False,
    )
    ended = _cycles_in_scope(
        select(RenewalCycle.echeance, literal(NOT_RENEW), func.count())
        .select_from(RenewalCycle)
        .where(in_window, _closed_undecided(), Policy.status.not_in(LIVE))
        .group_by(RenewalCycle.echeance),
        scope,
    )
    # Bounded to the window too, so the database looks up the window's cycles only,
    # not every échéance of the agency's history.
    has_cycle = scoped(
        select(literal(1)).where(
            RenewalCycle.policy_id == Policy.id,
            RenewalCycle.echeance == Policy.expiry_date,
            RenewalCycle.echeance >= first,
            RenewalCycle.echeance < end,
        ),
        RenewalCycle,
        scope,
    ).exists()
    contracts = scoped(
        select(Policy.expiry_date.label("day"), literal(UNDECIDED).label("outcome"), func.count())
        .where(
            Policy.expiry_date >= first,
            Policy.expiry_date < end,
            Policy.status.in_(LIVE),
            Policy.tacit_renewal.is_(True),
            ~has_cycle,
        )
        .group_by(Policy.expiry_date),
        Policy,
        scope,
        by_insurer=True,
    )
    months = [add_months(first, offset) for offset in range(DUE_MONTHS)]
    index = {(month.year, month.month): position for position, month in enumerate(months)}
    by_outcome = {outcome: [0] * len(months) for outcome in OUTCOMES}
    for day, outcome, count in session.execute(union_all(cycles, ended, contracts)).all():
        day = day_of(day)
        position = index.get((day.year, day.month))
        if position is not None and outcome in by_outcome:
            by_outcome[outcome][position] += int(count)
    return RenewalsDue(months=months, by_outcome=by_outcome)


def retention_per_insurer(session: Session, scope: Scope) -> Retention:
    """One query: per insurer, the échéances of the last twelve months, how many were
    renewed and how many are still open; counted per company id before the join, so the
    database joins a handful of insurer rows."""
    first, last = retention_window(scope.today)
    renewed = func.count(case((RenewalCycle.status == RenewalStatus.renewed, 1)))
    pending = func.count(case((RenewalCycle.status == RenewalStatus.open, 1)))
    per_insurer = _cycles_in_scope(
        select(
            Policy.company_id,
            func.count().label("due"),
            renewed.label("renewed"),
            pending.label("pending"),
        )
        .select_from(RenewalCycle)
        .where(RenewalCycle.echeance >= first, RenewalCycle.echeance <= last, _not_moved())
        .group_by(Policy.company_id),
        scope,
    )
    counts = per_insurer.subquery()
    statement = (
        select(Company.id, Company.name, counts.c.due, counts.c.renewed, counts.c.pending)
        .join(counts, counts.c.company_id == Company.id)
        .order_by(counts.c.due.desc(), Company.name, Company.id)
    )
    insurers = [
        InsurerRetention(row.id, row.name, int(row.due), int(row.renewed), int(row.pending))
        for row in session.execute(statement).all()
    ]
    return Retention(first_day=first, last_day=last, insurers=insurers)


# --- internals ---------------------------------------------------------------


def _cycles_in_scope(statement: Any, scope: Scope, *, contract: bool = True) -> Any:
    """Cycles in the scope: the agency on the cycle (a cycle carries its contract's
    agency), the insurer on the contract, joined when ``contract`` or an insurer is
    asked for.

    A join, not a correlated lookup, where the contract's status is needed: PostgreSQL
    prices a lookup per row, and the inflated estimate switched on JIT compilation
    (about 90 ms more, measured at 100,000 policies)."""
    statement = scoped(statement, RenewalCycle, scope)
    if contract or scope.company_id is not None:
        statement = statement.join(Policy, Policy.id == RenewalCycle.policy_id)
    if scope.company_id is not None:
        statement = statement.where(Policy.company_id == scope.company_id)
    return statement


def _outcome() -> Any:
    """renewed → renew; else the decision taken; open → undecided; closed without a
    decision (the contract ended: cancelled or expired) → not renewed.

    Inline constants, not bound parameters: PostgreSQL must see the GROUP BY expression
    as the one selected, and two parameters are two different expressions to it.
    """
    return case(
        (RenewalCycle.status == _const(RenewalStatus.renewed.value), _const(RENEW)),
        (RenewalCycle.decision == _const(RenewalDecision.remarket.value), _const(REMARKET)),
        (RenewalCycle.decision == _const(RenewalDecision.not_renew.value), _const(NOT_RENEW)),
        (RenewalCycle.decision == _const(RenewalDecision.renew.value), _const(RENEW)),
        (RenewalCycle.status == _const(RenewalStatus.open.value), _const(UNDECIDED)),
        else_=_const(NOT_RENEW),
    )


def _const(value: str) -> Any:
    return literal_column(f"'{value}'")  # our own constants, never user input


def _closed_undecided() -> Any:
    """Closed without a decision: the contract ended (cancelled, expired), or its
    échéance moved (dates edited) and the cycle is no renewal at all."""
    return and_(RenewalCycle.status == RenewalStatus.closed, RenewalCycle.decision.is_(None))


def _not_moved() -> Any:
    """Leaves out a cycle closed without a decision on a contract still in force
    (for statements joined to the contract)."""
    return not_(and_(_closed_undecided(), Policy.status.in_(LIVE)))
