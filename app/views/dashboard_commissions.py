"""The commissions card of the dashboard: expected against received per month (stacked:
received, then what is still awaited), per insurer, the open differences of the insurers'
statements and the contracts earning most, in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import url_for
from flask_babel import lazy_gettext as _

from app.services.commissions.statement_export import RESULT_LABELS
from app.services.dashboard.charts import ColumnChart, column_chart
from app.services.dashboard.commissions import Commissions
from app.views.dashboard_formats import Formats, month_axis

CURRENCY = "EUR"  # the rules' currency (app/services/dashboard/commissions.py)
COLOURS = ["#5cb85c", "#f0ad4e"]  # received (green), awaited (orange)


@dataclass(frozen=True)
class Row:
    label: str
    first: str
    second: str
    link: str | None = None


@dataclass(frozen=True)
class CommissionCard:
    chart: ColumnChart
    expected: str
    received: str
    rate: str  # received / expected
    insurers: list[Row]  # name, expected, received
    differences: list[Row]  # kind, lines, gap
    top: list[Row]  # contract number, expected commission, link to the contract

    @property
    def empty(self) -> bool:
        return not self.insurers and not self.differences


def commission_card(data: Commissions, fmt: Formats) -> CommissionCard:
    labels, years, titles = month_axis(fmt, data.months)
    awaited = [max(e - r, Decimal(0)) for e, r in zip(data.expected, data.received, strict=True)]
    chart = column_chart(
        labels,
        titles,
        [data.received, awaited],
        [str(_("Received")), str(_("Awaited"))],
        value_text=lambda value: fmt.money(value, CURRENCY),
        tick_text=lambda value: fmt.compact_money(value, CURRENCY),
        top_text=lambda value: fmt.compact_money(value, CURRENCY),
        sublabels=years,
    )
    expected, received = data.total_expected, data.total_received
    rate = fmt.percent((received * 100 / expected).quantize(Decimal("0.1"))) if expected else "—"
    return CommissionCard(
        chart=chart,
        expected=fmt.money(expected, CURRENCY),
        received=fmt.money(received, CURRENCY),
        rate=rate,
        insurers=[
            Row(row.name, fmt.money(row.expected, CURRENCY), fmt.money(row.received, CURRENCY))
            for row in data.by_insurer
        ],
        differences=[
            Row(
                str(RESULT_LABELS[row.result]),
                fmt.number(row.lines),
                fmt.money(row.gap, CURRENCY),
            )
            for row in data.differences
        ],
        top=[
            Row(
                row.number,
                fmt.money(row.amount, CURRENCY),
                "",
                url_for("PolicyView.show", pk=row.policy_id),
            )
            for row in data.top
        ],
    )
