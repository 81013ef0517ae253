"""French working days, in the two senses French texts use, public holidays excepted.

- *jours ouvrés* (``is_working_day``, ``add_working_days``): Monday to Friday. A claim's
  declaration (L113-2 4° says "cinq jours ouvrés", app/services/claims/rules.py).
- *jours ouvrables* (``is_ouvrable_day``, ``add_ouvrable_days``): Monday to Saturday, every
  day but the weekly rest day (Sunday) and public holidays (code.travail.gouv.fr, glossaire
  "Jour ouvrable"). A complaint's acknowledgement: the ACPR asks for it "dans les dix jours
  ouvrables" (recommendation 2022-R-01; acpr.banque-france.fr, "Formuler une réclamation"),
  app/services/compliance/deadlines.py.

Pure: the standard library and the ``holidays`` package, no Flask, no database. The day a
delay starts from never counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache

import holidays


@cache
def _french_holidays(year: int) -> frozenset[dt.date]:
    # Metropolitan France: Alsace-Moselle's two extra days are not national holidays.
    return frozenset(holidays.country_holidays("FR", years=year))


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday, and not a French public holiday."""
    return day.weekday() < 5 and day not in _french_holidays(day.year)


def is_ouvrable_day(day: dt.date) -> bool:
    """Monday to Saturday, and not a French public holiday (jour ouvrable)."""
    return day.weekday() < 6 and day not in _french_holidays(day.year)


def add_working_days(day: dt.date, count: int) -> dt.date:
    """The ``count``-th working day (jour ouvré) after ``day`` (``day`` itself is not counted)."""
    return _add(day, count, is_working_day)


def add_ouvrable_days(day: dt.date, count: int) -> dt.date:
    """The ``count``-th jour ouvrable after ``day`` (``day`` itself is not counted)."""
    return _add(day, count, is_ouvrable_day)


def _add(day: dt.date, count: int, counts: Callable[[dt.date], bool]) -> dt.date:
    if count < 0:
        raise ValueError("count must be 0 or more")
    current = day
    remaining = count
    while remaining:
        current += dt.timedelta(days=1)
        if counts(current):
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
