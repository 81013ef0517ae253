"""The L113-3 unpaid-premium procedure, case by case; each id names the paragraph it follows."""

from __future__ import annotations

import datetime as dt

import pytest

from app.services.renewals.unpaid import (
    NoticeFacts,
    Stage,
    UnpaidRefusal,
    covered_on,
    formal_notice,
    formal_notice_possible_on,
    relance_on,
    reminder_on,
    restored_at,
    stage_on,
)

D = dt.date

# (due date, first day a mise en demeure may be sent): al. 1, the 10 days after the due date.
POSSIBLE = [
    pytest.param(D(2026, 12, 1), D(2026, 12, 12), id="L113-3 al1: due 1 Dec, letter from 12 Dec"),
    pytest.param(D(2026, 12, 31), D(2027, 1, 11), id="L113-3 al1: across the year end"),
    pytest.param(D(2027, 2, 20), D(2027, 3, 3), id="L113-3 al1: across a common February"),
    pytest.param(D(2028, 2, 20), D(2028, 3, 2), id="L113-3 al1: across 29 Feb 2028"),
    pytest.param(D(2026, 12, 5), D(2026, 12, 16), id="L113-3 al1: weekends do not move it"),
]


@pytest.mark.parametrize(("due", "first_day"), POSSIBLE)
def test_formal_notice_possible_once_the_ten_days_are_over(due, first_day):
    assert formal_notice_possible_on(due) == first_day


# (sent on, suspension from, cancellable from): al. 2 (30 days from sending) and al. 3 (+10 days).
SENT = [
    pytest.param(
        D(2026, 12, 31), D(2027, 1, 30), D(2027, 2, 9), id="L113-3 al2-3: sent on the 31st"
    ),
    pytest.param(
        D(2027, 1, 31), D(2027, 3, 2), D(2027, 3, 12), id="L113-3 al2: across Feb (common)"
    ),
    pytest.param(D(2028, 1, 31), D(2028, 3, 1), D(2028, 3, 11), id="L113-3 al2: across Feb (leap)"),
    pytest.param(D(2027, 2, 28), D(2027, 3, 30), D(2027, 4, 9), id="L113-3 al2: sent 28 Feb"),
    pytest.param(D(2026, 11, 21), D(2026, 12, 21), D(2026, 12, 31), id="L113-3 al2-3: in the year"),
]


@pytest.mark.parametrize(("sent", "suspension", "cancellable"), SENT)
def test_a_formal_notice_fixes_suspension_and_cancellation(sent, suspension, cancellable):
    notice = formal_notice(NoticeFacts(due_on=D(2026, 11, 1)), sent)
    assert (notice.suspension_on, notice.cancellable_on) == (suspension, cancellable)
    assert notice.suspension_ends_on is None


REFUSED = [
    pytest.param(
        NoticeFacts(D(2026, 12, 1)),
        D(2026, 12, 11),
        "before_payment_grace_ends",
        id="L113-3 al1: on the 10th day after the due date, too early",
    ),
    pytest.param(
        NoticeFacts(D(2026, 12, 1)),
        D(2026, 11, 30),
        "before_payment_grace_ends",
        id="L113-3 al1: before the due date",
    ),
    pytest.param(
        NoticeFacts(D(2026, 12, 1), paid_on=D(2026, 12, 10)),
        D(2026, 12, 20),
        "already_paid",
        id="L113-3 al1: paid within the 10 days",
    ),
    pytest.param(
        NoticeFacts(D(2026, 12, 1), life_insurance=True),
        D(2026, 12, 20),
        "life_insurance_excluded",
        id="L132-20: no suspension for life insurance",
    ),
    pytest.param(
        NoticeFacts(D(2026, 12, 1), cancelled_on=D(2027, 1, 30)),
        D(2027, 2, 1),
        "already_cancelled",
        id="L113-3 al3: after the cancellation",
    ),
]


@pytest.mark.parametrize(("facts", "sent", "reason"), REFUSED)
def test_a_formal_notice_is_refused(facts, sent, reason):
    with pytest.raises(UnpaidRefusal) as refused:
        formal_notice(facts, sent)
    assert (refused.value.reason, refused.value.basis) == (reason, "L113-3")


