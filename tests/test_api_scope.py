"""Organisation scope on every API door: other agencies' rows are never read or touched."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Client, Company, Policy
from tests.conftest import user_organisation

RESOURCES = {"company": "company", "client": "client", "policy": "policy"}


@pytest.fixture
def agencies(app, make_user, make_organisation, portfolio, auth_headers):
    """Agency A (a USER and an ADMIN with tokens) and agency B, each with a portfolio."""
    user = make_user("USER")
    own_org = user_organisation(app, user)
    admin = make_user("ADMIN", organisation_id=own_org)
    other_org = make_organisation()
    return {
        "own_org": own_org,
        "other_org": other_org,
        "own": portfolio(own_org, "A"),
        "other": portfolio(other_org, "B"),
        "user": auth_headers(user),
        "admin": auth_headers(admin),
    }


def headers_for(agencies, resource):
    return agencies["admin"] if resource == "company" else agencies["user"]


def organisation_of(app, model, pk):
    with app.app_context():
        row = db.session.get(model, pk)
        return None if row is None else row.organisation_id


@pytest.mark.parametrize("resource", RESOURCES)
def test_rows_of_another_organisation_answer_404(http, app, agencies, resource):
    headers = headers_for(agencies, resource)
    other_id = agencies["other"][resource]
    path = f"/api/v1/{resource}/{other_id}"
    assert http.get(path, headers=headers).status_code == 404
    assert http.put(path, json={"notes": "x"}, headers=headers).status_code == 404
    assert http.delete(path, headers=headers).status_code == 404
    model = {"company": Company, "client": Client, "policy": Policy}[resource]
    assert organisation_of(app, model, other_id) == agencies["other_org"]  # still there
    own = http.get(f"/api/v1/{resource}/{agencies['own'][resource]}", headers=headers)
    assert own.status_code == 200


@pytest.mark.parametrize("resource", RESOURCES)
def test_lists_and_counts_exclude_other_organisations(http, agencies, resource):
    response = http.get(f"/api/v1/{resource}/", headers=headers_for(agencies, resource))
    assert response.json["ids"] == [agencies["own"][resource]]
    assert response.json["count"] == 1


def test_filters_cannot_reach_other_organisations(http, agencies):
    headers = agencies["user"]
    for q in (
        f"(filters:!((col:client_id,opr:eq,value:{agencies['other']['client']})))",
        f"(filters:!((col:company_id,opr:in,value:!({agencies['other']['company']}))))",
        "(filters:!((col:number,opr:eq,value:POL-B)))",
        "(filters:!((col:number,opr:sw,value:POL)))",
    ):
        response = http.get("/api/v1/policy/", query_string={"q": q}, headers=headers)
        assert response.status_code == 200
        assert all(row["number"] != "POL-B" for row in response.json["result"])
    everything = http.get(
        "/api/v1/policy/",
        query_string={"q": "(filters:!((col:number,opr:sw,value:POL)))"},
        headers=headers,
    )
    assert everything.json["count"] == 1


@pytest.mark.parametrize("field", ["client_id", "company_id", "renewal_of_id"])
def test_post_with_another_organisations_id_creates_nothing(http, app, agencies, field):
    own, other = agencies["own"], agencies["other"]
    target = {"client_id": "client", "company_id": "company", "renewal_of_id": "policy"}[field]
    body = {
        "number": "CROSS-1",
        "client_id": own["client"],
        "company_id": own["company"],
        "line_of_business": "auto",
        "effective_date": "2026-01-01",
        "expiry_date": "2027-01-01",
        "premium": "1.00",
        field: other[target],
    }
    response = http.post("/api/v1/policy/", json=body, headers=agencies["user"])
    assert response.status_code == 422
    assert list(response.json["message"]) == [field]
    with app.app_context():
        assert db.session.query(Policy).filter_by(number="CROSS-1").count() == 0


def test_put_with_another_organisations_id_changes_nothing(http, app, agencies):
    path = f"/api/v1/policy/{agencies['own']['policy']}"
    response = http.put(
        path, json={"client_id": agencies["other"]["client"]}, headers=agencies["user"]
    )
    assert response.status_code == 422 and "client_id" in response.json["message"]
    with app.app_context():
        assert (
            db.session.get(Policy, agencies["own"]["policy"]).client_id
            == (agencies["own"]["client"])
        )


def test_post_takes_the_callers_organisation_and_refuses_a_forged_one(http, app, agencies):
    forged = http.post(
        "/api/v1/client/",
        json={"last_name": "Forged", "organisation_id": agencies["other_org"]},
        headers=agencies["user"],
    )
    assert forged.status_code == 422 and "organisation_id" in forged.json["message"]

    made = http.post("/api/v1/client/", json={"last_name": "Honest"}, headers=agencies["user"])
    assert made.status_code == 201
    assert organisation_of(app, Client, made.json["id"]) == agencies["own_org"]
    assert "organisation_id" not in made.json["result"]


def test_put_cannot_move_a_row_to_another_organisation(http, app, agencies):
    client_id = agencies["own"]["client"]
    response = http.put(
        f"/api/v1/client/{client_id}",
        json={"organisation_id": agencies["other_org"]},
        headers=agencies["user"],
    )
    assert response.status_code == 422
    assert organisation_of(app, Client, client_id) == agencies["own_org"]


def test_info_lists_no_rows_of_any_organisation(http, agencies):
    response = http.get("/api/v1/policy/_info", headers=agencies["user"])
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "POL-B" not in text and "MartinB" not in text and "Assureur B" not in text
    assert all("values" not in field for field in response.json["add_columns"])


def test_a_superadmin_sees_every_organisation(http, agencies, make_user, auth_headers):
    headers = auth_headers(make_user("SUPERADMIN"))
    listed = http.get("/api/v1/policy/", headers=headers).json
    assert listed["count"] == 2
    assert http.get(
        f"/api/v1/client/{agencies['other']['client']}", headers=headers
    ).status_code == (200)
