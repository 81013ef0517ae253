"""A contract's notices falling due soon, as plain data: what the reminder letter names.

The upcoming notices are the contract's notices not yet past due (due today or later),
within the agency's reminder days, with something left to pay (cancelled notices and
refunds aside): the ones the Impayés work list shows at the "reminder due" stage.
When the contract is paid by SEPA direct debit under an active mandate, the letter is an
"avis de prélèvement" (the sum will be debited on the due date, mandate reference given);
otherwise a "rappel d'échéance" (the sum to pay by the last day).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from app.models import MandateStatus, NoticeKind, NoticeStatus, Policy, PremiumNotice
from app.services.renewals.unpaid import DEFAULT_REMINDER_DAYS

CENT = Decimal("0.01")


def upcoming_context(policy: Policy, today: dt.date) -> dict[str, Any] | None:
    """The contract's notices due within the agency's reminder days, or None when none."""
    days = policy.organisation.reminder_days if policy.organisation else DEFAULT_REMINDER_DAYS
    until = today + dt.timedelta(days=days)
    soon = [notice for notice in policy.premium_notices if _upcoming(notice, today, until)]
    if not soon:
        return None
    mandate = policy.mandate if policy.mandate_id else None
    # The mandate must be the agency's own and still debitable (debits.py asks the same).
    debited = (
        mandate is not None
        and mandate.organisation_id == policy.organisation_id
        and mandate.status is MandateStatus.active
    )
    return upcoming_data(
        notices=[_notice_data(notice) for notice in soon],
        mandate_reference=mandate.reference if debited and mandate else None,
    )


def upcoming_data(
    *, notices: list[dict[str, Any]], mandate_reference: str | None = None
) -> dict[str, Any]:
    return {
        "notices": notices,
        "amount_due": sum((notice["balance"] for notice in notices), Decimal(0)).quantize(CENT),
        "next_due_on": min(notice["due_on"] for notice in notices),
        "last_pay_by": max(notice["pay_by"] for notice in notices),
        "direct_debit": mandate_reference is not None,
        "mandate_reference": mandate_reference,
    }


def sample_upcoming(today: dt.date, premium: Decimal) -> dict[str, Any]:
    """One quarter falling due in ten days, paid by debit, for previews."""
    due = today + dt.timedelta(days=10)
    quarter = (premium / 4).quantize(CENT)
    notice = {
        "number": f"AUTO-{today.year}-00042/1-03",
        "period_start": due,
        "period_end": due + dt.timedelta(days=91),
        "due_on": due,
        "pay_by": due,
        "total": quarter,
        "paid": Decimal("0.00"),
        "balance": quarter,
    }
    return upcoming_data(notices=[notice], mandate_reference="MA-000042")


def _upcoming(notice: PremiumNotice, today: dt.date, until: dt.date) -> bool:
    return (
        notice.status is not NoticeStatus.cancelled
        and notice.kind is not NoticeKind.refund
        and today <= notice.due_on <= until
        and notice.balance > 0
    )


def _notice_data(notice: PremiumNotice) -> dict[str, Any]:
    return {
        "number": notice.number,
        "period_start": notice.period_start,
        "period_end": notice.period_end,
        "due_on": notice.due_on,
        "pay_by": notice.pay_by,
        "total": notice.total,
        "paid": notice.paid_amount,
        "balance": notice.balance,
    }
