"""The instalments a document shows: the premium notices' own split, as plain data.

One split for the whole application (app/services/premiums/schedule.py): an avis
d'échéance or a contract prints exactly the amounts the premium notices will ask for,
odd cents on the first instalment.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from app.models import PaymentFrequency
from app.services.premiums.schedule import (
    CENT,
    MAX_INSTALMENTS,
    MONTHS_BETWEEN_INSTALMENTS,
    instalment_schedule,
)
from app.services.renewals.rules import add_months

__all__ = ["CENT", "MAX_INSTALMENTS", "MONTHS_BETWEEN_INSTALMENTS", "add_months", "instalments"]


def instalments(
    premium: Decimal,
    frequency: PaymentFrequency | str | None,
    effective_date: dt.date,
    expiry_date: dt.date,
) -> list[dict[str, Any]]:
    """Due dates over the period and amounts that add up exactly to the premium."""
    return [
        {"number": line.number, "due_date": line.due_on, "amount": line.total}
        for line in instalment_schedule(premium, frequency, effective_date, expiry_date)
    ]
