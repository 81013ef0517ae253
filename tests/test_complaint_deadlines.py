"""The complaints' deadlines (ACPR recommendation 2022-R-01, §3), as tables.

Acknowledge within 10 French working days of receipt (weekends and public holidays
do not count, nor the day of receipt); answer within 2 months of receipt (the same
day two months on, else that month's last day: Code civil art. 641).
"""

from __future__ import annotations

import datetime as dt

import pytest

from app.services.compliance.deadlines import acknowledgement_due, answer_due, met
from app.services.working_days import add_working_days, is_working_day

D = dt.date


@pytest.mark.parametrize(
    ("received", "due", "why"),
    [
        # Monday -> two plain weeks: the second Monday after.
        (D(2026, 3, 2), D(2026, 3, 16), "two full weeks, no holiday"),
        # Friday 18 Dec 2026: Christmas (Fri 25) and New Year (Fri 1 Jan) push it two days.
        (D(2026, 12, 18), D(2027, 1, 5), "Christmas and New Year's Day"),
        # Thursday 30 Apr 2026: 1 May, 8 May and Ascension (Thu 14 May) do not count.
        (D(2026, 4, 30), D(2026, 5, 19), "1 May, 8 May and Ascension"),
        # Received on a Saturday: the count starts on Monday.
        (D(2026, 3, 7), D(2026, 3, 20), "received on a Saturday"),
        # Monday 13 Jul 2026: Bastille Day (Tue 14) does not count.
        (D(2026, 7, 13), D(2026, 7, 28), "14 July"),
    ],
)
def test_acknowledgement_is_due_ten_french_working_days_after_receipt(received, due, why):
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


def test_no_working_day_is_the_receipt_day_itself():
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
