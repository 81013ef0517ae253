"""A term's instalments: due dates by the payment frequency, amounts that add up exactly.

Pure (standard library and the model's enum only). The premium is split in equal parts
rounded down to the cent and the remainder goes on the first instalment, the usual
practice (the first notice carries the odd cents).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from app.models.policy import PaymentFrequency
from app.services.renewals.rules import add_months

CENT = Decimal("0.01")
MONTHS_BETWEEN_INSTALMENTS = {
    PaymentFrequency.monthly: 1,
    PaymentFrequency.quarterly: 3,
    PaymentFrequency.semiannual: 6,
    PaymentFrequency.annual: 12,
}
MAX_INSTALMENTS = 600  # 50 years of monthly payments


@dataclass(frozen=True)
class Instalment:
    number: int  # 1..n
    period_start: dt.date
    period_end: dt.date  # the next instalment's due date, or the term's end
    due_on: dt.date
    total: Decimal


def instalment_schedule(
    premium: Decimal,
    frequency: PaymentFrequency | str | None,
    start: dt.date,
    end: dt.date,
) -> list[Instalment]:
    """The instalments of ``premium`` over [start, end), each due on its period's first day."""
    frequency = PaymentFrequency(frequency) if frequency else PaymentFrequency.annual
    step = MONTHS_BETWEEN_INSTALMENTS[frequency]
    due_dates = [start]
    while len(due_dates) < MAX_INSTALMENTS:
        following = add_months(start, step * len(due_dates))
        if following >= end:
            break
        due_dates.append(following)
    total = Decimal(premium).quantize(CENT)
    share = (total / len(due_dates)).quantize(CENT, rounding=ROUND_DOWN)
    amounts = [share] * len(due_dates)
    amounts[0] = total - share * (len(due_dates) - 1)
    ends = [*due_dates[1:], end]
    return [
        Instalment(index + 1, due, period_end, due, amount)
        for index, (due, period_end, amount) in enumerate(
            zip(due_dates, ends, amounts, strict=True)
        )
    ]
