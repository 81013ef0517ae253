"""Where a premium notice stands: its status from what is paid, its stage from the dates.

One place for both, used by payments (a payment settles, a rejection re-opens) and by
the daily procedure run (app/services/premiums/procedure.py).
"""

from __future__ import annotations

import datetime as dt

from app.models import LineOfBusiness, NoticeKind, NoticeStatus, PremiumNotice, UnpaidStage
from app.services.renewals.unpaid import DEFAULT_REMINDER_DAYS, NoticeFacts, restored_at, stage_on

OPEN = (NoticeStatus.issued, NoticeStatus.partly_paid, NoticeStatus.unpaid)
SUSPENDED_STAGES = (UnpaidStage.suspended, UnpaidStage.cancellable)


def settle(notice: PremiumNotice, today: dt.date, *, paid_on: dt.date | None = None) -> None:
    """A notice's status from what is paid; paying off a suspended one restores the cover."""
    # A refund (negative total) is money the client is owed: nothing to collect, so its
    # balance below zero does not make it "paid", and it never falls "unpaid".
    if notice.status is NoticeStatus.cancelled or notice.kind is NoticeKind.refund:
        return
    if notice.balance <= 0:
        if notice.stage in SUSPENDED_STAGES and paid_on is not None:
            notice.stage = UnpaidStage.restored
            notice.restored_at = restored_at(paid_on)
        elif notice.stage is not UnpaidStage.restored:
            notice.stage = UnpaidStage.up_to_date
        notice.status = NoticeStatus.paid
    elif notice.paid_amount > 0:
        notice.status = NoticeStatus.partly_paid
    elif notice.due_on < today:
        notice.status = NoticeStatus.unpaid
    else:
        notice.status = NoticeStatus.issued


def facts_of(notice: PremiumNotice) -> NoticeFacts:
    """What the L113-3 rules need to know about a stored notice."""
    term = notice.term
    return NoticeFacts(
        due_on=notice.due_on,
        paid_on=None,  # only open (not fully paid) notices are read
        formal_notice_sent_on=notice.formal_notice_sent_on,
        cancelled_on=notice.cancelled_on,
        life_insurance=notice.policy.line_of_business is LineOfBusiness.life,
        annual_period_ends_on=term.end_date if term is not None and notice.instalment else None,
    )


def refresh_stage(
    notice: PremiumNotice, today: dt.date, reminder_days: int = DEFAULT_REMINDER_DAYS
) -> bool:
    """Move an open notice to the stage of ``today``; True when it changed."""
    if notice.status not in OPEN or notice.kind is NoticeKind.refund:
        return False
    before = (notice.stage, notice.status)
    notice.stage = UnpaidStage(stage_on(facts_of(notice), today, reminder_days=reminder_days).value)
    settle(notice, today)
    return (notice.stage, notice.status) != before
