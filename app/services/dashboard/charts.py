"""Geometry of the dashboard's SVG charts, computed server-side (no JavaScript).

Plain numbers and strings only: the templates (app/templates/dashboard/) draw
them, and Jinja's autoescaping escapes every label, since insurer names are user
data. Formatting (money, dates) is the caller's: charts only place things.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

Number = int | Decimal

# Horizontal bars: one row per category. Labels take the room their longest one
# needs, up to a share of the width; a longer one is cut with "…" (its <title> and
# the data table keep it whole).
HBAR_WIDTH = 560
HBAR_LABEL_WIDTH = 170
HBAR_LABEL_SHARE = 0.45
HBAR_MIN_LABEL_WIDTH = 60
HBAR_MIN_VALUE_WIDTH = 40
HBAR_ROW = 26
HBAR_BAR = 18
HBAR_FONT = 12

# Columns: a plot with a y axis on the left and labels under the columns.
COLUMN_WIDTH = 640
COLUMN_HEIGHT = 260
PLOT_LEFT = 64
PLOT_RIGHT = 12
PLOT_TOP = 22
PLOT_BOTTOM = 40
Y_TICKS = 4
MAX_VALUE_LABELS = 31
AXIS_FONT = 11
VALUE_FONT = 10
LABEL_GAP = 8  # between two labels of the x axis
# A count of 1 beside a count of 100,000 still shows: no non-zero segment is thinner.
MIN_SEGMENT_HEIGHT = 3
MAX_COLUMN_WIDTH = 60  # one month or a week of days: a column, not a wall

# Advance widths in em, close to DejaVu Sans / Helvetica: the server has no fonts to
# measure with, and an estimate that errs wide keeps labels from overlapping.
_NARROW = frozenset(" ,.:;'!|()[]-ijlft\u202f\u00a0/")
_WIDE = frozenset("mwMW@%")


def text_width(text: str, size: float) -> float:
    """About how wide ``text`` is drawn at font ``size`` (in the SVG's user units)."""
    ems = 0.0
    for char in text:
        if char in _NARROW:
            ems += 0.34
        elif char in _WIDE:
            ems += 0.95
        elif char.isupper():
            ems += 0.72
        elif char.isdigit() or char == "€":
            ems += 0.64
        else:
            ems += 0.6
    return ems * size


def fit(text: str, room: float, size: float) -> str:
    """``text``, or its start and "…" when it is wider than ``room``."""
    if text_width(text, size) <= room:
        return text
    cut = text
    while cut and text_width(cut + "…", size) > room:
        cut = cut[:-1]
    return cut.rstrip() + "…"


@dataclass(slots=True)  # not frozen: a year of days builds thousands
class HBar:
    label: str  # full text, for the tooltip
    short_label: str  # what fits beside the bar
    value: Number
    text: str  # formatted value, shown after the bar and in the tooltip
    y: float
    width: float
    href: str | None = None

    @property
    def cut(self) -> bool:
        return self.short_label != self.label


@dataclass(frozen=True)
class HBarChart:
    bars: list[HBar]
    width: int = HBAR_WIDTH
    height: int = 0
    label_width: int = HBAR_LABEL_WIDTH
    bar_height: int = HBAR_BAR
    row: int = HBAR_ROW

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)


def hbar_chart(
    items: Sequence[tuple[str, Number, str, str | None]],
    *,
    width: int = HBAR_WIDTH,
    label_width: int | None = None,
    scale: Number | None = None,
) -> HBarChart:
    """Bars from (label, value, formatted value, link or None), in the order given.

    A narrow card gets a narrow ``width``, so its text is not scaled down to nothing.
    ``label_width`` defaults to what the longest label needs, within limits. ``scale``
    is the value of a full-length bar (100 for percentages), else the largest value.
    """
    largest = scale or max((item[1] for item in items), default=0) or 1
    if label_width is None:
        needed = max((text_width(item[0], HBAR_FONT) for item in items), default=0) + 10
        label_width = math.ceil(min(max(needed, HBAR_MIN_LABEL_WIDTH), width * HBAR_LABEL_SHARE))
    # The value after the longest bar must fit too: 1 000 000 is wider than 12.
    value_width = max(
        max((text_width(item[2], HBAR_FONT) for item in items), default=0) + 12,
        HBAR_MIN_VALUE_WIDTH,
    )
    room = width - label_width - value_width
    bars = [
        HBar(
            label=label,
            short_label=fit(label, label_width - 10, HBAR_FONT),
            value=value,
            text=text,
            y=index * HBAR_ROW + (HBAR_ROW - HBAR_BAR) / 2,
            width=round(float(value) / float(largest) * room, 1) if value else 0,
            href=href,
        )
        for index, (label, value, text, href) in enumerate(items)
    ]
    return HBarChart(
        bars=bars, height=max(len(bars), 1) * HBAR_ROW, width=width, label_width=label_width
    )


@dataclass(slots=True)  # not frozen: a year of days builds thousands
class Segment:
    series: int  # index into the chart's legend (the template picks the colour)
    value: Number
    title: str
    y: float
    height: float


