"""Terms, renewal cycles and cancellations kept in step with the policy by every door."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import (
    Cancellation,
    Organisation,
    Policy,
    PolicyStatus,
    RenewalCycle,
    RenewalDecision,
    RenewalStatus,
    Term,
    TermStatus,
)
from app.services.errors import ConflictError, InvalidRequestError
from app.services.renewals import cancellations, cycles
from app.services.renewals.contracts import agency_today

POLICY = {
    "number": "POL-TERM",
    "line_of_business": "auto",
    "status": "active",
    "effective_date": "2025-03-01",
    "expiry_date": "2026-03-01",
    "premium": "600.00",
}


@pytest.fixture
def manager(make_user):
    return make_user("MANAGER")


@pytest.fixture
def headers(manager, auth_headers):
    return auth_headers(manager)


def _create(http, headers, app, manager, **changes):
    from tests.conftest import user_organisation

    with app.app_context():
        org = user_organisation(app, manager)
    ids = _client_and_insurer(app, org, changes.get("number", POLICY["number"]))
    body = {**POLICY, **ids, **changes}
    response = http.post("/api/v1/policy/", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json["id"]


def _client_and_insurer(app, organisation_id, suffix):
    from app.models import Client, Company

    with app.app_context():
        company = Company(organisation_id=organisation_id, name=f"Assureur {suffix}", code=suffix)
        client = Client(organisation_id=organisation_id, first_name="Léa", last_name="Roux")
        db.session.add_all([company, client])
        db.session.commit()
        return {"company_id": company.id, "client_id": client.id}


def _terms(app, policy_id):
    with app.app_context():
        return [
            (t.sequence, t.start_date, t.end_date, t.premium, t.status)
            for t in db.session.scalars(
                select(Term).where(Term.policy_id == policy_id).order_by(Term.sequence)
            )
        ]


def test_a_policy_created_by_the_api_has_its_first_term_and_edits_reach_it(
    http, app, manager, headers
):
    policy_id = _create(http, headers, app, manager)
    assert _terms(app, policy_id) == [
        (1, dt.date(2025, 3, 1), dt.date(2026, 3, 1), Decimal("600.00"), TermStatus.open)
    ]
    changed = http.put(
        f"/api/v1/policy/{policy_id}",
        json={"premium": "650.00", "expiry_date": "2026-04-01"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert _terms(app, policy_id) == [
        (1, dt.date(2025, 3, 1), dt.date(2026, 4, 1), Decimal("650.00"), TermStatus.open)
    ]
    http.put(f"/api/v1/policy/{policy_id}", json={"status": "expired"}, headers=headers)
    assert _terms(app, policy_id)[0][4] is TermStatus.lapsed


def test_a_contract_due_within_the_lead_time_gets_its_cycle_at_once(http, app, manager, headers):
    with app.app_context():
        today = agency_today(db.session, None)
    soon = today + dt.timedelta(days=30)
    policy_id = _create(
        http,
        headers,
        app,
        manager,
        effective_date=(soon - dt.timedelta(days=365)).isoformat(),
        expiry_date=soon.isoformat(),
    )
    later_id = _create(
        http,
        headers,
        app,
        manager,
        number="POL-LATER",
        effective_date=today.isoformat(),
        expiry_date=(today + dt.timedelta(days=200)).isoformat(),
    )
    with app.app_context():
        cycle = db.session.scalars(select(RenewalCycle)).one()
        assert (cycle.policy_id, cycle.echeance, cycle.status) == (
            policy_id,
            soon,
            RenewalStatus.open,
        )
        assert cycle.previous_premium == Decimal("600.00")
        assert cycle.last_day_to_refuse == cycles.last_day_to_refuse(soon, 2)
    # Moved within the lead time by an edit: its cycle opens in the same request.
    moved = http.put(
        f"/api/v1/policy/{later_id}",
        json={"expiry_date": (today + dt.timedelta(days=60)).isoformat()},
        headers=headers,
    )
    assert moved.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RenewalCycle)) == 2


def test_the_daily_opening_is_scoped_idempotent_and_audited(app, make_organisation, portfolio):
    org_a, org_b = make_organisation(), make_organisation()
    ids_a = portfolio(org_a, "A")
    portfolio(org_b, "B")
    with app.app_context():
        # Rows written around the ORM (as bulk loads do) have no cycle yet.
        db.session.execute(delete_cycles := text("DELETE FROM renewal_cycle"))
        db.session.commit()
        on = dt.date(2026, 11, 1)  # both échéances (1 Jan 2027) are 61 days away
        assert cycles.open_due_cycles(db.session, organisation_id=org_a, today=on) == {org_a: 1}
        assert cycles.open_due_cycles(db.session, organisation_id=org_a, today=on) == {}
        db.session.commit()
        assert cycles.open_due_cycles(db.session, today=on) == {org_b: 1}
        db.session.commit()
        rows = db.session.execute(select(RenewalCycle.policy_id, RenewalCycle.organisation_id))
        assert {row.organisation_id for row in rows} == {org_a, org_b}
        entries = db.session.execute(
            text("SELECT organisation_id FROM audit_log WHERE action = 'renewal_cycles_opened'")
        ).all()
        assert sorted(e[0] for e in entries) == sorted([org_a, org_b])
        # Too far ahead: nothing.
        db.session.execute(delete_cycles)
        assert cycles.open_due_cycles(db.session, today=dt.date(2026, 9, 1)) == {}
        db.session.rollback()
        assert ids_a["policy"]


def test_renewing_twice_keeps_the_number_with_three_terms(app, make_organisation, portfolio):
    org = make_organisation()
    ids = portfolio(org)
    with app.app_context():
        policy = db.session.get(Policy, ids["policy"])
        for year, premium in ((2027, "450.00"), (2028, None)):
            cycle = cycles.cycle_for(policy)
            if premium:
                cycles.propose(cycle, proposed_premium=Decimal(premium))
                assert cycle.change_percent == Decimal("7.02")
            term = cycles.renew(cycle)
            db.session.commit()
            assert term.start_date == dt.date(year, 1, 1)
        policy = db.session.get(Policy, ids["policy"])
        assert policy.number == "POL-1"
        assert [(t.start_date.year, t.status) for t in policy.terms] == [
            (2026, TermStatus.renewed),
            (2027, TermStatus.renewed),
            (2028, TermStatus.open),
        ]
        assert (policy.expiry_date, policy.premium) == (dt.date(2029, 1, 1), Decimal("450.00"))
        with pytest.raises(ConflictError):
            cycles.renew(policy.renewal_cycles[0])


def test_renewal_refusals_change_nothing(app, make_organisation, portfolio):
    ids = portfolio(make_organisation())
    with app.app_context():
        policy = db.session.get(Policy, ids["policy"])
        cycle = cycles.cycle_for(policy)
        for bad in ("0", "-5", "NaN", "1e20"):
            with pytest.raises(InvalidRequestError):
                cycles.propose(cycle, proposed_premium=bad)
        assert cycle.proposed_premium is None
        policy.tacit_renewal = False
        with pytest.raises(InvalidRequestError):
            cycles.renew(cycle)
        policy.tacit_renewal = True
        cycles.propose(cycle, decision=RenewalDecision.not_renew, reason="Client leaving")
        with pytest.raises(ConflictError):
            cycles.renew(cycle)
        assert len(policy.terms) == 1


def test_a_hamon_cancellation_ends_the_contract_a_month_after_receipt(
    app, make_organisation, portfolio
):
    ids = portfolio(make_organisation())  # auto, from 1 Jan 2026
    with app.app_context():
        policy = db.session.get(Policy, ids["policy"])
        with pytest.raises(InvalidRequestError) as refused:
            cancellations.cancel(
                db.session,
                policy,
                ground="hamon",
                requested_on=dt.date(2026, 6, 1),
                received_on=dt.date(2026, 6, 3),
            )
        assert refused.value.errors == {"ground": "before_first_anniversary"}
        assert policy.status is PolicyStatus.active
        # Renewed at 1 Jan 2027, then cancelled under Hamon on 10 Feb 2027.
        cycle = cycles.cycle_for(policy)
        cycles.renew(cycle)
        db.session.commit()
        done = cancellations.cancel(
            db.session,
            policy,
            ground="hamon",
            requested_on=dt.date(2027, 2, 8),
            received_on=dt.date(2027, 2, 10),
            note="Nouveau contrat chez un autre assureur",
        )
        db.session.commit()
        assert (done.effective_on, done.basis) == (dt.date(2027, 3, 10), "L113-15-2")
        policy = db.session.get(Policy, ids["policy"])
        assert policy.status is PolicyStatus.cancelled
        assert policy.expiry_date == dt.date(2027, 3, 10)
        assert [(t.end_date, t.status) for t in policy.terms] == [
            (dt.date(2027, 1, 1), TermStatus.renewed),
            (dt.date(2027, 3, 10), TermStatus.cancelled),
        ]
        assert all(c.status is not RenewalStatus.open for c in policy.renewal_cycles)
        with pytest.raises(ConflictError):
            cancellations.cancel(
                db.session,
                policy,
                ground="annual",
                requested_on=dt.date(2027, 3, 1),
                received_on=dt.date(2027, 3, 1),
            )
        assert db.session.scalar(select(func.count()).select_from(Cancellation)) == 1


def test_a_late_avis_opens_the_chatel_window(app, make_organisation, portfolio):
    ids = portfolio(make_organisation())  # échéance 1 Jan 2027, last day to refuse 1 Nov 2026
    with app.app_context():
        policy = db.session.get(Policy, ids["policy"])
        cycle = cycles.cycle_for(policy)
        cycles.record_notice(cycle, sent_on=dt.date(2026, 10, 25))
        assert cycle.chatel_window_end == dt.date(2026, 11, 14)
        rights = {r.ground: r for r in cancellations.rights_on(policy, dt.date(2026, 11, 10))}
        assert rights["chatel"].open and rights["chatel"].effective_on == dt.date(2027, 1, 1)
        cycles.record_notice(cycle, sent_on=dt.date(2026, 9, 1))  # in time: no window
        assert cycle.chatel_window_end is None


def test_migration_gives_each_existing_policy_one_term_and_downgrades(
    tmp_path, database_url, app, make_organisation, portfolio
):
    if not database_url.startswith("sqlite"):
        pytest.skip("the migration round trip runs on its own SQLite file")
    from app import create_app
    from tests.conftest import make_config

    other = create_app(make_config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'm.db'}"))
    with other.app_context():
        upgrade(revision="0010")
        db.session.execute(
            text("INSERT INTO organisation (name, orias_number) VALUES ('Cab', '12345678')")
        )
        db.session.execute(
            text("INSERT INTO company (organisation_id, name, code) VALUES (1, 'Ins', 'I');")
        )
        db.session.execute(
            text("INSERT INTO client (organisation_id, kind, last_name) VALUES (1, 'person', 'X')")
        )
        for number, status in (("A", "active"), ("B", "expired"), ("C", "cancelled")):
            db.session.execute(
                text(
                    "INSERT INTO policy (organisation_id, number, client_id, company_id,"
                    " line_of_business, status, effective_date, expiry_date, premium, currency,"
                    " payment_frequency) VALUES (1, :n, 1, 1, 'home', :s, '2025-05-31',"
                    " '2026-05-31', 310.10, 'EUR', 'annual')"
                ),
                {"n": number, "s": status},
            )
        db.session.commit()
        upgrade(revision="0011")
        rows = db.session.execute(
            text(
                "SELECT p.number, t.sequence, t.start_date, t.end_date, t.premium, t.status"
                " FROM term t JOIN policy p ON p.id = t.policy_id ORDER BY p.number"
            )
        ).all()
        assert [(r[0], r[1], str(r[2]), str(r[3]), r[5]) for r in rows] == [
            ("A", 1, "2025-05-31", "2026-05-31", "open"),
            ("B", 1, "2025-05-31", "2026-05-31", "lapsed"),
            ("C", 1, "2025-05-31", "2026-05-31", "cancelled"),
        ]
        lead = db.session.execute(text("SELECT renewal_lead_days FROM organisation")).scalar()
        assert lead == 90
        downgrade(revision="0010")
        assert db.session.execute(text("SELECT count(*) FROM policy")).scalar() == 3
        db.session.remove()
        db.engine.dispose()
    assert Organisation  # the models module imports on the downgraded schema too
