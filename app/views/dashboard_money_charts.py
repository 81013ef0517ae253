"""The dashboard's collection cards: per currency, premiums collected and outstanding per
month of due date, and the unpaid amounts by age and by insurer."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _

from app.services.dashboard import DashboardData
from app.services.dashboard.charts import ColumnChart, HBarChart, column_chart, hbar_chart
from app.services.dashboard.collections import AGE_BUCKETS
from app.views.dashboard_formats import HALF, INSURERS_SHOWN, NARROW, Formats, month_axis


@dataclass(frozen=True)
class CollectionChart:
    """One currency: per month of due date, collected and outstanding (stacked: issued)."""

    currency: str
    chart: ColumnChart
    issued: str
    collected: str
    rate: str  # collected / issued


@dataclass(frozen=True)
class UnpaidCharts:
    currency: str
    total: str
    by_age: HBarChart
    by_insurer: HBarChart


COLLECTION_COLOURS = ["#5cb85c", "#f0ad4e"]  # collected (green), outstanding (orange)
AGE_LABELS = {
    (1, 30): _("1 to 30 days"),
    (31, 60): _("31 to 60 days"),
    (61, 90): _("61 to 90 days"),
    (91, None): _("over 90 days"),
}


def collection_charts(data: DashboardData, fmt: Formats) -> list[CollectionChart]:
    collections = data.collections
    labels, years, titles = month_axis(fmt, collections.months)
    charts = []
    for currency in sorted(collections.collected, key=lambda c: -collections.issued(c)):
        collected = collections.collected[currency]
        issued = collections.issued(currency)
        chart = column_chart(
            labels,
            titles,
            [collected, collections.outstanding[currency]],
            [str(_("Collected")), str(_("Outstanding"))],
            value_text=lambda value, currency=currency: fmt.money(value, currency),
            tick_text=lambda value, currency=currency: fmt.compact_money(value, currency),
            top_text=lambda value, currency=currency: fmt.compact_money(value, currency),
            sublabels=years,
        )
        got = sum(collected, Decimal(0))
        rate = fmt.percent((got * 100 / issued).quantize(Decimal("0.1"))) if issued else "—"
        charts.append(
            CollectionChart(
                currency, chart, fmt.money(issued, currency), fmt.money(got, currency), rate
            )
        )
    return charts


def unpaid_charts(data: DashboardData, fmt: Formats) -> list[UnpaidCharts]:
    unpaid = data.unpaid
    charts = []
    for currency, amounts in sorted(unpaid.by_age.items(), key=lambda item: -sum(item[1])):
        ages = [
            (str(AGE_LABELS[bucket]), amount, fmt.money(amount, currency), None)
            for bucket, amount in zip(AGE_BUCKETS, amounts, strict=True)
        ]
        rows = unpaid.by_insurer.get(currency, [])
        shown, rest = rows[:INSURERS_SHOWN], rows[INSURERS_SHOWN:]
        insurers: list[tuple[str, Any, str, str | None]] = [
            (row.name, row.amount, fmt.money(row.amount, currency), None) for row in shown
        ]
        if rest:
            others = sum((row.amount for row in rest), Decimal(0))
            label = str(_("%(num)d other insurers", num=len(rest)))
            insurers.append((label, others, fmt.money(others, currency), None))
        charts.append(
            UnpaidCharts(
                currency,
                fmt.money(sum(amounts, Decimal(0)), currency),
                hbar_chart(ages, width=NARROW),
                hbar_chart(insurers, width=HALF),
            )
        )
    return charts
