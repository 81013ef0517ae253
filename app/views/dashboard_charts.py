"""The dashboard's data turned into chart geometry, labels and links, in the reader's
language: the policy cards (status, line, insurer, premiums, expiring), the activity
charts, and the whole page's charts together (``build_charts``). The renewals and the
collections cards are app/views/dashboard_renewal_charts.py and dashboard_money_charts.py;
what every card shares (formats, month axis, widths) is app/views/dashboard_formats.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _

from app.models import DocumentStatus, LineOfBusiness, PolicyStatus
from app.services.dashboard import DashboardData, Scope
from app.services.dashboard.activity import DailyCounts
from app.services.dashboard.charts import ColumnChart, HBarChart, column_chart, hbar_chart
from app.views.base import AGENCY_FILTER
from app.views.dashboard_commissions import CommissionCard, commission_card
from app.views.dashboard_formats import HALF, INSURERS_SHOWN, NARROW, Formats, month_axis
from app.views.dashboard_loss_ratio import LossRatioCard, loss_ratio_card
from app.views.dashboard_money_charts import (
    CollectionChart,
    UnpaidCharts,
    collection_charts,
    unpaid_charts,
)
from app.views.dashboard_renewal_charts import RenewalCharts, renewal_charts
from app.views.labels import enum_label

# A viewBox width matched to its card's Bootstrap column, as the others (dashboard_formats).
DAILY_JOBS_WIDTH = 460
# Up to three months, one column per day; beyond, a day would be a bar 1 px wide in
# the card: one column per week.
MAX_DAILY_COLUMNS = 92


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
    commissions: CommissionCard
    loss_ratio: LossRatioCard


def build_charts(data: DashboardData) -> DashboardCharts:
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
        renewals=renewal_charts(data, fmt),
        collections=collection_charts(data, fmt),
        unpaid=unpaid_charts(data, fmt),
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


def _premium_charts(data: DashboardData, fmt: Formats) -> list[MoneyChart]:
    labels, years, titles = month_axis(fmt, data.premiums.months)
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
