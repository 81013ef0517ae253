"""What the portfolio is made of, and what expires soon: one aggregate per chart."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.models import Company, LineOfBusiness, Policy, PolicyStatus
from app.services.dashboard.scope import Scope, scoped

EXPIRY_HORIZONS = (30, 60, 90)


@dataclass(frozen=True)
class InsurerCount:
    company_id: int
    name: str
    policies: int


@dataclass(frozen=True)
class Expiring:
    """Active policies whose expiry date lies in [today, today + days], per horizon."""

    today: dt.date
    counts: dict[int, int]

    def last_day(self, days: int) -> dt.date:
        return self.today + dt.timedelta(days=days)


def policies_by_status(session: Session, scope: Scope) -> dict[PolicyStatus, int]:
    """Policies per status (every status present, zero when none)."""
    statement = select(Policy.status, func.count()).group_by(Policy.status)
    rows = session.execute(scoped(statement, Policy, scope, by_insurer=True)).all()
    found = {PolicyStatus(status): count for status, count in rows}
    return {status: found.get(status, 0) for status in PolicyStatus}


def policies_by_line(session: Session, scope: Scope) -> dict[LineOfBusiness, int]:
    """Policies per line of business (every line present, zero when none)."""
    statement = select(Policy.line_of_business, func.count()).group_by(Policy.line_of_business)
    rows = session.execute(scoped(statement, Policy, scope, by_insurer=True)).all()
    found = {LineOfBusiness(line): count for line, count in rows}
    return {line: found.get(line, 0) for line in LineOfBusiness}


def policies_by_insurer(session: Session, scope: Scope) -> list[InsurerCount]:
    """Insurers with at least one policy, most policies first.

    Policies are counted per company_id before the join, so the database
    aggregates the index and joins a handful of insurer rows, not every policy.
    """
    counts = scoped(
        select(Policy.company_id, func.count().label("policies")).group_by(Policy.company_id),
        Policy,
        scope,
        by_insurer=True,
    ).subquery()
    statement = (
        select(Company.id, Company.name, counts.c.policies)
        .join(counts, counts.c.company_id == Company.id)
        .order_by(counts.c.policies.desc(), Company.name, Company.id)
    )
    return [InsurerCount(*row) for row in session.execute(statement).all()]


def expiring_counts(session: Session, scope: Scope) -> Expiring:
    """Active policies expiring within 30, 60 and 90 days (nested windows), in one query."""
    today = scope.today
    last = {days: today + dt.timedelta(days=days) for days in EXPIRY_HORIZONS}
    widest = max(EXPIRY_HORIZONS)
    columns = [func.count(case((Policy.expiry_date <= last[days], 1))) for days in EXPIRY_HORIZONS]
    statement = select(*columns).where(
        Policy.status == PolicyStatus.active,
        Policy.expiry_date >= today,
        Policy.expiry_date <= last[widest],
    )
    row = session.execute(scoped(statement, Policy, scope, by_insurer=True)).one()
    return Expiring(today=today, counts=dict(zip(EXPIRY_HORIZONS, map(int, row), strict=True)))
