"""Deadlines of a claim under the Code des assurances: dates in, dates and reasons out.

Pure: the standard library and the ``holidays`` package's calendar of French public
holidays, no Flask, no database. The table of cases is tests/test_claim_rules.py.

- L113-2 4°: the insured declares a loss within **5 working days** of knowing of it,
  **2 working days** for a theft. Working days (jours ouvrés) are Monday to Friday, French
  public holidays excepted; the day of knowledge itself is not counted, and a deadline
  never falls on a day off, since only working days are counted.
- L125-2: a catastrophe naturelle is declared within **30 days** of the publication of the
  arrêté that recognises it; the claim's ``known_on`` is that publication's date.
- L114-1: actions arising from the contract are prescribed by **2 years**; for a loss, from
  the day the interested parties knew of it.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from functools import cache

import holidays

from app.services.renewals.rules import add_months

DECLARATION_WORKING_DAYS = 5  # L113-2 4°
THEFT_WORKING_DAYS = 2  # L113-2 4°, theft
NATURAL_DISASTER_DAYS = 30  # L125-2, calendar days after the arrêté's publication
PRESCRIPTION_MONTHS = 24  # L114-1


class Delay(enum.Enum):
    """Which delay a claim's declaration runs under."""

    general = "general"  # 5 working days
    theft = "theft"  # 2 working days
    natural_disaster = "natural_disaster"  # 30 calendar days


@cache
def _french_holidays(year: int) -> frozenset[dt.date]:
    # Metropolitan France: Alsace-Moselle's two extra days are not national holidays.
    return frozenset(holidays.country_holidays("FR", years=year))


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday, and not a French public holiday."""
    return day.weekday() < 5 and day not in _french_holidays(day.year)


def add_working_days(day: dt.date, count: int) -> dt.date:
    """The ``count``-th working day after ``day`` (``day`` itself is not counted)."""
    if count < 0:
        raise ValueError("count must be 0 or more")
    current = day
    remaining = count
    while remaining:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: dt.date, end: dt.date) -> int:
    """How many working days follow ``start`` up to ``end`` included (0 when end <= start)."""
    days = 0
    current = start
    while current < end:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            days += 1
    return days


@dataclass(frozen=True)
class Declaration:
    """The client's declaration measured against its legal delay."""

    deadline: dt.date  # the last day the declaration is on time
    late: bool  # declared after the deadline
    delay: Delay
    basis: str  # the article, for the screens and the docs


def declaration_deadline(known_on: dt.date, delay: Delay) -> dt.date:
    """The last day on which the client may declare a loss known on ``known_on``."""
    if delay is Delay.natural_disaster:
        return known_on + dt.timedelta(days=NATURAL_DISASTER_DAYS)
    count = THEFT_WORKING_DAYS if delay is Delay.theft else DECLARATION_WORKING_DAYS
    return add_working_days(known_on, count)


def declaration(known_on: dt.date, declared_on: dt.date | None, delay: Delay) -> Declaration:
    """The deadline, and whether a declaration made on ``declared_on`` is late.

    A declaration not made yet is not late: the flag says what happened, not what may.
    """
    deadline = declaration_deadline(known_on, delay)
    basis = "L125-2" if delay is Delay.natural_disaster else "L113-2 4°"
    late = declared_on is not None and declared_on > deadline
    return Declaration(deadline=deadline, late=late, delay=delay, basis=basis)


def prescription_on(known_on: dt.date) -> dt.date:
    """The day from which the actions arising from the loss are prescribed (L114-1)."""
    return add_months(known_on, PRESCRIPTION_MONTHS)
