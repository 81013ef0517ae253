"""The daily opening of renewal cycles: the Huey task and `flask monassurance open-renewals`.

Contracts whose échéance came within the lead time without a flush (rows loaded around the
ORM, or simply time passing) get their cycle from the daily run: once, in their agency,
audited, and one agency's failure does not stop the others.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import (
    AuditLog,
    Client,
    Company,
    LineOfBusiness,
    Policy,
    PolicyStatus,
    RenewalCycle,
)
from app.services.renewals import daily
from app.tasks.renewals import open_renewal_cycles


def due_contract(app, organisation_id: int, number: str, *, in_days: int = 30) -> int:
    """An active auto contract whose échéance is ``in_days`` away, with no cycle yet."""
    today = dt.date.today()
    with app.app_context():
        company = Company(organisation_id=organisation_id, name=f"Assureur {number}", code=number)
        client = Client(organisation_id=organisation_id, first_name="Léa", last_name="Roux")
        db.session.add_all([company, client])
        db.session.flush()
        policy = Policy(
            organisation_id=organisation_id,
            number=number,
            client_id=client.id,
            company_id=company.id,
            line_of_business=LineOfBusiness.auto,
            status=PolicyStatus.active,
            effective_date=today + dt.timedelta(days=in_days) - dt.timedelta(days=365),
            expiry_date=today + dt.timedelta(days=in_days),
            premium=Decimal("500.00"),
        )
        db.session.add(policy)
        db.session.commit()
        # The flush opened its cycle at once; the daily run is for rows that did not flush.
        db.session.execute(
            text("DELETE FROM renewal_cycle WHERE policy_id = :id"), {"id": policy.id}
        )
        db.session.commit()
        return policy.id


def cycles_by_policy(app) -> dict[int, int]:
    with app.app_context():
        rows = db.session.execute(
            select(RenewalCycle.policy_id, func.count()).group_by(RenewalCycle.policy_id)
        )
        return dict(rows.all())


def test_the_task_run_twice_opens_each_cycle_once_in_its_agency(app, make_organisation):
    org_a, org_b = make_organisation(), make_organisation()
    a1 = due_contract(app, org_a, "A-1")
    a2 = due_contract(app, org_a, "A-2", in_days=80)
    b1 = due_contract(app, org_b, "B-1")
    later = due_contract(app, org_b, "B-LATER", in_days=200)  # beyond the 90 days
    with app.app_context():
        first = open_renewal_cycles.call_local()
        second = open_renewal_cycles.call_local()
        assert first == {"opened": 3, "organisations": 2, "failed": [], "dry_run": False}
        assert second["opened"] == 0
        owners = dict(
            db.session.execute(select(RenewalCycle.policy_id, RenewalCycle.organisation_id)).all()
        )
        entries = db.session.execute(
            select(AuditLog.organisation_id, AuditLog.username).where(
                AuditLog.action == "renewal_cycles_opened"
            )
        ).all()
    assert cycles_by_policy(app) == {a1: 1, a2: 1, b1: 1}
    assert later not in owners
    assert owners == {a1: org_a, a2: org_a, b1: org_b}
    # One entry per agency that got cycles, by the periodic run, none for the idle second run.
    assert sorted(entries) == sorted([(org_a, "periodic"), (org_b, "periodic")])


def test_one_agency_failing_does_not_stop_the_others(app, make_organisation, monkeypatch):
    org_a, org_b = make_organisation(), make_organisation()
    due_contract(app, org_a, "A-1")
    b1 = due_contract(app, org_b, "B-1")
    real = daily.open_due_cycles

    def broken_for_a(session, *, organisation_id=None, today=None):
        opened = real(session, organisation_id=organisation_id, today=today)
        if organisation_id == org_a:
            raise RuntimeError("bad row")  # after writing: its cycles must be rolled back
        return opened

    monkeypatch.setattr(daily, "open_due_cycles", broken_for_a)
    with app.app_context():
        summary = open_renewal_cycles.call_local()
    assert summary["failed"] == [org_a] and summary["opened"] == 1
    assert cycles_by_policy(app) == {b1: 1}
    monkeypatch.setattr(daily, "open_due_cycles", real)
    with app.app_context():
        assert open_renewal_cycles.call_local()["opened"] == 1  # caught up the next day


def test_the_cli_dry_run_counts_and_writes_nothing_then_opens(app, make_organisation):
    org = make_organisation()
    policy_id = due_contract(app, org, "CLI-1")
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["monassurance", "open-renewals", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would open 1 renewal cycle(s) in 1 organisation(s)" in dry.output
    assert cycles_by_policy(app) == {}
    done = runner.invoke(args=["monassurance", "open-renewals", "--organisation-id", str(org)])
    assert done.exit_code == 0, done.output
    assert "opened 1 renewal cycle(s)" in done.output
    assert cycles_by_policy(app) == {policy_id: 1}
    with app.app_context():
        assert (
            db.session.scalar(
                select(AuditLog.username).where(AuditLog.action == "renewal_cycles_opened")
            )
            == "cli"
        )


@pytest.mark.parametrize("argument", ["--organisation-id=0", "--organisation-id=x"])
def test_the_cli_refuses_a_bad_organisation_id(app, argument):
    result = app.test_cli_runner().invoke(args=["monassurance", "open-renewals", argument])
    assert result.exit_code == 2
