"""The unpaid-premium procedure of L113-3 and R113-1: dates in, dates and a stage out.

Pure like rules.py (standard library only). A premium notice (quittance) due on a day and
not paid goes through: a reminder before the due date (the agency's choice of days), a
relance after it, the mise en demeure (possible once the 10 days that follow the due date
have passed), the suspension of cover 30 days after the mise en demeure is *sent*, and
the insurer's right to cancel 10 days after the suspension — never automatic. Paying the
arrears restores cover at noon the day after the payment. docs/domain-rules.md lists the
counting decisions; tests/test_unpaid_rules.py holds the table of cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

BASIS = "L113-3"
PAYMENT_GRACE_DAYS = 10  # L113-3 al. 1: unpaid "dans les dix jours de son échéance"
SUSPENSION_DAYS = 30  # L113-3 al. 2: "trente jours après la mise en demeure"
CANCELLATION_DAYS = 10  # L113-3 al. 3: "dix jours après l'expiration du délai de trente jours"
RESTORED_AT = dt.time(12, 0)  # L113-3 al. 4: "le lendemain à midi du jour où ont été payées"
DEFAULT_REMINDER_DAYS = 15  # the agency's choice, before the due date (not a legal delay)
DEFAULT_RELANCE_DAYS = 5  # the agency's choice, after the due date (not a legal delay)


class Stage(StrEnum):
    """Where an unpaid notice stands; the doors translate these keys."""

    up_to_date = "up_to_date"  # not due yet, or paid
    reminder_due = "reminder_due"  # the reminder before the due date may go out
    overdue = "overdue"  # due and unpaid, within the 10 days: relance time
    formal_notice_possible = "formal_notice_possible"
    in_formal_notice = "in_formal_notice"  # sent; cover runs until the suspension
    suspended = "suspended"
    cancellable = "cancellable"  # the insurer may cancel; nothing happens by itself
    cancelled = "cancelled"  # cancelled for non-payment
    restored = "restored"  # paid after the suspension: cover restored


class UnpaidRefusal(Exception):  # noqa: N818 (a refusal is the rule's answer, not a crash)
    """The step is not allowed on that date; ``reason`` is a stable key."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{BASIS}: {reason}")
        self.reason = reason
        self.basis = BASIS


@dataclass(frozen=True)
class FormalNotice:
    """The dates a mise en demeure sent on ``sent_on`` fixes."""

    sent_on: dt.date
    suspension_on: dt.date  # the first day without cover
    cancellable_on: dt.date  # the first day the insurer may cancel
    # A split annual premium: the suspension lasts to the end of the annual period unless
    # the arrears are paid (al. 4); None for a premium paid in one go.
    suspension_ends_on: dt.date | None


@dataclass(frozen=True)
class NoticeFacts:
    """What the procedure needs to know about one notice (all dates calendar days)."""

    due_on: dt.date
    paid_on: dt.date | None = None  # the day the arrears were paid in full
    formal_notice_sent_on: dt.date | None = None
    cancelled_on: dt.date | None = None  # cancelled for non-payment (by the insurer)
    life_insurance: bool = False  # L132-20: no suspension for non-payment
    annual_period_ends_on: dt.date | None = None  # split premium: the term's end


def formal_notice_possible_on(due_on: dt.date) -> dt.date:
    """The first day a mise en demeure may be sent: once the 10 days after the due date are over.

    The client has the 10 days that follow the due date to pay (due + 1 … due + 10); the
    letter may leave on the 11th day (decision in docs/domain-rules.md).
    """
    return due_on + dt.timedelta(days=PAYMENT_GRACE_DAYS + 1)


def formal_notice(facts: NoticeFacts, sent_on: dt.date) -> FormalNotice:
    """The suspension and cancellation dates of a mise en demeure sent on ``sent_on``.

    Raises UnpaidRefusal when it may not be sent that day: life insurance (L132-20),
    already paid, before the 10 days are over, or already cancelled.
    """
    if facts.life_insurance:
        raise UnpaidRefusal("life_insurance_excluded")
    if facts.cancelled_on is not None:
        raise UnpaidRefusal("already_cancelled")
    if facts.paid_on is not None and facts.paid_on <= sent_on:
        raise UnpaidRefusal("already_paid")
    if sent_on < formal_notice_possible_on(facts.due_on):
        raise UnpaidRefusal("before_payment_grace_ends")
    suspension_on = sent_on + dt.timedelta(days=SUSPENSION_DAYS)
    cancellable_on = suspension_on + dt.timedelta(days=CANCELLATION_DAYS)
    return FormalNotice(sent_on, suspension_on, cancellable_on, facts.annual_period_ends_on)


def restored_at(paid_on: dt.date) -> dt.datetime:
    """When paid arrears restore a suspended cover: noon the next day (agency's local time)."""
    return dt.datetime.combine(paid_on + dt.timedelta(days=1), RESTORED_AT)


def reminder_on(due_on: dt.date, days_before: int = DEFAULT_REMINDER_DAYS) -> dt.date:
    """The day the reminder before the due date goes out (the agency's setting)."""
    return due_on - dt.timedelta(days=days_before)


def relance_on(due_on: dt.date, days_after: int = DEFAULT_RELANCE_DAYS) -> dt.date:
    """The day the relance after the due date goes out (the agency's setting)."""
    return due_on + dt.timedelta(days=days_after)


def stage_on(
    facts: NoticeFacts, on: dt.date, *, reminder_days: int = DEFAULT_REMINDER_DAYS
) -> Stage:
    """Where the notice stands on ``on``."""
    if facts.cancelled_on is not None and facts.cancelled_on <= on:
        return Stage.cancelled
    sent = facts.formal_notice_sent_on
    notice = None
    if sent is not None and sent <= on and not facts.life_insurance:
        notice = FormalNotice(
            sent,
            sent + dt.timedelta(days=SUSPENSION_DAYS),
            sent + dt.timedelta(days=SUSPENSION_DAYS + CANCELLATION_DAYS),
            facts.annual_period_ends_on,
        )
    if facts.paid_on is not None and facts.paid_on <= on:
        if notice is not None and facts.paid_on >= notice.suspension_on:
            return Stage.restored
        return Stage.up_to_date
    if on < reminder_on(facts.due_on, reminder_days):
        return Stage.up_to_date
    if on <= facts.due_on:
        return Stage.reminder_due
    if notice is None:
        if on < formal_notice_possible_on(facts.due_on) or facts.life_insurance:
            return Stage.overdue
        return Stage.formal_notice_possible
    if on < notice.suspension_on:
        return Stage.in_formal_notice
    if on < notice.cancellable_on:
        return Stage.suspended
    return Stage.cancellable


def covered_on(facts: NoticeFacts, moment: dt.datetime) -> bool:
    """Whether the cover runs at ``moment`` (agency's local time) as far as this notice goes."""
    stage = stage_on(facts, moment.date())
    if stage in (Stage.suspended, Stage.cancellable, Stage.cancelled):
        return False
    if stage is Stage.restored and facts.paid_on is not None:
        return moment >= restored_at(facts.paid_on)
    return True
