"""The dashboard's renewals card: renewals per month of échéance, stacked by outcome,
and the retention rate per insurer with its data table."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _

from app.services.dashboard import DashboardData
from app.services.dashboard.charts import ColumnChart, HBarChart, column_chart, hbar_chart
from app.services.dashboard.renewals import (
    NOT_RENEW,
    OUTCOMES,
    REMARKET,
    RENEW,
    UNDECIDED,
    retention_rate,
)
from app.views.dashboard_formats import HALF, INSURERS_SHOWN, Formats, month_axis


@dataclass(frozen=True)
class RetentionRow:
    name: str
    due: str
    renewed: str
    pending: str
    rate: str


@dataclass(frozen=True)
class RenewalCharts:
    due: ColumnChart  # renewals per month of échéance, stacked by outcome
    due_colours: list[str]  # one per outcome, as the legend
    due_total: str
    retention: HBarChart  # renewed / due per insurer, a full bar is 100 %
    retention_rows: list[RetentionRow]  # the data table, every insurer
    retention_overall: str  # every insurer together, "—" when nothing was due
    retention_from: str
    retention_to: str


# The renewals' outcomes, bottom to top, and their colours (green, orange, red, grey).
OUTCOME_LABELS = {
    RENEW: _("Renewed or to renew"),
    REMARKET: _("To remarket"),
    NOT_RENEW: _("Not renewed"),
    UNDECIDED: _("No decision yet"),
}
OUTCOME_COLOURS = ["#5cb85c", "#f0ad4e", "#d9534f", "#aaaaaa"]


def renewal_charts(data: DashboardData, fmt: Formats) -> RenewalCharts:
    due, retention = data.renewals_due, data.retention
    labels, years, titles = month_axis(fmt, due.months)
    shown, rest = retention.insurers[:INSURERS_SHOWN], retention.insurers[INSURERS_SHOWN:]
    bars: list[tuple[str, Any, str, str | None]] = [
        (row.name, row.rate or 0, _rate_text(fmt, row.rate, row.renewed, row.due), None)
        for row in shown
    ]
    if rest:
        renewed, due_count = sum(row.renewed for row in rest), sum(row.due for row in rest)
        rate = retention_rate(renewed, due_count)
        label = str(_("%(num)d other insurers", num=len(rest)))
        bars.append((label, rate or 0, _rate_text(fmt, rate, renewed, due_count), None))
    every_renewed = sum(row.renewed for row in retention.insurers)
    every_due = sum(row.due for row in retention.insurers)
    overall = retention_rate(every_renewed, every_due)
    return RenewalCharts(
        due=column_chart(
            labels,
            titles,
            [due.by_outcome[outcome] for outcome in OUTCOMES],
            [str(OUTCOME_LABELS[outcome]) for outcome in OUTCOMES],
            value_text=fmt.number,
            tick_text=fmt.number,
            sublabels=years,
        ),
        due_colours=OUTCOME_COLOURS,
        due_total=fmt.number(due.total()),
        retention=hbar_chart(bars, width=HALF, scale=100),
        retention_rows=[
            RetentionRow(
                row.name,
                fmt.number(row.due),
                fmt.number(row.renewed),
                fmt.number(row.pending),
                fmt.percent(row.rate) if row.rate is not None else "—",
            )
            for row in retention.insurers
        ],
        retention_overall=_rate_text(fmt, overall, every_renewed, every_due),
        retention_from=fmt.date(retention.first_day, "long"),
        retention_to=fmt.date(retention.last_day, "long"),
    )


def _rate_text(fmt: Formats, rate: Decimal | None, renewed: int, due: int) -> str:
    """87,5 % (7 / 8): the share and the counts it comes from."""
    if rate is None:
        return "—"
    return f"{fmt.percent(rate)} ({fmt.number(renewed)} / {fmt.number(due)})"
