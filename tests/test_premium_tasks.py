"""The daily premium run: its schedule, idempotence, one agency's failure, the CLI door."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditLog,
    NoticeStatus,
    PaymentFrequency,
    Policy,
    PremiumNotice,
    UnpaidStage,
)
from app.services.premiums import daily, issuing
from app.services.renewals.contracts import agency_today
from app.tasks import huey
from app.tasks.premiums import run_premiums_daily

D = dt.date
TODAY = D(2026, 12, 7)


def due_at(moment: dt.datetime) -> set[type]:
    return {type(task) for task in huey.read_periodic(moment)}


def test_the_run_is_scheduled_every_morning():
    assert run_premiums_daily.task_class in due_at(dt.datetime(2026, 3, 1, 4, 23))
    assert run_premiums_daily.task_class not in due_at(dt.datetime(2026, 3, 1, 4, 24))
    assert run_premiums_daily.task_class not in due_at(dt.datetime(2026, 3, 1, 16, 23))


@pytest.fixture
def agencies(app, make_organisation, portfolio):
    """Two agencies with a monthly auto contract each, 1 Jan 2026 - 1 Jan 2027 (420.50)."""
    made = []
    for suffix in ("A", "B"):
        org = make_organisation()
        policy_id = portfolio(org, suffix)["policy"]
        with app.app_context():
            db.session.get(Policy, policy_id).payment_frequency = PaymentFrequency.monthly
            db.session.commit()
        made.append((org, policy_id))
    return made


def _notices(policy_id: int) -> list[PremiumNotice]:
    return list(
        db.session.scalars(
            select(PremiumNotice)
            .where(PremiumNotice.policy_id == policy_id)
            .order_by(PremiumNotice.due_on)
        )
    )


def test_running_twice_issues_and_moves_nothing_twice(app, agencies):
    (a, policy_a), (b, policy_b) = agencies
    with app.app_context():
        first = daily.run_daily(db.session, today=TODAY)
        # 30 days ahead, 60 back: 1 Nov and 1 Dec for each agency; November's is 36 days
        # late (formal notice possible), December's 6 (overdue).
        assert first.issued == {a: 2, b: 2}
        assert first.moved == {a: 2, b: 2}
        assert first.failed == {}
        second = daily.run_daily(db.session, today=TODAY)
        assert (second.issued, second.moved, second.failed) == ({}, {}, {})
        for policy_id in (policy_a, policy_b):
            notices = _notices(policy_id)
            assert [(n.due_on, n.status, n.stage) for n in notices] == [
                (D(2026, 11, 1), NoticeStatus.unpaid, UnpaidStage.formal_notice_possible),
                (D(2026, 12, 1), NoticeStatus.unpaid, UnpaidStage.overdue),
            ]
        assert db.session.scalar(select(func.count()).select_from(PremiumNotice)) == 4
        # Each agency's audit trail says what the run did, once.
        issued = db.session.scalars(
            select(AuditLog.organisation_id).where(AuditLog.action == "premium_notices_issued")
        ).all()
        assert sorted(issued) == sorted([a, b])


def test_a_quiet_rerun_recomputes_no_schedule_and_the_next_month_still_issues(
    app, agencies, monkeypatch
):
    (a, policy_a), (b, _policy_b) = agencies
    real, computed = issuing.instalment_schedule, []

    def counted(*args, **kwargs):
        computed.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(issuing, "instalment_schedule", counted)
    with app.app_context():
        # 7 Oct: 60 days back, 30 ahead: September, October and November.
        assert daily.run_daily(db.session, today=D(2026, 10, 7)).issued == {a: 3, b: 3}
        assert len(computed) == 2
        computed.clear()
        # The same day again: November's notice covers the horizon, the terms are not read.
        assert daily.run_daily(db.session, today=D(2026, 10, 7)).issued == {}
        assert computed == []
        # A month on, December falls within the horizon: issued, once.
        assert daily.run_daily(db.session, today=D(2026, 11, 7)).issued == {a: 1, b: 1}
        assert daily.run_daily(db.session, today=D(2026, 11, 7)).issued == {}
        # One contract's own run still issues its older instalments, however old.
        issued = issuing.issue_due(db.session, until=D(2026, 12, 31), policy_id=policy_a)
        db.session.commit()
        assert issued == {a: 8}
        assert [n.instalment for n in _notices(policy_a)] == list(range(1, 13))


def test_one_agency_failing_does_not_stop_the_others(app, agencies, monkeypatch):
    (a, policy_a), (b, policy_b) = agencies
    real = issuing.issue_due

    def broken_for_a(session, **kwargs):
        result = real(session, **kwargs)  # its rows are written, then it fails: rolled back
        if kwargs.get("organisation_id") == a:
            raise RuntimeError("bad row")
        return result

    monkeypatch.setattr(issuing, "issue_due", broken_for_a)
    with app.app_context():
        run = daily.run_daily(db.session, today=TODAY)
        assert run.failed == {a: "RuntimeError"}
        assert run.issued == {b: 2}
        assert _notices(policy_a) == [] and len(_notices(policy_b)) == 2
    monkeypatch.setattr(issuing, "issue_due", real)
    with app.app_context():
        caught_up = daily.run_daily(db.session, today=TODAY)
        assert caught_up.issued == {a: 2} and caught_up.failed == {}


@pytest.fixture
def current_policy(app, make_organisation):
    """A monthly contract whose term started 10 days ago (agency's day), 1200.00 a year:
    this month's instalment and next month's (30 days ahead) fall due whenever the suite runs."""
    from app.models import Client, Company, LineOfBusiness, PolicyStatus

    org = make_organisation()
    with app.app_context():
        start = agency_today(db.session, org) - dt.timedelta(days=10)
        company = Company(organisation_id=org, name="Assureur", code="A")
        client = Client(organisation_id=org, first_name="Jeanne", last_name="Martin")
        db.session.add_all([company, client])
        db.session.flush()
        policy = Policy(
            organisation_id=org,
            number="POL-NOW",
            client_id=client.id,
            company_id=company.id,
            line_of_business=LineOfBusiness.auto,
            status=PolicyStatus.active,
            effective_date=start,
            expiry_date=start + dt.timedelta(days=365),
            premium=Decimal("1200.00"),
            payment_frequency=PaymentFrequency.monthly,
        )
        db.session.add(policy)
        db.session.commit()
        return org, policy.id


def test_the_periodic_task_runs_on_each_agencys_own_day(app, current_policy):
    _org, policy_id = current_policy
    with app.app_context():
        summary = run_premiums_daily.call_local()
        assert summary["issued"] == 2 and summary["failed"] == []
        assert run_premiums_daily.call_local()["issued"] == 0
        notices = _notices(policy_id)
        assert [n.total for n in notices] == [Decimal("100.00")] * 2
        actors = db.session.scalars(
            select(AuditLog.username).where(AuditLog.action == "premium_notices_issued")
        ).all()
        assert actors == ["periodic"]


def test_the_cli_dry_run_writes_nothing_then_the_run_issues(app, current_policy):
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["monassurance", "issue-premiums", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.startswith("dry run: would issue 2 notice(s)")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PremiumNotice)) == 0
    done = runner.invoke(args=["monassurance", "issue-premiums"])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("issued 2 notice(s)")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PremiumNotice)) == 2
    again = runner.invoke(args=["monassurance", "issue-premiums"])
    assert again.output.startswith("issued 0 notice(s)")