def test_a_split_premium_suspension_runs_to_the_end_of_the_annual_period():
    facts = NoticeFacts(D(2026, 3, 1), annual_period_ends_on=D(2027, 1, 1))
    assert formal_notice(facts, D(2026, 3, 20)).suspension_ends_on == D(2027, 1, 1)  # al. 4


DUE = D(2026, 12, 1)
SENT_ON = D(2026, 12, 14)  # suspension 13 Jan 2027, cancellable 23 Jan 2027
STAGES = [
    pytest.param(NoticeFacts(DUE), D(2026, 11, 15), Stage.up_to_date, id="agency: before reminder"),
    pytest.param(NoticeFacts(DUE), D(2026, 11, 16), Stage.reminder_due, id="agency: reminder D-15"),
    pytest.param(NoticeFacts(DUE), DUE, Stage.reminder_due, id="agency: on the due date"),
    pytest.param(NoticeFacts(DUE), D(2026, 12, 2), Stage.overdue, id="L113-3 al1: day after due"),
    pytest.param(NoticeFacts(DUE), D(2026, 12, 11), Stage.overdue, id="L113-3 al1: 10th day"),
    pytest.param(
        NoticeFacts(DUE),
        D(2026, 12, 12),
        Stage.formal_notice_possible,
        id="L113-3 al1: 11th day, letter possible",
    ),
    pytest.param(
        NoticeFacts(DUE, formal_notice_sent_on=SENT_ON),
        D(2027, 1, 12),
        Stage.in_formal_notice,
        id="L113-3 al2: covered until the 30th day",
    ),
    pytest.param(
        NoticeFacts(DUE, formal_notice_sent_on=SENT_ON),
        D(2027, 1, 13),
        Stage.suspended,
        id="L113-3 al2: suspended 30 days after sending",
    ),
    pytest.param(
        NoticeFacts(DUE, formal_notice_sent_on=SENT_ON),
        D(2027, 1, 23),
        Stage.cancellable,
        id="L113-3 al3: cancellable 10 days later",
    ),
    pytest.param(
        NoticeFacts(DUE, formal_notice_sent_on=SENT_ON, paid_on=D(2027, 1, 13)),
        D(2027, 1, 13),
        Stage.restored,
        id="L113-3 al4: paid on the suspension day",
    ),
    pytest.param(
        NoticeFacts(DUE, formal_notice_sent_on=SENT_ON, paid_on=D(2027, 1, 5)),
        D(2027, 1, 20),
        Stage.up_to_date,
        id="L113-3 al2: paid before suspension",
    ),
    pytest.param(
        NoticeFacts(DUE, formal_notice_sent_on=SENT_ON, cancelled_on=D(2027, 1, 25)),
        D(2027, 1, 25),
        Stage.cancelled,
        id="L113-3 al3: cancelled by the insurer",
    ),
    pytest.param(
        NoticeFacts(DUE, life_insurance=True),
        D(2027, 2, 1),
        Stage.overdue,
        id="L132-20: life premiums stay overdue",
    ),
]


@pytest.mark.parametrize(("facts", "on", "stage"), STAGES)
def test_stage_on_a_day(facts, on, stage):
    assert stage_on(facts, on) is stage


def test_payment_restores_cover_at_noon_the_next_day():
    facts = NoticeFacts(DUE, formal_notice_sent_on=SENT_ON, paid_on=D(2027, 1, 20))
    assert restored_at(D(2027, 1, 20)) == dt.datetime(2027, 1, 21, 12, 0)  # al. 4
    assert not covered_on(facts, dt.datetime(2027, 1, 20, 18, 0))
    assert not covered_on(facts, dt.datetime(2027, 1, 21, 11, 59))
    assert covered_on(facts, dt.datetime(2027, 1, 21, 12, 0))
    assert restored_at(D(2028, 2, 28)) == dt.datetime(2028, 2, 29, 12, 0)


def test_reminder_and_relance_days_are_the_agency_settings():
    assert reminder_on(DUE) == D(2026, 11, 16)
    assert reminder_on(DUE, 30) == D(2026, 11, 1)
    assert relance_on(DUE) == D(2026, 12, 6)
    assert relance_on(D(2027, 2, 26), 5) == D(2027, 3, 3)
