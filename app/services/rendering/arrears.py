"""A contract's unpaid premiums as plain data: what the mise en demeure (L113-3) states.

The arrears are the contract's notices past their due date with something left to pay
(cancelled notices and refunds aside). The letter names their total and the dates its
sending fixes: once the mise en demeure is recorded sent (the premium notices service),
those recorded dates; before, the dates it fixes if it leaves on the day the document is
made — the suspension 30 days after, the insurer's right to cancel 10 days later
(app/services/renewals/unpaid.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from app.models import LineOfBusiness, NoticeKind, NoticeStatus, Policy, PremiumNotice
from app.services.renewals.unpaid import (
    BASIS,
    CANCELLATION_DAYS,
    SUSPENSION_DAYS,
    formal_notice_possible_on,
)

CENT = Decimal("0.01")


def arrears_context(policy: Policy, today: dt.date) -> dict[str, Any] | None:
    """The contract's arrears on ``today``, or None when nothing past due is unpaid."""
    unpaid = [notice for notice in policy.premium_notices if _in_arrears(notice, today)]
    if not unpaid:
        return None
    sent = [notice for notice in unpaid if notice.formal_notice_sent_on is not None]
    latest = max(sent, key=lambda n: n.formal_notice_sent_on) if sent else None
    return arrears_data(
        notices=[_notice_data(notice) for notice in unpaid],
        today=today,
        sent_on=latest.formal_notice_sent_on if latest else None,
        registered_letter_number=latest.registered_letter_number if latest else None,
        suspension_on=latest.suspension_on if latest else None,
        cancellable_on=latest.cancellable_on if latest else None,
        life_insurance=policy.line_of_business is LineOfBusiness.life,
    )


def arrears_data(
    *,
    notices: list[dict[str, Any]],
    today: dt.date,
    sent_on: dt.date | None = None,
    registered_letter_number: str | None = None,
    suspension_on: dt.date | None = None,
    cancellable_on: dt.date | None = None,
    life_insurance: bool = False,
) -> dict[str, Any]:
    recorded = sent_on is not None
    sent_on = sent_on or today
    suspension_on = suspension_on or sent_on + dt.timedelta(days=SUSPENSION_DAYS)
    cancellable_on = cancellable_on or suspension_on + dt.timedelta(days=CANCELLATION_DAYS)
    earliest_due = min(notice["due_on"] for notice in notices)
    return {
        "notices": notices,
        "amount_due": sum((notice["balance"] for notice in notices), Decimal(0)).quantize(CENT),
        "oldest_due_on": earliest_due,
        "formal_notice_possible_on": formal_notice_possible_on(earliest_due),
        "recorded": recorded,
        "sent_on": sent_on,
        "registered_letter_number": registered_letter_number,
        "suspension_on": suspension_on,
        "cancellable_on": cancellable_on,
        "suspension_days": SUSPENSION_DAYS,
        "cancellation_days": CANCELLATION_DAYS,
        # L132-20: a life contract is never suspended for non-payment.
        "life_insurance": life_insurance,
        "basis": BASIS,
    }


def sample_arrears(today: dt.date, premium: Decimal) -> dict[str, Any]:
    """One quarter unpaid for 20 days, for previews: the letter as if it left today."""
    due = today - dt.timedelta(days=20)
    quarter = (premium / 4).quantize(CENT)
    notice = {
        "number": f"AUTO-{today.year}-00042/1-02",
        "period_start": due,
        "period_end": due + dt.timedelta(days=91),
        "due_on": due,
        "total": quarter,
        "paid": Decimal("0.00"),
        "balance": quarter,
    }
    return arrears_data(notices=[notice], today=today)


def _in_arrears(notice: PremiumNotice, today: dt.date) -> bool:
    return (
        notice.status is not NoticeStatus.cancelled
        and notice.kind is not NoticeKind.refund
        and notice.due_on < today
        and notice.balance > 0
    )


def _notice_data(notice: PremiumNotice) -> dict[str, Any]:
    return {
        "number": notice.number,
        "period_start": notice.period_start,
        "period_end": notice.period_end,
        "due_on": notice.due_on,
        "total": notice.total,
        "paid": notice.paid_amount,
        "balance": notice.balance,
    }
