"""Premium notices issued from terms, payments allocated and rejected, the L113-3 stages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    LineOfBusiness,
    NoticeStatus,
    PaymentFrequency,
    PaymentStatus,
    Policy,
    PremiumNotice,
    UnpaidStage,
)
from app.services.errors import ConflictError, InvalidRequestError, NotFoundError
from app.services.premiums import accounts, issuing, payments, procedure
from app.services.premiums.schedule import instalment_schedule
from app.services.premiums.taxes import split_taxes

D = dt.date
TODAY = D(2026, 12, 7)


@pytest.mark.parametrize(
    ("premium", "frequency", "first", "others", "count"),
    [
        ("1000.00", "monthly", "83.37", "83.33", 12),
        ("420.50", "quarterly", "105.14", "105.12", 4),
        ("99.99", "semiannual", "50.00", "49.99", 2),
        ("600.00", "annual", "600.00", None, 1),
    ],
)
def test_a_terms_instalments_add_up_to_its_premium(premium, frequency, first, others, count):
    schedule = instalment_schedule(Decimal(premium), frequency, D(2026, 1, 31), D(2027, 1, 31))
    assert len(schedule) == count
    assert sum(i.total for i in schedule) == Decimal(premium)
    assert schedule[0].total == Decimal(first)
    assert all(i.total == Decimal(others) for i in schedule[1:])
    # Periods follow each other without gap, month ends clamped (31 Jan → 28 Feb).
    assert schedule[0].period_start == D(2026, 1, 31) and schedule[-1].period_end == D(2027, 1, 31)
    for before, after in zip(schedule, schedule[1:], strict=False):
        assert before.period_end == after.period_start == after.due_on
    if frequency == "monthly":
        assert schedule[1].due_on == D(2026, 2, 28)


def test_taxes_split_to_the_cent():
    assert split_taxes(Decimal("118.00"), "auto") == (Decimal("100.00"), Decimal("18.00"))
    before, taxes = split_taxes(Decimal("83.37"), LineOfBusiness.home)
    assert before + taxes == Decimal("83.37") and before == Decimal("76.49")
    assert split_taxes(Decimal("50.00"), "life") == (Decimal("50.00"), Decimal("0.00"))


@pytest.fixture
def monthly(app, make_organisation, portfolio):
    """A monthly auto contract from 1 Jan 2026 (420.50 a year) of a new agency."""
    org = make_organisation()
    ids = portfolio(org)
    with app.app_context():
        policy = db.session.get(Policy, ids["policy"])
        policy.payment_frequency = PaymentFrequency.monthly
        db.session.commit()
    return org, ids["policy"]


def _notices(policy_id):
    return list(
        db.session.scalars(
            select(PremiumNotice)
            .where(PremiumNotice.policy_id == policy_id)
            .order_by(PremiumNotice.due_on)
        )
    )


def test_issuing_is_idempotent_scoped_and_adds_up(app, monthly, make_organisation, portfolio):
    org, policy_id = monthly
    other = make_organisation()
    portfolio(other, "B")
    with app.app_context():
        first = issuing.issue_due(db.session, organisation_id=org, today=TODAY)
        db.session.commit()
        # 30 days ahead, 60 days back (from 8 Oct): the notices due 1 Nov and 1 Dec 2026
        # (January's belongs to the contract's next term: none exists, so none yet).
        assert first == {org: 2}
        assert [n.due_on for n in _notices(policy_id)] == [D(2026, 11, 1), D(2026, 12, 1)]
        assert issuing.issue_due(db.session, organisation_id=org, today=TODAY) == {}
        # The whole term through the policy door (the API's "issue" with a policy id).
        issuing.issue_due(db.session, policy_id=policy_id, until=D(2026, 12, 31), today=TODAY)
        db.session.commit()
        notices = _notices(policy_id)
        assert len(notices) == 12 and sum(n.total for n in notices) == Decimal("420.50")
        assert notices[0].number == "POL-1/1-01" and notices[0].total == Decimal("35.06")
        assert all(n.amount_before_tax + n.taxes + n.fees == n.total for n in notices)
        assert all(n.organisation_id == org for n in notices)
        count = db.session.scalar(select(func.count()).select_from(PremiumNotice))
        assert count == 12


def test_a_cheque_pays_three_notices_and_its_rejection_reopens_them(app, monthly):
    org, policy_id = monthly
    with app.app_context():
        issuing.issue_due(db.session, policy_id=policy_id, until=D(2026, 12, 31), today=TODAY)
        notices = _notices(policy_id)[-3:]  # Oct, Nov, Dec: 35.04 each
        cheque = payments.record_payment(
            db.session,
            org,
            amount="110.00",
            received_on=D(2026, 12, 5),
            method="cheque",
            reference="CHQ 1234567",
            today=TODAY,
            allocations=[(n.id, n.balance) for n in notices],
        )
        db.session.commit()
        assert [n.status for n in notices] == [NoticeStatus.paid] * 3
        assert cheque.allocated_amount == Decimal("105.12")
        assert cheque.unallocated == Decimal("4.88")  # kept as the client's credit
        account = accounts.policy_account(db.session, db.session.get(Policy, policy_id))
        assert account["credit"] == Decimal("4.88")
        assert account["total_paid"] == Decimal("105.12")
        payments.reject_payment(cheque, rejected_on=D(2026, 12, 7), reason="NSF", today=TODAY)
        db.session.commit()
        assert cheque.status is PaymentStatus.rejected
        assert [n.status for n in notices] == [
            NoticeStatus.unpaid,
            NoticeStatus.unpaid,
            NoticeStatus.unpaid,
        ]
        assert [n.paid_amount for n in notices] == [Decimal("0.00")] * 3
        with pytest.raises(ConflictError):
            payments.reject_payment(cheque, rejected_on=TODAY, reason=None, today=TODAY)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"amount": "0"}, InvalidRequestError),
        ({"amount": "-5"}, InvalidRequestError),
        ({"amount": 10.1}, InvalidRequestError),  # a float never carries money
        ({"amount": "10.001"}, InvalidRequestError),
        ({"received_on": D(2026, 12, 8)}, InvalidRequestError),  # in the future
        ({"method": "bitcoin"}, InvalidRequestError),
        ({"over": True}, InvalidRequestError),  # more than the notice's balance
        ({"twice": True}, InvalidRequestError),
        ({"foreign": True}, NotFoundError),  # another agency's notice
    ],
)
def test_bad_payments_change_nothing(app, monthly, make_organisation, portfolio, change, error):
    org, policy_id = monthly
    other = make_organisation()
    foreign = portfolio(other, "F")
    with app.app_context():
        issuing.issue_due(db.session, policy_id=policy_id, until=D(2026, 12, 31), today=TODAY)
        issuing.issue_due(
            db.session, policy_id=foreign["policy"], until=D(2026, 12, 31), today=TODAY
        )
        db.session.commit()
        notice = _notices(policy_id)[-1]
        target = _notices(foreign["policy"])[0] if change.get("foreign") else notice
        amount = notice.balance + Decimal("1") if change.get("over") else notice.balance
        allocations = [(target.id, amount)] * (2 if change.get("twice") else 1)
        args = {
            "amount": "100.00",
            "received_on": D(2026, 12, 1),
            "method": "transfer",
            **{k: v for k, v in change.items() if k in ("amount", "received_on", "method")},
        }
        with pytest.raises(error):
            payments.record_payment(db.session, org, today=TODAY, allocations=allocations, **args)
        db.session.rollback()
        assert db.session.get(PremiumNotice, notice.id).paid_amount == Decimal("0.00")


def test_unpaid_notice_goes_to_formal_notice_then_payment_restores(app, monthly):
    org, policy_id = monthly
    with app.app_context():
        issuing.issue_due(db.session, policy_id=policy_id, until=D(2026, 12, 31), today=TODAY)
        db.session.commit()
        december = _notices(policy_id)[-1]  # due 1 Dec 2026
        procedure.move_stages(db.session, organisation_id=org, today=D(2026, 12, 11))
        assert (december.status, december.stage) == (NoticeStatus.unpaid, UnpaidStage.overdue)
        with pytest.raises(InvalidRequestError):
            procedure.record_formal_notice(
                db.session,
                december,
                sent_on=D(2026, 12, 11),
                registered_letter_number="1A",
                today=D(2026, 12, 11),
            )
        moved = procedure.move_stages(db.session, organisation_id=org, today=D(2026, 12, 12))
        assert moved[org] >= 1 and december.stage is UnpaidStage.formal_notice_possible
        procedure.record_formal_notice(
            db.session,
            december,
            sent_on=D(2026, 12, 14),
            registered_letter_number="1A 234 567 8901 2",
            today=D(2026, 12, 14),
        )
        assert (december.suspension_on, december.cancellable_on) == (D(2027, 1, 13), D(2027, 1, 23))
        assert december.stage is UnpaidStage.in_formal_notice
        procedure.move_stages(db.session, organisation_id=org, today=D(2027, 1, 13))
        assert december.stage is UnpaidStage.suspended
        payments.record_payment(
            db.session,
            org,
            amount=december.balance,
            received_on=D(2027, 1, 13),
            method="transfer",
            today=D(2027, 1, 13),
            allocations=[(december.id, december.balance)],
        )
        db.session.commit()
        assert (december.status, december.stage) == (NoticeStatus.paid, UnpaidStage.restored)
        assert december.restored_at == dt.datetime(2027, 1, 14, 12, 0)
        with pytest.raises(ConflictError):
            procedure.cancel_notice(db.session, december, D(2027, 1, 14))


def test_suggestions_pay_the_oldest_first(app, monthly):
    _org, policy_id = monthly
    with app.app_context():
        issuing.issue_due(db.session, policy_id=policy_id, until=D(2026, 12, 31), today=TODAY)
        notices = _notices(policy_id)
        suggested = payments.suggest_allocations(reversed(notices), Decimal("80.00"))
        assert suggested == [
            (notices[0].id, Decimal("35.06")),
            (notices[1].id, Decimal("35.04")),
            (notices[2].id, Decimal("9.90")),
        ]


def test_cancellation_for_non_payment_waits_for_the_cancellable_date(app, monthly):
    from app.models import PolicyStatus
    from app.services.renewals import cancellations

    org, policy_id = monthly
    with app.app_context():
        issuing.issue_due(db.session, policy_id=policy_id, until=D(2026, 12, 31), today=TODAY)
        policy = db.session.get(Policy, policy_id)
        with pytest.raises(InvalidRequestError) as none_yet:
            cancellations.cancel(
                db.session, policy, ground="non_payment", requested_on=TODAY, received_on=TODAY
            )
        assert none_yet.value.errors == {"ground": "no_formal_notice"}
        november = _notices(policy_id)[-2]  # due 1 Nov 2026
        procedure.move_stages(db.session, organisation_id=org, today=D(2026, 11, 20))
        procedure.record_formal_notice(
            db.session,
            november,
            sent_on=D(2026, 11, 20),
            registered_letter_number="X",
            today=D(2026, 11, 20),
        )
        assert november.cancellable_on == D(2026, 12, 30)
        with pytest.raises(InvalidRequestError) as early:
            cancellations.cancel(
                db.session,
                policy,
                ground="non_payment",
                requested_on=D(2026, 12, 29),
                received_on=D(2026, 12, 29),
            )
        assert early.value.errors == {"ground": "before_cancellable_on"}
        done = cancellations.cancel(
            db.session,
            policy,
            ground="non_payment",
            requested_on=D(2026, 12, 30),
            received_on=D(2026, 12, 30),
        )
        db.session.commit()
        assert (done.basis, done.effective_on) == ("L113-3", D(2026, 12, 30))
        assert policy.status is PolicyStatus.cancelled
        notices = {n.due_on: n for n in _notices(policy_id)}
        assert notices[D(2026, 11, 1)].stage is UnpaidStage.cancelled
        assert notices[D(2026, 11, 1)].status is NoticeStatus.unpaid  # still owed
        assert notices[D(2026, 12, 1)].status is not NoticeStatus.cancelled  # due before the end
