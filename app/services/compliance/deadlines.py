"""The complaints' legal deadlines, as pure functions (no Flask, no database).

ACPR recommendation 2022-R-01 (traitement des réclamations), §3: a complaint is
acknowledged within 10 working days of its receipt (unless answered within them),
and answered within 2 months of its receipt. Working days are French working days:
Monday to Friday, less the French public holidays (the ``holidays`` package); the
day of receipt does not count. Two months run from the day of receipt to the same
day two months on, or to the last day of that month when it has no such day
(31 December -> 28 or 29 February), as the Code civil counts months (art. 641).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays

ACKNOWLEDGEMENT_WORKING_DAYS = 10
ANSWER_MONTHS = 2


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[dt.date]:
    # Metropolitan France's list: Alsace-Moselle's two extra days are not kept here,
    # so an agency there acknowledges a day early at worst, never late.
    return frozenset(holidays.France(years=year))


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _public_holidays(day.year)


def add_working_days(start: dt.date, count: int) -> dt.date:
    """The ``count``-th working day after ``start`` (``start`` itself never counts)."""
    if count < 0:
        raise ValueError("count must not be negative")
    day = start
    left = count
    while left:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def add_months(start: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or that month's last day when it has none."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (following - dt.timedelta(days=1)).day
    return dt.date(year, month, min(start.day, last_day))


def acknowledgement_due(received_on: dt.date) -> dt.date:
    return add_working_days(received_on, ACKNOWLEDGEMENT_WORKING_DAYS)


def answer_due(received_on: dt.date) -> dt.date:
    return add_months(received_on, ANSWER_MONTHS)


def met(done_on: dt.date | None, due_on: dt.date) -> bool | None:
    """Whether a deadline was kept: None while nothing has been done."""
    return None if done_on is None else done_on <= due_on
