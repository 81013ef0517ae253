"""`flask monassurance …` through click's runner on the session's migrated database.

The same commands run as real `flask` processes in tests/test_run.py (deploy path).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AppUser,
    Client,
    ClientKind,
    Company,
    LineOfBusiness,
    Organisation,
    Policy,
    PolicyStatus,
    Proposal,
)
from app.services import demo
from app.services.renewals.cancellations import rights_on
from app.services.renewals.rules import add_months
from tests.conftest import api_token

ADMIN_PASSWORD = "a sturdy admin passphrase"


def invoke(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=["monassurance", *args], input=input)


def counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Organisation, Company, Client, Policy)
    }


# --- create-admin -----------------------------------------------------------------


def test_create_admin_makes_a_superadmin_who_can_log_in(app, http, make_organisation):
    organisation_id = make_organisation()
    result = invoke(
        app,
        "create-admin",
        "--username",
        "chef",
        "--password",
        ADMIN_PASSWORD,
        "--organisation-id",
        str(organisation_id),
    )
    assert result.exit_code == 0, result.output
    assert "administrator 'chef' created" in result.output
    with app.app_context():
        user = db.session.scalar(select(AppUser).where(AppUser.username == "chef"))
        assert [role.name for role in user.roles] == ["SUPERADMIN"]
        assert user.organisation_id == organisation_id
        assert ADMIN_PASSWORD not in user.password  # stored hashed
    assert api_token(http, "chef", ADMIN_PASSWORD)


def test_create_admin_prompts_for_a_hidden_confirmed_password(app, http):
    result = invoke(
        app,
        "create-admin",
        "--username",
        "operateur",
        input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert ADMIN_PASSWORD not in result.output  # hidden input is not echoed
    with app.app_context():
        user = db.session.scalar(select(AppUser).where(AppUser.username == "operateur"))
        assert user.organisation_id is None  # a platform operator
    assert api_token(http, "operateur", ADMIN_PASSWORD)


def test_create_admin_refuses_a_mistyped_confirmation(app):
    result = invoke(
        app, "create-admin", "--username", "typo", input=f"{ADMIN_PASSWORD}\nsomething else\n"
    )
    assert result.exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(AppUser).where(AppUser.username == "typo")) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--password", "short"], "at least 12 characters"),
        (["--password", "x" * 300], "at most 128 characters"),
        (["--password", "azertyuiop123456"], "too common or too easy to guess"),
        (["--password", "refuse-refuse-2024"], "must not contain the user name"),
        (["--password", ADMIN_PASSWORD, "--organisation-id", "999999"], "no organisation"),
        (["--password", ADMIN_PASSWORD, "--organisation-id", "0"], "Invalid value"),
        (["--password", ADMIN_PASSWORD, "--organisation-id", "abc"], "Invalid value"),
    ],
)
def test_create_admin_rejects_bad_input(app, args, message):
    result = invoke(app, "create-admin", "--username", "refuse", *args)
    assert result.exit_code != 0
    assert message in result.output
    with app.app_context():
        assert db.session.scalar(select(AppUser).where(AppUser.username == "refuse")) is None


def test_create_admin_refuses_a_taken_username(app, make_user):
    existing = make_user("USER")
    result = invoke(app, "create-admin", "--username", existing, "--password", ADMIN_PASSWORD)
    assert result.exit_code == 1
    assert "already exists" in result.output
    with app.app_context():
        user = db.session.scalar(select(AppUser).where(AppUser.username == existing))
        assert [role.name for role in user.roles] == ["USER"]  # untouched


# --- seed-demo --------------------------------------------------------------------


def test_seed_demo_loads_once_then_does_nothing(app):
    first = invoke(app, "seed-demo")
    assert first.exit_code == 0, first.output
    assert "3 insurers, 50 clients, 200 policies" in first.output
    with app.app_context():
        loaded = counts()
    # The 50 portfolio clients, plus the advice demo's prospect (Camille Petit, with a
    # proposal and quotes but no contract yet): not counted in the summary line above.
    assert loaded == {"organisation": 1, "company": 3, "client": 51, "policy": demo.POLICY_COUNT}

    second = invoke(app, "seed-demo")
    assert second.exit_code == 0, second.output
    assert "nothing loaded" in second.output
    with app.app_context():
        assert counts() == loaded


def test_demo_portfolio_is_realistic(app):
    today = dt.date(2025, 3, 15)
    with app.app_context():
        summary = demo.load_demo_data(db.session, today=today)
        organisation = db.session.get(Organisation, summary.organisation_id)
        assert organisation.name == demo.ORGANISATION_NAME
        assert len(organisation.orias_number) == 8 and organisation.orias_number.isdigit()
        policies = db.session.scalars(select(Policy)).all()
        clients = db.session.scalars(select(Client)).all()

        assert len({p.number for p in policies}) == len(policies) == 200
        # Every portfolio client holds a policy; the one client without any is the advice
        # demo's prospect, who has a proposal (and quotes) but no contract yet.
        holders = {p.client_id for p in policies}
        (prospect,) = [c for c in clients if c.id not in holders]
        assert db.session.scalar(select(Proposal.id).where(Proposal.client_id == prospect.id))
        clients = [c for c in clients if c.id in holders]
        assert len(clients) == demo.CLIENT_COUNT == 50
        assert all(isinstance(p.premium, Decimal) and p.premium > 0 for p in policies)
        assert all(p.currency == "EUR" and p.expiry_date > p.effective_date for p in policies)
        assert all(c.postal_code.isdigit() and len(c.postal_code) == 5 for c in clients)
        assert all(c.email and c.phone and c.address and c.city for c in clients)
        assert {c.siren is not None for c in clients} == {True, False}

        by_status = {s: [p for p in policies if p.status == s] for s in PolicyStatus}
        assert all(p.expiry_date < today for p in by_status[PolicyStatus.expired])
        assert all(p.effective_date > today for p in by_status[PolicyStatus.draft])
        active = by_status[PolicyStatus.active]
        assert all(p.effective_date <= today < p.expiry_date for p in active)
        for horizon in (30, 60, 90):
            soon = [p for p in active if (p.expiry_date - today).days <= horizon]
            assert len(soon) >= horizon // 3, f"too few policies expiring within {horizon} days"
        assert len(by_status[PolicyStatus.cancelled]) and len(by_status[PolicyStatus.suspended])

        # Replaced by another insurer's contract: a new number, pointing at the old one.
        replacements = [p for p in policies if p.renewal_of_id is not None]
        assert len(replacements) == demo.REPLACED
        for replacement in replacements:
            previous = replacement.renewal_of
            assert previous.status == PolicyStatus.expired
            assert replacement.effective_date == previous.expiry_date
            assert replacement.client_id == previous.client_id
            assert replacement.company_id != previous.company_id
        # Renewed at their échéance: the same number, a second term following the first.
        renewed = [p for p in policies if len(p.terms) == 2]
        assert len(renewed) == demo.RENEWED
        for policy in renewed:
            first, second = policy.terms
            assert first.start_date == policy.effective_date <= today - dt.timedelta(days=365)
            assert first.end_date == second.start_date <= today < second.end_date
            assert policy.expiry_date == second.end_date and policy.premium == second.premium
        # A year on, a consumer's car contract may be cancelled at any time (Hamon, L113-15-2).
        car = next(
            p
            for p in renewed
            if p.line_of_business is LineOfBusiness.auto and p.client.kind is ClientKind.person
        )
        hamon = next(r for r in rights_on(car, today) if r.ground == "hamon")
        assert hamon.open and hamon.basis == "L113-15-2"
        assert hamon.effective_on == add_months(today, 1)
        # The agency's claim checklists hold the shipped defaults, loaded once, for every line.
        from app.models import ClaimChecklistItem
        from app.services.claims.checklist import DEFAULTS

        items = db.session.scalars(select(ClaimChecklistItem)).all()
        assert len(items) == sum(len(labels) for labels in DEFAULTS.values())
        assert {item.line_of_business for item in items} == {None}


def test_demo_portfolio_is_the_same_on_every_load(app):
    today = dt.date(2025, 3, 15)

    def fingerprint() -> list[tuple]:
        rows = db.session.execute(
            select(
                Policy.number,
                Client.last_name,
                Client.city,
                Company.code,
                Policy.premium,
                Policy.effective_date,
                Policy.status,
            )
            .join(Client, Policy.client_id == Client.id)
            .join(Company, Policy.company_id == Company.id)
            .order_by(Policy.number)
        )
        return [tuple(row) for row in rows]

    with app.app_context():
        demo.load_demo_data(db.session, today=today)
        first = fingerprint()
        # Empty every table of the application, children before their parents (so no
        # foreign key is broken, whatever tables later features add); Flask-AppBuilder's
        # own tables (roles, permissions) are left alone, the demo does not touch them.
        for table in reversed(db.metadata.sorted_tables):
            if not table.name.startswith("ab_"):
                db.session.execute(table.delete())
        db.session.commit()
        demo.load_demo_data(db.session, today=today)
        assert fingerprint() == first


# --- sync-roles and ping-worker ---------------------------------------------------------


def test_sync_roles_is_repeatable(app):
    with app.app_context():
        sm = app.appbuilder.sm
        before = {role.name: len(role.permissions) for role in sm.get_all_roles()}
    result = invoke(app, "sync-roles")
    assert result.exit_code == 0, result.output
    assert "roles and permissions synced" in result.output
    with app.app_context():
        after = {role.name: len(role.permissions) for role in sm.get_all_roles()}
        user_permissions = {
            (pv.permission.name, pv.view_menu.name) for pv in sm.find_role("USER").permissions
        }
    assert after == before
    assert {"USER", "MANAGER", "ADMIN", "SUPERADMIN"} <= set(after)
    assert ("can_write", "Client") in user_permissions
    assert ("can_write", "Company") not in user_permissions


def test_ping_worker_in_immediate_mode_answers_inline(app):
    # The test session runs tasks inline: the task reuses the CLI's app context.
    result = invoke(app, "ping-worker", "--timeout", "1")
    assert result.exit_code == 0, result.output
    assert "database reachable" in result.output


def test_ping_worker_rejects_a_bad_timeout(app):
    result = invoke(app, "ping-worker", "--timeout", "-3")
    assert result.exit_code == 2
    assert "Invalid value" in result.output
