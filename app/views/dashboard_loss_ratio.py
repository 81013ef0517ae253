"""The loss ratio card of the dashboard: claims paid over premiums, per insurer (a bar each,
a full bar is 100 % or the worst ratio beyond it) and per line, over the dashboard's period
and filters, in the reader's language. The figures come from
app/services/claims/loss_ratio.py, as the API's ``GET /api/v1/claim/loss-ratio``."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.models import LineOfBusiness
from app.services.dashboard.charts import HBarChart, hbar_chart
from app.services.vocabulary import enum_label
from app.views.dashboard_formats import Formats

CURRENCY = "EUR"  # the book's premiums and indemnities (the demo's and our agencies')
HUNDRED = Decimal(100)
NO_RATIO = "—"  # claims paid and no premium over the period: no ratio, not an infinite one


@dataclass(frozen=True)
class RatioRow:
    label: str
    paid: str
    premiums: str
    ratio: str


@dataclass(frozen=True)
class LossRatioCard:
    chart: HBarChart
    insurers: list[RatioRow]
    lines: list[RatioRow]
    total: RatioRow

    @property
    def empty(self) -> bool:
        return not self.insurers


def loss_ratio_card(figures: dict[str, Any], fmt: Formats) -> LossRatioCard:
    def row(item: dict[str, Any], label: str) -> RatioRow:
        ratio = item["ratio_percent"]
        return RatioRow(
            label=label,
            paid=fmt.money(Decimal(item["paid"]), CURRENCY),
            premiums=fmt.money(Decimal(item["premiums"]), CURRENCY),
            ratio=fmt.percent(Decimal(ratio)) if ratio is not None else NO_RATIO,
        )

    insurers = figures["by_insurer"]
    ratios = [Decimal(item["ratio_percent"] or 0) for item in insurers]
    chart = hbar_chart(
        [
            (item["name"], value, row(item, item["name"]).ratio, None)
            for item, value in zip(insurers, ratios, strict=True)
        ],
        scale=max([HUNDRED, *ratios]),
    )
    return LossRatioCard(
        chart=chart,
        insurers=[row(item, item["name"]) for item in insurers],
        lines=[
            row(item, enum_label(LineOfBusiness(item["key"]), LineOfBusiness))
            for item in figures["by_line"]
        ],
        total=row(figures["total"], ""),
    )