@dataclass(slots=True)  # not frozen: a year of days builds thousands
class Column:
    label: str  # under the column (short)
    sublabel: str  # a second line under the label (the year under a month), or ""
    heading: str  # the whole date or month, for tooltips and the data table
    title: str
    texts: list[str]  # each series' formatted value, for the data table
    x: float
    width: float
    segments: list[Segment]
    total_text: str
    total_y: float
    show_label: bool


@dataclass(slots=True)  # not frozen: a year of days builds thousands
class Tick:
    y: float
    text: str


@dataclass(frozen=True)
class ColumnChart:
    columns: list[Column]
    ticks: list[Tick]
    legend: list[str]
    show_values: bool
    width: int = COLUMN_WIDTH
    height: int = COLUMN_HEIGHT
    left: int = PLOT_LEFT
    top: int = PLOT_TOP
    bottom: float = COLUMN_HEIGHT - PLOT_BOTTOM
    right: int = COLUMN_WIDTH - PLOT_RIGHT
    totals: list[Number] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(self.totals)


def nice_step(largest: float, ticks: int = Y_TICKS) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) so ``ticks`` steps cover
    ``largest``. 2.5 keeps 100 000 from being drawn on a 200 000 axis (half the plot
    empty); it is left out below 10, where counts would get ticks such as 7.5."""
    if largest <= 0:
        return 1
    raw = largest / ticks
    power = 10 ** math.floor(math.log10(raw))
    factors = (1, 2, 2.5, 5, 10) if power >= 10 else (1, 2, 5, 10)
    for factor in factors:
        if raw <= factor * power:
            return max(factor * power, 1)
    return 10 * power


def column_chart(
    labels: Sequence[str],
    titles: Sequence[str],
    series: Sequence[Sequence[Number]],
    legend: Sequence[str],
    *,
    value_text: Callable[[Number], str],
    tick_text: Callable[[Number], str],
    top_text: Callable[[Number], str] | None = None,
    width: int = COLUMN_WIDTH,
    sublabels: Sequence[str] | None = None,
) -> ColumnChart:
    """Stacked columns: ``series[s][i]`` is series s at column i (label i, tooltip title i).

    ``value_text`` formats tooltips and the data table, ``top_text`` the number shown
    above each column (shorter, e.g. 12,3 k €), ``width`` suits the card's width;
    ``sublabels`` go on a second line under the labels ("" for none).
    """
    top_text = top_text or value_text
    count = len(labels)
    totals: list[Number] = [sum((values[i] for values in series), 0) for i in range(count)]
    step = nice_step(float(max(totals, default=0)))
    ceiling = step * Y_TICKS
    plot_height = COLUMN_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    bottom = COLUMN_HEIGHT - PLOT_BOTTOM
    slot = (width - PLOT_LEFT - PLOT_RIGHT) / max(count, 1)
    bar_width = min(max(slot * 0.7, 1.0) if count <= 60 else max(slot * 0.9, 0.5), MAX_COLUMN_WIDTH)

    def height_of(value: Number) -> float:
        return float(value) / ceiling * plot_height

    # As many x labels as fit side by side; the others are in the tooltips and the table.
    widest = max((text_width(label, AXIS_FONT) for label in labels), default=0)
    label_every = max(math.ceil((widest + LABEL_GAP) / slot), 1)

    columns = []
    for i in range(count):
        segments, top = [], float(bottom)
        for s, values in enumerate(series):
            value = values[i]
            if not value:
                continue
            height = max(height_of(value), MIN_SEGMENT_HEIGHT)
            top -= height
            segments.append(
                Segment(
                    series=s,
                    value=value,
                    title=f"{titles[i]} — {legend[s]}: {value_text(value)}",
                    y=round(top, 2),
                    height=round(height, 2),
                )
            )
        columns.append(
            Column(
                label=labels[i],
                sublabel=sublabels[i] if sublabels else "",
                heading=titles[i],
                # Only columns with something show in the data table.
                texts=[value_text(values[i]) for values in series] if segments else [],
                title=f"{titles[i]}: {value_text(totals[i])}",
                x=round(PLOT_LEFT + i * slot + (slot - bar_width) / 2, 2),
                width=round(bar_width, 2),
                segments=segments,
                total_text=top_text(totals[i]),
                total_y=round(top - 4, 2),
                show_label=i % label_every == 0,
            )
        )
    ticks = [
        Tick(y=round(bottom - height_of(step * n), 2), text=tick_text(step * n))
        for n in range(Y_TICKS + 1)
    ]
    # A number above each column only when every one fits over its column.
    widest_value = max(
        (text_width(column.total_text, VALUE_FONT) for column in columns if column.segments),
        default=0,
    )
    return ColumnChart(
        columns=columns,
        ticks=ticks,
        legend=list(legend),
        show_values=count <= MAX_VALUE_LABELS and widest_value <= slot - 2,
        totals=totals,
        width=width,
        right=width - PLOT_RIGHT,
    )
