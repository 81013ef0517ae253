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

from app.services.renewals.rules import add_months
from app.services.working_days import add_working_days

DECLARATION_WORKING_DAYS = 5  # L113-2 4°
THEFT_WORKING_DAYS = 2  # L113-2 4°, theft
NATURAL_DISASTER_DAYS = 30  # L125-2, calendar days after the arrêté's publication
PRESCRIPTION_MONTHS = 24  # L114-1


class Delay(enum.Enum):
    """Which delay a claim's declaration runs under."""

    general = "general"  # 5 working days
    theft = "theft"  # 2 working days
    natural_disaster = "natural_disaster"  # 30 calendar days


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
