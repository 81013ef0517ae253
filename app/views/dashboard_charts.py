"""The dashboard's data turned into chart geometry, labels and links, in the reader's
language (money and dates formatted like the policy list)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.dates import format_date
from babel.numbers import format_compact_currency, format_currency, format_decimal, format_percent
from flask import url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _

from app.models import DocumentStatus, LineOfBusiness, PolicyStatus
from app.services.dashboard import DashboardData, Scope
from app.services.dashboard.activity import DailyCounts
from app.services.dashboard.charts import ColumnChart, HBarChart, column_chart, hbar_chart
from app.services.dashboard.collections import AGE_BUCKETS
from app.services.dashboard.renewals import (
    NOT_RENEW,
    OUTCOMES,
    REMARKET,
    RENEW,
    UNDECIDED,
    retention_rate,
)
from app.views.base import AGENCY_FILTER
from app.views.labels import enum_label

INSURERS_SHOWN = 12
# viewBox widths matched to the cards' Bootstrap columns, so text keeps a readable size.
NARROW = 320
HALF = 480
DAILY_JOBS_WIDTH = 460
# Up to three months, one column per day; beyond, a day would be a bar 1 px wide in
# the card: one column per week.
MAX_DAILY_COLUMNS = 92


# A year of days holds thousands of small counts and dates to format. Babel parses
# its locale on every call and flask_babel looks the locale up through the request
# context: most of the page's time before (measured with cProfile). So the locale is
# read once per page and the few distinct values are formatted once per process.
@lru_cache(maxsize=8192)
def _number(value: Decimal | int, locale: str) -> str:
    return format_decimal(value, locale=locale)


@lru_cache(maxsize=8192)
def _date(day: dt.date, pattern: str, locale: str) -> str:
    return format_date(day, pattern, locale=locale)


class Formats:
    """Numbers, money and dates in one locale (the reader's), as the policy list shows them."""

    def __init__(self, locale: str) -> None:
        self.locale = locale

    @classmethod
    def current(cls) -> Formats:
        return cls(str(get_locale() or "fr"))

    def number(self, value: Decimal | int) -> str:
        return _number(value, self.locale)

    def money(self, amount: Decimal | int, currency: str) -> str:
        return format_currency(amount, currency, locale=self.locale)

    def compact_money(self, amount: Decimal | int, currency: str) -> str:
        """12,3 k € or 104 M € for axis ticks and column tops: three figures at most, so
        the text fits over a column (the tooltip holds the exact amount)."""
        if abs(amount) < 1000:
            return format_compact_currency(
                round(amount), currency, locale=self.locale, fraction_digits=0
            )
        unit = 1000
        while abs(amount) >= unit * 1000 and unit < 10**12:
            unit *= 1000
        digits = 0 if abs(amount) / unit >= 100 else 1
        return format_compact_currency(amount, currency, locale=self.locale, fraction_digits=digits)

    def date(self, day: dt.date, pattern: str) -> str:
        return _date(day, pattern, self.locale)

    def percent(self, value: Decimal) -> str:
        """87,5 % from 87.5 (one decimal, none when it is 0: 100 %, not 100,0 %)."""
        share = (value / 100).quantize(Decimal("0.001")).normalize()
        return format_percent(share, locale=self.locale, decimal_quantization=False)


def policy_list_url(scope: Scope, **filters: Any) -> str:
    """The policy list with FAB's filter arguments: ``_flt_<index>_<column>=value``, where
    index is the filter's position for that column type (SQLAFilterConverter): 0 "equal"
    for enums and relations; 1 "greater than" and 2 "smaller than" for dates.

    The agency goes in too: SUPERADMIN's list shows every agency's policies otherwise.
    """
    if scope.organisation_id is not None:
        filters.setdefault(AGENCY_FILTER, scope.organisation_id)
    if scope.company_id is not None:
        filters.setdefault("_flt_0_company", scope.company_id)
    return url_for("PolicyView.list", **filters)


def expiring_url(scope: Scope, days: int) -> str:
    """Active policies expiring in [today, today + days], soonest first.

    FAB's date filters are strict (> and <), so each bound is one day outside.
    """
    return policy_list_url(
        scope,
        _flt_0_status=PolicyStatus.active.value,
        _flt_1_expiry_date=(scope.today - dt.timedelta(days=1)).isoformat(),
        _flt_2_expiry_date=(scope.today + dt.timedelta(days=days + 1)).isoformat(),
        _oc_PolicyView="expiry_date",
        _od_PolicyView="asc",
    )


@dataclass(frozen=True)
class ExpiringLink:
    days: int
    count: int
    text: str
    href: str


@dataclass(frozen=True)
class MoneyChart:
    currency: str
    chart: ColumnChart
    total: str


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


@dataclass(frozen=True)
class DashboardCharts:
    by_status: HBarChart
    by_line: HBarChart
    by_insurer: HBarChart
    premiums: list[MoneyChart]
    premium_policies: int
    expiring: list[ExpiringLink]
    documents: ColumnChart
    documents_ready: str
    documents_failed: str
    failed_jobs: ColumnChart
    failed_jobs_total: str
    weekly: bool  # the two activity charts have a column per week, not per day
    renewals: RenewalCharts
    collections: list[CollectionChart]
    unpaid: list[UnpaidCharts]
    unpaid_notices: str
    commissions: Any  # CommissionCard (app/views/dashboard_commissions.py)
    loss_ratio: Any  # LossRatioCard (app/views/dashboard_loss_ratio.py)


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


def build_charts(data: DashboardData) -> DashboardCharts:
    from app.views.dashboard_commissions import commission_card  # it reuses Formats
    from app.views.dashboard_loss_ratio import loss_ratio_card

    scope, fmt = data.scope, Formats.current()
    return DashboardCharts(
        by_status=hbar_chart(
            [
                (
                    enum_label(status, PolicyStatus),
                    count,
                    fmt.number(count),
                    policy_list_url(scope, _flt_0_status=status.value),
                )
                for status, count in data.by_status.items()
            ],
            width=NARROW,
        ),
        by_line=hbar_chart(
            [
                (
                    enum_label(line, LineOfBusiness),
                    count,
                    fmt.number(count),
                    policy_list_url(scope, _flt_0_line_of_business=line.value),
                )
                for line, count in data.by_line.items()
            ],
            width=HALF,
        ),
        by_insurer=_insurer_chart(data, fmt),
        premiums=_premium_charts(data, fmt),
        premium_policies=sum(data.premiums.policies),
        expiring=[
            ExpiringLink(days, count, fmt.number(count), expiring_url(scope, days))
            for days, count in data.expiring.counts.items()
        ],
        documents=_activity_chart(
            fmt,
            data.documents,
            [status.value for status in _DOCUMENT_SERIES],
            [enum_label(status, DocumentStatus) for status in _DOCUMENT_SERIES],
        ),
        documents_ready=fmt.number(data.documents.total(DocumentStatus.ready.value)),
        documents_failed=fmt.number(data.documents.total(DocumentStatus.failed.value)),
        failed_jobs=_activity_chart(
            fmt, data.failed_jobs, ["failed"], [str(_("Failed jobs"))], width=DAILY_JOBS_WIDTH
        ),
        failed_jobs_total=fmt.number(data.failed_jobs.total("failed")),
        weekly=_weekly(data.documents),
        renewals=_renewal_charts(data, fmt),
        collections=_collection_charts(data, fmt),
        unpaid=_unpaid_charts(data, fmt),
        unpaid_notices=fmt.number(sum(data.unpaid.notices_by_age)),
        commissions=commission_card(data.commissions, fmt),
        loss_ratio=loss_ratio_card(data.loss_ratio, fmt),
    )


_DOCUMENT_SERIES = (DocumentStatus.ready, DocumentStatus.failed)


def _insurer_chart(data: DashboardData, fmt: Formats) -> HBarChart:
    """The largest insurers, then one bar for the others (the query returns every one)."""
    shown, rest = data.by_insurer[:INSURERS_SHOWN], data.by_insurer[INSURERS_SHOWN:]
    items: list[tuple[str, Any, str, str | None]] = [
        (
            row.name,
            row.policies,
            fmt.number(row.policies),
            policy_list_url(data.scope, _flt_0_company=row.company_id),
        )
        for row in shown
    ]
    if rest:
        others = sum(row.policies for row in rest)
        label = str(_("%(num)d other insurers", num=len(rest)))
        items.append((label, others, fmt.number(others), None))
    return hbar_chart(items, width=HALF)


def _month_axis(fmt: Formats, months: list[dt.date]) -> tuple[list[str], list[str], list[str]]:
    """Labels, the year under the first month and each January, and tooltip titles."""
    # "janv." over "2026": "janv. 26" under each of 12 columns would not fit side by side.
    labels = [fmt.date(month, "MMM") for month in months]
    years = [
        fmt.date(month, "yyyy") if index == 0 or month.month == 1 else ""
        for index, month in enumerate(months)
    ]
    return labels, years, [fmt.date(month, "MMMM yyyy") for month in months]


def _premium_charts(data: DashboardData, fmt: Formats) -> list[MoneyChart]:
    labels, years, titles = _month_axis(fmt, data.premiums.months)
    charts = []
    for currency, values in data.premiums.by_currency.items():
        chart = column_chart(
            labels,
            titles,
            [values],
            [str(_("Premiums"))],
            value_text=lambda value, currency=currency: fmt.money(value, currency),
            tick_text=lambda value, currency=currency: fmt.compact_money(value, currency),
            top_text=lambda value, currency=currency: fmt.compact_money(value, currency),
            sublabels=years,
        )
        charts.append(MoneyChart(currency, chart, fmt.money(sum(values), currency)))
    return charts


def _weekly(counts: DailyCounts) -> bool:
    return len(counts.days) > MAX_DAILY_COLUMNS


def _activity_chart(
    fmt: Formats,
    counts: DailyCounts,
    names: list[str],
    legend: list[str],
    width: int = 640,
) -> ColumnChart:
    """A column per day, or per week over a long period (titled "week of ...")."""
    if _weekly(counts):
        counts = counts.by_week()
        titles = [str(_("Week of %(date)s", date=fmt.date(day, "long"))) for day in counts.days]
    else:
        titles = [fmt.date(day, "long") for day in counts.days]
    return column_chart(
        [fmt.date(day, "d MMM") for day in counts.days],
        titles,
        [counts.series[name] for name in names],
        legend,
        value_text=fmt.number,
        tick_text=fmt.number,
        width=width,
    )


# The renewals' outcomes, bottom to top, and their colours (green, orange, red, grey).
OUTCOME_LABELS = {
    RENEW: _("Renewed or to renew"),
    REMARKET: _("To remarket"),
    NOT_RENEW: _("Not renewed"),
    UNDECIDED: _("No decision yet"),
}
OUTCOME_COLOURS = ["#5cb85c", "#f0ad4e", "#d9534f", "#aaaaaa"]


def _renewal_charts(data: DashboardData, fmt: Formats) -> RenewalCharts:
    due, retention = data.renewals_due, data.retention
    labels, years, titles = _month_axis(fmt, due.months)
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


COLLECTION_COLOURS = ["#5cb85c", "#f0ad4e"]  # collected (green), outstanding (orange)
AGE_LABELS = {
    (1, 30): _("1 to 30 days"),
    (31, 60): _("31 to 60 days"),
    (61, 90): _("61 to 90 days"),
    (91, None): _("over 90 days"),
}


def _collection_charts(data: DashboardData, fmt: Formats) -> list[CollectionChart]:
    collections = data.collections
    labels, years, titles = _month_axis(fmt, collections.months)
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


def _unpaid_charts(data: DashboardData, fmt: Formats) -> list[UnpaidCharts]:
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
