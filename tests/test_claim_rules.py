"""The claim deadlines (app/services/claims/rules.py), one row per case, each citing its article.

Dates are chosen around the French public holidays of 2026 (Ascension Thursday 14 May,
Victory Day Friday 8 May, Christmas Friday 25 December) and weekends.
"""

from __future__ import annotations

import datetime as dt

import pytest

from app.services.claims.rules import Delay, declaration, declaration_deadline, prescription_on
from app.services.working_days import add_working_days, is_working_day, working_days_between

D = dt.date

DEADLINES = [
    # (article, known on, delay, last day on time, why)
    ("L113-2 4°", D(2026, 6, 1), Delay.general, D(2026, 6, 8), "Mon + 5 working days: next Mon"),
    ("L113-2 4°", D(2026, 6, 5), Delay.general, D(2026, 6, 12), "Fri: the weekend is skipped"),
    ("L113-2 4°", D(2026, 6, 6), Delay.general, D(2026, 6, 12), "known on a Saturday"),
    (
        "L113-2 4°",
        D(2026, 5, 7),
        Delay.general,
        D(2026, 5, 18),
        "Fri 8 May and Thu 14 May (Ascension) are holidays, and a weekend between",
    ),
    ("L113-2 4°", D(2026, 6, 1), Delay.theft, D(2026, 6, 3), "theft: 2 working days"),
    (
        "L113-2 4°",
        D(2026, 12, 23),
        Delay.theft,
        D(2026, 12, 28),
        "theft across Christmas (Fri) and the weekend",
    ),
    (
        "L113-2 4°",
        D(2026, 12, 31),
        Delay.general,
        D(2027, 1, 8),
        "across New Year's Day (Fri 1 Jan 2027) and the year's change",
    ),
    ("L125-2", D(2026, 6, 1), Delay.natural_disaster, D(2026, 7, 1), "30 calendar days"),
]


@pytest.mark.parametrize(("article", "known", "delay", "deadline", "why"), DEADLINES)
def test_declaration_deadline(article, known, delay, deadline, why):
    assert declaration_deadline(known, delay) == deadline, why
    result = declaration(known, deadline, delay)
    assert (result.late, result.basis) == (False, article)
    assert declaration(known, deadline + dt.timedelta(days=1), delay).late is True


def test_a_water_damage_declared_six_working_days_after_is_late():
    known = D(2026, 6, 1)  # Monday
    declared = add_working_days(known, 6)
    assert declared == D(2026, 6, 9)
    assert working_days_between(known, declared) == 6
    assert declaration(known, declared, Delay.general).late is True
    assert declaration(known, add_working_days(known, 5), Delay.general).late is False


def test_a_declaration_not_made_yet_is_not_late():
    assert declaration(D(2020, 1, 6), None, Delay.general).late is False


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 7, 14), False),  # Fête nationale, a Tuesday
        (D(2026, 7, 13), True),
        (D(2026, 7, 18), False),  # Saturday
        (D(2026, 4, 6), False),  # Easter Monday
        (D(2026, 5, 25), False),  # Whit Monday
        (D(2026, 11, 11), False),  # Armistice
    ],
)
def test_working_days_are_weekdays_that_are_not_french_public_holidays(day, working):
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("known", "prescribed"),
    [
        (D(2026, 3, 15), D(2028, 3, 15)),  # L114-1: 2 years
        (D(2026, 2, 28), D(2028, 2, 28)),
        (D(2028, 2, 29), D(2030, 2, 28)),  # from a leap day: the month's last day
    ],
)
def test_prescription_two_years_after_the_loss_is_known(known, prescribed):
    assert prescription_on(known) == prescribed
