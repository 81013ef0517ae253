"""The claim doors through the API: record, correct, move, the late and outside-term flags,
the audit, and the organisation scope.

Dates are counted from the agency's real today: the doors use the agency's clock.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog
from app.services.claims.rules import prescription_on
from app.services.renewals.contracts import agency_today
from app.services.working_days import add_working_days, is_working_day
from tests.conftest import user_organisation
from tests.test_api_premiums import make_policy

CLAIMS = "/api/v1/claim/"


@pytest.fixture
def agency(app, make_user, auth_headers):
    user = make_user("USER")
    org = user_organisation(app, user)
    policy_id = make_policy(app, org, "POL-C", started_days_ago=200)
    with app.app_context():
        today = agency_today(db.session, org)
    return {"org": org, "policy": policy_id, "today": today, "user": auth_headers(user)}


def _working_day_before(today: dt.date, at_least: int) -> dt.date:
    """A working day ``at_least`` days before today, so that 6 working days later is past."""
    day = today - dt.timedelta(days=at_least)
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


def record(http, agency, **fields):
    body = {"policy_id": agency["policy"], "nature": "water_damage", **fields}
    return http.post(CLAIMS, json=body, headers=agency["user"])


def test_a_water_damage_declared_six_working_days_after_is_flagged_late(app, http, agency):
    known = _working_day_before(agency["today"], 30)
    declared = add_working_days(known, 6)
    response = record(
        http,
        agency,
        occurred_on=known.isoformat(),
        client_declared_on=declared.isoformat(),
        estimate="1200.50",
    )
    assert response.status_code == 201, response.json
    claim = response.json["result"]
    assert claim["declared_late"] is True
    assert claim["declaration_deadline"] == add_working_days(known, 5).isoformat()
    assert claim["status"] == "declared"
    assert claim["outside_term"] is False
    assert claim["term_id"] is not None
    assert claim["estimate"] == "1200.50"
    assert claim["number"] == f"SIN-{agency['today'].year}-00001"
    assert claim["prescription_on"] == prescription_on(known).isoformat()
    with app.app_context():
        entry = db.session.scalar(
            select(AuditLog).where(
                AuditLog.object_type == "Claim", AuditLog.object_id == str(claim["id"])
            )
        )
        assert entry is not None and entry.organisation_id == agency["org"]


def test_declared_on_the_fifth_working_day_is_on_time_and_a_correction_recomputes(http, agency):
    known = _working_day_before(agency["today"], 30)
    on_time = add_working_days(known, 5)
    created = record(
        http, agency, occurred_on=known.isoformat(), client_declared_on=on_time.isoformat()
    )
    assert created.json["result"]["declared_late"] is False
    # A theft has 2 working days: the same declaration is now late.
    response = http.put(
        f"{CLAIMS}{created.json['id']}", json={"nature": "theft"}, headers=agency["user"]
    )
    assert response.status_code == 200, response.json
    assert response.json["result"]["declared_late"] is True
    assert response.json["result"]["declaration_deadline"] == add_working_days(known, 2).isoformat()


def test_a_loss_before_the_contract_started_is_recorded_with_a_warning(http, agency):
    before = agency["today"] - dt.timedelta(days=400)
    response = record(http, agency, occurred_on=before.isoformat())
    assert response.status_code == 201, response.json
    assert response.json["result"]["outside_term"] is True


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"occurred_on": "2999-01-01"}, "occurred_on"),
        ({"occurred_on": "2026-03-10", "known_on": "2026-03-09"}, "known_on"),
        ({"occurred_on": "2026-03-10", "liability_share": 30}, "liability_share"),
        ({"occurred_on": "2026-03-10", "estimate": "-1.00"}, "estimate"),
        ({"occurred_on": "2026-03-10", "nature": "meteor"}, "nature"),
        ({"occurred_on": "2026-03-10", "client_declared_on": "2026-03-01"}, "client_declared_on"),
    ],
)
def test_bad_claims_are_refused_with_the_field_and_nothing_stored(http, agency, fields, field):
    response = record(http, agency, **fields)
    assert response.status_code in (400, 422), response.json
    assert field in str(response.json)
    listed = http.get(CLAIMS, headers=agency["user"])
    assert listed.json["count"] == 0


def test_the_status_machine_closes_with_a_reason_and_reopens(http, agency):
    created = record(http, agency, occurred_on=(agency["today"] - dt.timedelta(days=3)).isoformat())
    url = f"{CLAIMS}{created.json['id']}/status"
    headers = agency["user"]
    for status in ("open", "expertise", "waiting_documents", "settlement"):
        response = http.post(url, json={"status": status}, headers=headers)
        assert response.status_code == 200, (status, response.json)
    no_reason = http.post(url, json={"status": "closed"}, headers=headers)
    assert no_reason.status_code == 422
    closed = http.post(url, json={"status": "closed", "reason": "indemnified"}, headers=headers)
    assert closed.status_code == 200, closed.json
    assert closed.json["result"]["close_reason"] == "indemnified"
    assert closed.json["result"]["closed_on"] == agency["today"].isoformat()
    # A closed claim is neither moved elsewhere nor corrected: it is reopened first.
    assert http.post(url, json={"status": "settlement"}, headers=headers).status_code == 409
    edit = http.put(f"{CLAIMS}{created.json['id']}", json={"place": "Lyon"}, headers=headers)
    assert edit.status_code == 409
    reopened = http.post(url, json={"status": "reopened"}, headers=headers)
    assert reopened.status_code == 200
    assert reopened.json["result"]["close_reason"] is None
    assert reopened.json["result"]["reopened_on"] == agency["today"].isoformat()


def test_another_agencys_claim_and_contract_answer_404(app, http, agency, make_user, auth_headers):
    created = record(http, agency, occurred_on=(agency["today"] - dt.timedelta(days=3)).isoformat())
    other = make_user("USER")
    other_org = user_organisation(app, other)
    other_policy = make_policy(app, other_org, "POL-X")
    headers = auth_headers(other)
    claim_id = created.json["id"]
    assert http.get(f"{CLAIMS}{claim_id}", headers=headers).status_code == 404
    assert http.put(f"{CLAIMS}{claim_id}", json={"place": "x"}, headers=headers).status_code == 404
    moved = http.post(f"{CLAIMS}{claim_id}/status", json={"status": "open"}, headers=headers)
    assert moved.status_code == 404
    assert http.get(CLAIMS, headers=headers).json["count"] == 0
    # Recording on the first agency's contract from the second: 404 as well.
    foreign = http.post(
        CLAIMS,
        json={"policy_id": agency["policy"], "nature": "fire", "occurred_on": "2026-03-10"},
        headers=headers,
    )
    assert foreign.status_code == 404
    own = http.post(
        CLAIMS,
        json={"policy_id": other_policy, "nature": "fire", "occurred_on": "2026-03-10"},
        headers=headers,
    )
    assert own.status_code == 201, own.json
    # Numbers are per agency.
    assert own.json["result"]["number"].endswith("-00001")


def test_settlements_add_up_per_claim_and_a_closed_claim_takes_none(app, http, agency):
    created = record(
        http, agency, occurred_on=(agency["today"] - dt.timedelta(days=20)).isoformat()
    )
    url = f"{CLAIMS}{created.json['id']}/settlements"
    headers = agency["user"]
    paid_on = (agency["today"] - dt.timedelta(days=1)).isoformat()
    for kind, amount in [
        ("indemnity_client", "1000.10"),
        ("indemnity_third_party", "250.00"),
        ("insurer_recourse", "300.05"),
        ("refund_request", "40.00"),
    ]:
        response = http.post(
            url,
            json={"kind": kind, "amount": amount, "paid_on": paid_on, "counterparty": "AXA"},
            headers=headers,
        )
        assert response.status_code == 201, response.json
    totals = response.json["totals"]
    assert totals["indemnities"] == "1250.10"
    assert totals["net_cost"] == "950.05"
    assert totals["refund_request"] == "40.00"
    assert totals["client_recourse"] == "0.00"
    assert len(http.get(url, headers=headers).json["result"]) == 4
    # Bad input: nothing stored.
    for body in (
        {"kind": "gift", "amount": "1.00", "paid_on": paid_on},
        {"kind": "indemnity_client", "amount": "0", "paid_on": paid_on},
        {"kind": "indemnity_client", "amount": "1.00", "paid_on": "2999-01-01"},
        {"kind": "indemnity_client", "amount": "1.005", "paid_on": paid_on},
    ):
        assert http.post(url, json=body, headers=headers).status_code in (400, 422), body
    status = f"{CLAIMS}{created.json['id']}/status"
    http.post(status, json={"status": "settlement"}, headers=headers)
    closed = http.post(status, json={"status": "closed", "reason": "indemnified"}, headers=headers)
    assert closed.status_code == 200, closed.json
    late = http.post(
        url,
        json={"kind": "indemnity_client", "amount": "5.00", "paid_on": paid_on},
        headers=headers,
    )
    assert late.status_code == 409
    assert len(http.get(url, headers=headers).json["result"]) == 4
    with app.app_context():
        entries = db.session.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.object_type == "ClaimPayment")
        )
    assert entries == 4


def test_a_water_damage_asks_its_documents_and_counts_the_missing(http, agency):
    created = record(http, agency, occurred_on=(agency["today"] - dt.timedelta(days=2)).isoformat())
    url = f"{CLAIMS}{created.json['id']}/documents"
    headers = agency["user"]
    listed = http.get(url, headers=headers)
    assert listed.status_code == 200
    assert listed.json["missing"] == len(listed.json["result"]) == 4
    assert {row["requested_on"] for row in listed.json["result"]} == {agency["today"].isoformat()}
    added = http.post(url, json={"label": "Facture du plombier"}, headers=headers)
    assert added.status_code == 201 and added.json["missing"] == 5
    assert http.post(url, json={"label": "Facture du plombier"}, headers=headers).status_code == 409
    first = listed.json["result"][0]["id"]
    received = http.post(f"{url}/{first}/received", json={}, headers=headers)
    assert received.status_code == 200, received.json
    assert received.json["missing"] == 4
    future = (agency["today"] + dt.timedelta(days=1)).isoformat()
    assert (
        http.post(f"{url}/{first}/received", json={"received_on": future}, headers=headers)
    ).status_code == 422
    assert http.post(f"{url}/999999/received", json={}, headers=headers).status_code == 404


def test_the_loss_ratio_moves_with_an_indemnity(app, http, agency, make_user, auth_headers):
    manager = make_user("MANAGER", agency["org"])
    today = agency["today"]
    issued = http.post(
        "/api/v1/premium_notice/issue",
        json={"until": (today + dt.timedelta(days=200)).isoformat(), "policy_id": agency["policy"]},
        headers=auth_headers(manager),
    )
    assert issued.status_code == 200, issued.json
    query = {"start": (today - dt.timedelta(days=400)).isoformat(), "end": today.isoformat()}
    before = http.get(f"{CLAIMS}loss-ratio", query_string=query, headers=agency["user"])
    assert before.status_code == 200, before.json
    premiums = before.json["total"]["premiums"]
    assert before.json["total"]["paid"] == "0.00" and premiums != "0.00"
    assert before.json["total"]["ratio_percent"] == "0.0"
    created = record(http, agency, occurred_on=(today - dt.timedelta(days=5)).isoformat())
    http.post(
        f"{CLAIMS}{created.json['id']}/settlements",
        json={"kind": "indemnity_client", "amount": premiums, "paid_on": today.isoformat()},
        headers=agency["user"],
    )
    after = http.get(f"{CLAIMS}loss-ratio", query_string=query, headers=agency["user"])
    assert after.json["total"]["ratio_percent"] == "100.0"
    assert [row["key"] for row in after.json["by_line"]] == ["auto"]
    assert after.json["by_insurer"][0]["name"] == "Assureur POL-C"
    # Another agency sees none of it.
    other = auth_headers(make_user("USER"))
    assert http.get(f"{CLAIMS}loss-ratio", query_string=query, headers=other).json["by_line"] == []
    bad = http.get(f"{CLAIMS}loss-ratio", query_string={"start": "x"}, headers=agency["user"])
    assert bad.status_code == 400
