"""Splitting an annual premium into the payments of one period.

Shared by the policy context (app/services/rendering/context.py) and the terms and
renewal context (app/services/rendering/terms.py): both must split money the same way.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import ROUND_DOWN, Decimal
from typing import Any

from app.models import PaymentFrequency

MONTHS_BETWEEN_INSTALMENTS = {
    PaymentFrequency.monthly: 1,
    PaymentFrequency.quarterly: 3,
    PaymentFrequency.semiannual: 6,
    PaymentFrequency.annual: 12,
}
CENT = Decimal("0.01")
MAX_INSTALMENTS = 600  # 50 years of monthly payments


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months``, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def instalments(
    premium: Decimal,
    frequency: PaymentFrequency | str | None,
    effective_date: dt.date,
    expiry_date: dt.date,
) -> list[dict[str, Any]]:
    """Due dates over the period and amounts that add up exactly to the premium.

    The premium is split in equal parts rounded down to the cent; the rounding
    remainder goes on the first instalment (the usual practice: the first
    notice carries the odd cents).
    """
    frequency = PaymentFrequency(frequency) if frequency else PaymentFrequency.annual
    step = MONTHS_BETWEEN_INSTALMENTS[frequency]
    due_dates = [effective_date]
    while len(due_dates) < MAX_INSTALMENTS:
        following = add_months(effective_date, step * len(due_dates))
        if following >= expiry_date:
            break
        due_dates.append(following)
    total = Decimal(premium).quantize(CENT)
    share = (total / len(due_dates)).quantize(CENT, rounding=ROUND_DOWN)
    amounts = [share] * len(due_dates)
    amounts[0] = total - share * (len(due_dates) - 1)
    return [
        {"number": index + 1, "due_date": due, "amount": amount}
        for index, (due, amount) in enumerate(zip(due_dates, amounts, strict=True))
    ]
