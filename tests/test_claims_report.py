"""The claims report (XLSX job): the period's claims with what was paid on them, and the
loss ratio per insurer and per line; started by a manager, refused to staff, one agency's."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from app.extensions import db
from app.models import Policy
from app.services.claims import lifecycle, settlements
from app.services.renewals.contracts import agency_today
from tests.conftest import user_organisation
from tests.reports_support import sheet_rows, workbook_of
from tests.test_api_premiums import make_policy
from tests.test_screens_premiums import _issue

ROUTE = "/api/v1/report/claims"


def _claim(app, policy_id: int, nature: str, paid: str | None, recourse: str | None = None):
    with app.app_context():
        session = db.session
        policy = session.get(Policy, policy_id)
        today = agency_today(session, policy.organisation_id)
        claim = lifecycle.record_claim(
            session,
            policy,
            today=today,
            nature=nature,
            occurred_on=today - dt.timedelta(days=3),
            client_declared_on=today,
            estimate=Decimal("900.00"),
        )
        session.flush()
        for kind, amount in (("indemnity_client", paid), ("insurer_recourse", recourse)):
            if amount:
                settlements.record_settlement(
                    session, claim, today=today, kind=kind, amount=amount, paid_on=today
                )
        session.commit()
        return claim.number


def test_a_manager_gets_the_claims_and_their_loss_ratio_as_a_workbook(
    app, http, make_user, auth_headers
):
    manager = make_user("MANAGER")
    org = user_organisation(app, manager)
    policy_id = make_policy(app, org, "REP-1", started_days_ago=10)
    _issue(app, org, policy_id, 10)
    paid = _claim(app, policy_id, "water_damage", "600.00", recourse="100.00")
    unpaid = _claim(app, policy_id, "glass", None)
    other = user_organisation(app, make_user("MANAGER"))
    _claim(app, make_policy(app, other, "REP-2", started_days_ago=10), "fire", "5000.00")
    headers = auth_headers(manager)
    response = http.post(ROUTE, json={}, headers=headers)
    assert response.status_code == 202, response.json
    job = http.get(f"/api/v1/job/{response.json['job_id']}", headers=headers).json
    assert job["status"] == "succeeded", job
    workbook = workbook_of(app, job["document_id"])
    claims = sheet_rows(workbook, 0)
    assert claims[0][0] == "N° de sinistre"
    by_number = {row[0]: row for row in claims[1:]}
    assert set(by_number) == {paid, unpaid}  # the other agency's claim is not there
    assert by_number[paid][5] == "Dégât des eaux"
    assert Decimal(str(by_number[paid][14])) == Decimal("600.00")  # indemnities
    assert Decimal(str(by_number[paid][15])) == Decimal("500.00")  # net of the recourse
    assert Decimal(str(by_number[unpaid][14])) == Decimal("0")
    insurers = sheet_rows(workbook, 1)
    assert insurers[1][0] == "Assureur REP-1"
    assert Decimal(str(insurers[1][1])) == Decimal("600.00")
    assert insurers[1][3] is not None  # notices fell due: a ratio
    lines = sheet_rows(workbook, 2)
    assert lines[1][0] == "Automobile"


def test_staff_cannot_start_it_and_bad_filters_answer_422(app, http, make_user, auth_headers):
    user = make_user("USER")
    assert http.post(ROUTE, json={}, headers=auth_headers(user)).status_code == 403
    manager = make_user("MANAGER", user_organisation(app, user))
    response = http.post(ROUTE, json={"date_from": "2026-13-01"}, headers=auth_headers(manager))
    assert response.status_code == 422
