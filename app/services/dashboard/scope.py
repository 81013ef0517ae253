"""What one dashboard request looks at: an organisation (or all), an insurer, a period.

The organisation comes from app.services.scope (the user's own; SUPERADMIN's
choice), and every aggregate of the dashboard adds its conditions through
``scoped`` so no chart can forget the organisation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, Select, cast, func


@dataclass(frozen=True)
class Scope:
    """organisation_id None: every organisation (SUPERADMIN only). Period: [start, end)."""

    organisation_id: int | None
    company_id: int | None
    start: dt.date
    end: dt.date
    today: dt.date
    dialect: str

    @property
    def start_at(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time.min)

    @property
    def end_at(self) -> dt.datetime:
        return dt.datetime.combine(self.end, dt.time.min)


def scoped(statement: Select, model: Any, scope: Scope, *, by_insurer: bool = False) -> Select:
    """``statement`` restricted to the scope's organisation (and insurer, for policies)."""
    if scope.organisation_id is not None:
        statement = statement.where(model.organisation_id == scope.organisation_id)
    if by_insurer and scope.company_id is not None:
        statement = statement.where(model.company_id == scope.company_id)
    return statement


def day_key(column: Any, dialect: str) -> Any:
    """The UTC day of a timestamp column, on SQLite and PostgreSQL alike (see ``day_of``).

    PostgreSQL: a cast to date, about half the cost of to_char per row (measured at
    100,000 documents); SQLite has no date type and answers 'YYYY-MM-DD' text.
    """
    if dialect == "postgresql":
        return cast(column, Date)
    return func.date(column)


def day_of(value: dt.date | str) -> dt.date:
    """A ``day_key`` value as a date, whichever database answered."""
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
