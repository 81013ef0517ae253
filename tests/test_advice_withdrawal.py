"""The withdrawal window after a sale away from the agency (Code des assurances L112-9,
L112-2-1, L132-5-1): table tests, one line per case the articles name."""

from __future__ import annotations

import datetime as dt

import pytest

from app.models import LineOfBusiness, SaleChannel
from app.services.advice.withdrawal import withdrawal_window

D = dt.date

CASES = [
    # channel, line, concluded on, last day, days, article
    # L112-9: démarchage, 14 calendar days from the conclusion.
    (SaleChannel.door_to_door, LineOfBusiness.home, D(2026, 3, 2), D(2026, 3, 16), 14, "L112-9"),
    # L112-2-1: distance selling, 14 calendar days.
    (SaleChannel.distance, LineOfBusiness.auto, D(2026, 3, 2), D(2026, 3, 16), 14, "L112-2-1"),
    # Calendar days: a window ending on a Sunday is not moved (1 Mar 2026 + 14 = 15 Mar, Sunday).
    (SaleChannel.distance, LineOfBusiness.auto, D(2026, 3, 1), D(2026, 3, 15), 14, "L112-2-1"),
    # Across a month and a year end.
    (
        SaleChannel.door_to_door,
        LineOfBusiness.health,
        D(2026, 12, 24),
        D(2027, 1, 7),
        14,
        "L112-9",
    ),
    # Across 29 February.
    (SaleChannel.distance, LineOfBusiness.liability, D(2028, 2, 20), D(2028, 3, 5), 14, "L112-2-1"),
    # Life: 30 days, at a distance (L112-2-1 II) and after démarchage (L132-5-1).
    (SaleChannel.distance, LineOfBusiness.life, D(2026, 3, 2), D(2026, 4, 1), 30, "L112-2-1"),
    (SaleChannel.door_to_door, LineOfBusiness.life, D(2026, 3, 2), D(2026, 4, 1), 30, "L132-5-1"),
]


@pytest.mark.parametrize(("channel", "line", "concluded", "ends", "days", "article"), CASES)
def test_a_sale_away_from_the_agency_opens_its_window(
    channel, line, concluded, ends, days, article
):
    window = withdrawal_window(channel, line, concluded)
    assert window is not None
    assert (window.ends_on, window.days, window.article) == (ends, days, article)


@pytest.mark.parametrize("line", list(LineOfBusiness))
def test_a_sale_at_the_agency_opens_no_window(line):
    assert withdrawal_window(SaleChannel.in_person, line, D(2026, 3, 2)) is None
