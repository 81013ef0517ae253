"""Mandats SEPA and Prélèvements through the screens: a mandate added with a checked IBAN
and listed masked; a period's debits started as a job; the bank's rejections imported."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Job, Mandate, Payment, PaymentMethod, PaymentStatus, Policy
from tests.conftest import user_organisation
from tests.test_api_premiums import make_policy
from tests.test_screens_premiums import _issue
from tests.test_screens_support import csrf_token, flashes, page_text
from tests.test_sepa import IBAN, _set_creditor

ADD = "/mandateview/add"


@pytest.fixture
def agency(app, make_user):
    manager = make_user("MANAGER")
    org = user_organisation(app, manager)
    user = make_user("USER", org)
    policy_id = make_policy(app, org, "POL-S", started_days_ago=5)
    notices = _issue(app, org, policy_id, 70)
    with app.app_context():
        policy = db.session.get(Policy, policy_id)
        client_id = policy.client_id
        first_due = min(notice.due_on for notice in policy.premium_notices)
    return {
        "manager": manager,
        "user": user,
        "org": org,
        "policy": policy_id,
        "client": client_id,
        "notices": notices,
        "first_due": first_due,
    }


def _add_mandate(http, agency, **overrides):
    data = {
        "client_id": str(agency["client"]),
        "reference": "MAND-2026-0001",
        "iban": "FR76 3000 6000 0112 3456 7890 189",
        "bic": "",
        "debtor_name": "Jeanne Martin",
        "signed_on": "2026-01-02",
        **overrides,
    }
    return http.post(ADD, data={**data, "csrf_token": csrf_token(http, ADD)}, follow_redirects=True)


def test_a_mandate_is_added_from_the_screen_and_listed_with_its_iban_masked(
    app, http, login, agency
):
    login(agency["user"])
    refused = _add_mandate(http, agency, iban="FR7630006000011234567890188")
    assert refused.status_code == 200
    assert "Cet IBAN n'est pas valide" in page_text(refused)  # beside its field
    with app.app_context():
        assert db.session.scalars(select(Mandate)).first() is None
    added = _add_mandate(http, agency)
    assert flashes(added)[0][0] == "success", flashes(added)
    listed = page_text(http.get("/mandateview/list/"))
    assert "MAND-2026-0001" in listed and "FR76" in listed
    assert IBAN not in listed and "30006" not in listed and "3000 6000" not in listed
    with app.app_context():
        mandate_id = db.session.scalars(select(Mandate.id)).one()
    shown = page_text(http.get(f"/mandateview/show/{mandate_id}"))
    assert IBAN not in shown
    assert "Actif" in shown


def test_debits_are_a_managers_and_rejections_reopen_the_notices(app, http, login, agency):
    login(agency["user"])
    assert http.get("/debits/").status_code != 200
    _add_mandate(http, agency)
    with app.app_context():
        mandate_id = db.session.scalars(select(Mandate.id)).one()
        db.session.get(Policy, agency["policy"]).mandate_id = mandate_id
        db.session.commit()
    _set_creditor(app, agency["org"])
    http.get("/logout/")
    login(agency["manager"])
    page = page_text(http.get("/debits/"))
    assert "Préparer le fichier de prélèvements" in page
    token = csrf_token(http, "/debits/")
    due_from = agency["first_due"].isoformat()
    started = http.post(
        "/debits/batch",
        data={"due_from": due_from, "due_to": due_from, "csrf_token": token},
    )
    assert started.status_code == 302 and "/jobview/show/" in started.headers["Location"]
    with app.app_context():
        job = db.session.scalars(select(Job)).one()
        debit = db.session.scalars(
            select(Payment).where(Payment.method == PaymentMethod.sepa_debit)
        ).one()
        reference = debit.reference
    assert debit.debit_job_id == job.id
    csv = f"reference,reason\n{reference},AM04\nD999-UNKNOWN,AC04\n".encode()
    imported = http.post(
        "/debits/rejections",
        data={"file": (io.BytesIO(csv), "rejets.csv"), "csrf_token": token},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    said = flashes(imported)
    assert any("1 encaissement(s) rejeté(s)" in text for _c, text in said), said
    assert any("D999-UNKNOWN" in text for _c, text in said), said
    with app.app_context():
        assert db.session.get(Payment, debit.id).status is PaymentStatus.rejected
