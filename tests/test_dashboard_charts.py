"""The dashboard's period and chart geometry (app/services/dashboard), pure functions."""

from __future__ import annotations

import datetime as dt

import pytest

from app.services.dashboard.activity import DailyCounts
from app.services.dashboard.charts import (
    AXIS_FONT,
    MIN_SEGMENT_HEIGHT,
    VALUE_FONT,
    column_chart,
    hbar_chart,
    nice_step,
    text_width,
)
from app.services.dashboard.filters import period_bounds


@pytest.mark.parametrize(
    ("today", "months", "start", "end"),
    [
        # On 7 December 2026, "the last 12 months" run from 1 January to today, not to 31/12.
        (dt.date(2026, 12, 7), 12, dt.date(2026, 1, 1), dt.date(2026, 12, 8)),
        (dt.date(2026, 12, 7), 1, dt.date(2026, 12, 1), dt.date(2026, 12, 8)),
        (dt.date(2026, 3, 15), 12, dt.date(2025, 4, 1), dt.date(2026, 3, 16)),
        (dt.date(2026, 3, 15), 3, dt.date(2026, 1, 1), dt.date(2026, 3, 16)),
        (dt.date(2026, 12, 31), 6, dt.date(2026, 7, 1), dt.date(2027, 1, 1)),
    ],
)
def test_the_period_ends_today(today, months, start, end):
    assert period_bounds(today, months) == (start, end)


def test_a_long_label_is_cut_with_an_ellipsis_and_keeps_its_full_text():
    long_name = "Mutuelle Générale des Travailleurs Indépendants du Grand Sud-Ouest"
    chart = hbar_chart([(long_name, 5, "5", None), ("MMA", 3, "3", None)], width=480)
    cut, short = chart.bars
    assert cut.cut and cut.short_label.endswith("…")
    assert long_name.startswith(cut.short_label[:-1])
    assert cut.label == long_name  # the template's <title> shows it whole
    assert text_width(cut.short_label, 12) <= chart.label_width - 10
    assert not short.cut and short.short_label == "MMA"


def test_labels_get_the_room_they_need_before_being_cut():
    chart = hbar_chart([("Mutuelle des Trois Vallées", 72, "72", None)], width=480)
    assert not chart.bars[0].cut
    narrow = hbar_chart([("Suspendu", 6, "6", None)], width=320)
    assert not narrow.bars[0].cut
    # A count of a million still fits after the longest bar.
    big = hbar_chart([("En cours", 1_000_000, "1\u202f000\u202f000", None)], width=320)
    bar = big.bars[0]
    assert big.label_width + bar.width + 6 + text_width(bar.text, 12) <= big.width


def test_a_small_value_beside_a_large_one_is_still_drawn():
    chart = column_chart(
        ["a", "b", "c"],
        ["A", "B", "C"],
        [[100_000, 1, 0], [0, 0, 0]],
        ["ready", "failed"],
        value_text=str,
        tick_text=str,
    )
    big, small, empty = chart.columns
    assert big.segments[0].height == chart.ticks[0].y - chart.ticks[-1].y  # the full plot
    assert small.segments[0].height >= MIN_SEGMENT_HEIGHT
    assert empty.segments == []  # zero is nothing, not a minimum bar


@pytest.mark.parametrize(
    ("largest", "step"),
    [(3, 1), (8, 2), (10, 5), (100_000, 25_000), (1_000_000, 250_000), (34_000_000, 10_000_000)],
)
def test_axis_steps_are_round_and_fill_the_plot(largest, step):
    assert nice_step(largest) == step
    assert largest <= step * 4 < largest * 2.5


def days_of(count: int) -> list[dt.date]:
    return [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(count)]


@pytest.mark.parametrize(("count", "width"), [(7, 460), (31, 640), (92, 460), (341, 640)])
def test_x_labels_shown_never_overlap(count, width):
    labels = [f"{day.day} {['janv.', 'févr.', 'sept.'][day.month % 3]}" for day in days_of(count)]
    chart = column_chart(
        labels, labels, [[1] * count], ["n"], value_text=str, tick_text=str, width=width
    )
    shown = [column for column in chart.columns if column.show_label]
    assert len(shown) >= 2
    for left, right in zip(shown, shown[1:], strict=False):
        gap = (right.x + right.width / 2) - (left.x + left.width / 2)
        half_widths = (text_width(left.label, AXIS_FONT) + text_width(right.label, AXIS_FONT)) / 2
        assert gap >= half_widths, (left.label, right.label)


def test_values_over_columns_show_only_when_they_fit():
    def chart(count: int, text: str):
        return column_chart(
            ["x"] * count,
            ["x"] * count,
            [[5] * count],
            ["n"],
            value_text=str,
            tick_text=str,
            top_text=lambda value: text,
        )

    twelve = chart(12, "20,7\xa0k\xa0€")
    assert twelve.show_values
    slot = (twelve.columns[1].x - twelve.columns[0].x) - 2
    assert text_width("20,7\xa0k\xa0€", VALUE_FONT) <= slot
    assert not chart(31, "1\u202f234\u202f567").show_values  # would overlap its neighbours


def test_days_add_up_into_weeks_starting_on_monday():
    days = days_of(12)  # Thursday 1 January 2026 to Monday 12 January
    counts = DailyCounts(days=days, series={"ready": list(range(12))})
    weeks = counts.by_week()
    assert weeks.days == [dt.date(2026, 1, 1), dt.date(2026, 1, 5), dt.date(2026, 1, 12)]
    assert weeks.series["ready"] == [0 + 1 + 2 + 3, sum(range(4, 11)), 11]
    assert weeks.total("ready") == counts.total("ready")
