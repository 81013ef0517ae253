"""The complaints' deadlines (ACPR recommendation 2022-R-01, §3), as tables.

Acknowledge within 10 jours ouvrables of receipt: the ACPR writes "dans les dix jours
ouvrables" (acpr.banque-france.fr, "Formuler une réclamation vis-à-vis d'un
professionnel"), and a jour ouvrable is every day but the weekly rest day (Sunday) and
public holidays (code.travail.gouv.fr, glossaire "Jour ouvrable"): Saturdays count, the
day of receipt does not. Answer within 2 months of receipt (the same day two months on,
else that month's last day: Code civil art. 641).
"""

from __future__ import annotations

import datetime as dt

import pytest

from app.services.compliance.deadlines import acknowledgement_due, answer_due, met
from app.services.working_days import (
    add_ouvrable_days,
    add_working_days,
    is_ouvrable_day,
    is_working_day,
)

D = dt.date


@pytest.mark.parametrize(
    ("received", "due", "why"),
    [
        # Monday 2 Mar 2026: Tue 3 .. Sat 7 and Mon 9 .. Fri 13, Saturdays counted.
        (D(2026, 3, 2), D(2026, 3, 13), "Saturdays are jours ouvrables"),
        # Friday 18 Dec 2026: Christmas (Fri 25) and Sundays do not count; Sat 19 and 26 do.
        (D(2026, 12, 18), D(2026, 12, 31), "Christmas"),
        # Thursday 30 Apr 2026: 1 May, 8 May (Fridays) and Ascension (Thu 14 May) do not count.
        (D(2026, 4, 30), D(2026, 5, 15), "1 May, 8 May and Ascension"),
        # Received on a Saturday: the count starts on Monday (Sunday is the rest day).
        (D(2026, 3, 7), D(2026, 3, 19), "received on a Saturday"),
        (D(2026, 3, 8), D(2026, 3, 19), "received on a Sunday"),
        # Monday 13 Jul 2026: Bastille Day (Tue 14) does not count; the 10th day is a Saturday
        # and stays the deadline (the earlier date is the safe one).
        (D(2026, 7, 13), D(2026, 7, 25), "14 July, ending on a Saturday"),
    ],
)
def test_acknowledgement_is_due_ten_jours_ouvrables_after_receipt(received, due, why):
    assert acknowledgement_due(received) == due, why


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (D(2026, 3, 2), D(2026, 5, 2)),
        (D(2026, 12, 31), D(2027, 2, 28)),  # February has no 31st: its last day
        (D(2027, 12, 31), D(2028, 2, 29)),  # leap year
        (D(2026, 11, 15), D(2027, 1, 15)),  # over the year's end
        (D(2026, 8, 31), D(2026, 10, 31)),
    ],
)
def test_answer_is_due_two_months_after_receipt(received, due):
    assert answer_due(received) == due


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 12, 25), False),  # Christmas, a Friday
        (D(2026, 12, 26), False),  # Saturday
        (D(2026, 5, 25), False),  # Whit Monday
        (D(2026, 11, 11), False),  # Armistice, a Wednesday
        (D(2026, 11, 12), True),
    ],
)
def test_working_days_are_french(day, working):
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("day", "ouvrable", "ouvre"),
    [
        (D(2026, 3, 7), True, False),  # Saturday: ouvrable, not ouvré
        (D(2026, 3, 8), False, False),  # Sunday: the weekly rest day
        (D(2026, 7, 14), False, False),  # Bastille Day, a Tuesday
        (D(2026, 8, 15), False, False),  # Assumption, a Saturday: a holiday first
        (D(2026, 3, 9), True, True),
    ],
)
def test_jours_ouvrables_run_monday_to_saturday_and_jours_ouvres_monday_to_friday(
    day, ouvrable, ouvre
):
    assert (is_ouvrable_day(day), is_working_day(day)) == (ouvrable, ouvre)


def test_no_working_day_is_the_receipt_day_itself():
    assert add_ouvrable_days(D(2026, 3, 2), 0) == D(2026, 3, 2)
    assert add_working_days(D(2026, 3, 2), 0) == D(2026, 3, 2)
    with pytest.raises(ValueError):
        add_working_days(D(2026, 3, 2), -1)


@pytest.mark.parametrize(
    ("done", "due", "kept"),
    [
        (None, D(2026, 3, 16), None),
        (D(2026, 3, 16), D(2026, 3, 16), True),  # on the last day: kept
        (D(2026, 3, 17), D(2026, 3, 16), False),
    ],
)
def test_a_deadline_is_kept_on_its_last_day(done, due, kept):
    assert met(done, due) is kept
