"""French working days (jours ouvrés): Monday to Friday, French public holidays excepted.

One calendar for every legal delay counted in working days: a claim's declaration
(L113-2 4°, app/services/claims/rules.py) and a complaint's acknowledgement (ACPR
2022-R-01, app/services/compliance/deadlines.py). Pure: the standard library and the
``holidays`` package, no Flask, no database. The day a delay starts from never counts.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays


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
