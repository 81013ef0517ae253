"""POST /api/v1/import/clients|policies: one request reads, checks and upserts (or dry-runs)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from app.extensions import db
from app.models import Client, Policy
from tests.conftest import csrf_token
from tests.import_support import (
    CLIENT_HEADERS,
    POLICY_HEADERS,
    count,
    csv_bytes,
    import_audits,
    policies_of,
    policy_row,
    seed_agency,
    xlsx_bytes,
)
from tests.test_api_openapi import check


@pytest.fixture
def agency(app, make_organisation, make_user, auth_headers):
    organisation = make_organisation()
    seed_agency(app, organisation)
    return {"id": organisation, "headers": auth_headers(make_user("USER", organisation))}


@pytest.fixture
def spec(http, make_user, auth_headers) -> dict[str, Any]:
    return http.get("/api/v1/_openapi", headers=auth_headers(make_user("SUPERADMIN"))).json


def post(http, kind: str, data: bytes, name: str, headers: dict[str, str], **fields: str) -> Any:
    body: dict[str, Any] = {"file": (io.BytesIO(data), name), **fields}
    return http.post(
        f"/api/v1/import/{kind}", data=body, headers=headers, content_type="multipart/form-data"
    )


PATH = "/api/v1/import/policies"


def test_dry_run_then_import_then_upsert(app, http, agency, spec):
    data = csv_bytes(POLICY_HEADERS, [policy_row(i) for i in range(1, 51)])
    dry = post(http, "policies", data, "p.csv", agency["headers"], dry_run="true")
    assert dry.status_code == 200, dry.json
    assert (dry.json["dry_run"], dry.json["created"], dry.json["rows"]) == (True, 50, 50)
    check(spec, PATH, "post", 200, dry.json)
    assert count(app, Policy) == 0 and import_audits(app) == []

    done = post(http, "policies", data, "p.csv", agency["headers"])
    assert done.status_code == 200
    assert (done.json["dry_run"], done.json["created"], done.json["updated"]) == (False, 50, 0)
    assert len(policies_of(app, agency["id"])) == 50
    assert import_audits(app)[0].changes["sha256"]

    rows = [policy_row(i) for i in range(1, 51)]
    rows[4][4] = "cancelled"
    again = post(http, "policies", csv_bytes(POLICY_HEADERS, rows), "p.csv", agency["headers"])
    assert (again.json["created"], again.json["updated"], again.json["unchanged"]) == (0, 1, 49)
    assert policies_of(app, agency["id"])["POL-0005"].status.value == "cancelled"
    assert count(app, Policy) == 50


def test_invalid_rows_answer_422_with_every_error_and_write_nothing(app, http, agency, spec):
    rows = [policy_row(i) for i in range(1, 31)]
    rows[2][1] = "unknown@example.com"
    rows[20][6] = "2025-01-01"  # before the effective date
    response = post(http, "policies", xlsx_bytes(POLICY_HEADERS, rows), "p.xlsx", agency["headers"])
    assert response.status_code == 422
    check(spec, PATH, "post", 422, response.json)
    assert [(e["row"], e["column"]) for e in response.json["errors"]] == [
        (4, "E-mail du client"),
        (22, "Date d'échéance"),
    ]
    assert count(app, Policy) == 0 and import_audits(app) == []


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("x.xlsx", b"PK\x03\x04broken", 422),
        ("x.pdf", b"%PDF-1.4", 422),
        ("x.csv", b"", 422),
    ],
)
def test_garbage_answers_4xx_json(app, http, agency, name, data, status):
    response = post(http, "clients", data, name, agency["headers"])
    assert response.status_code == status
    assert isinstance(response.json["message"], str) and response.json["message"]
    assert count(app, Client) == 10


def test_size_and_form_refusals(app, http, agency, monkeypatch):
    headers = agency["headers"]
    no_file = http.post("/api/v1/import/clients", data={}, headers=headers)
    assert no_file.status_code == 400
    data = csv_bytes(CLIENT_HEADERS, [["a@example.com", "A", "", "", ""]])
    assert post(http, "clients", data, "c.csv", headers, dry_run="maybe").status_code == 400
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 20)
    too_large = post(http, "clients", data, "c.csv", headers)
    # The default locale (French), like the screens: "Le fichier est trop volumineux…".
    assert too_large.status_code == 413 and "0,01" in too_large.json["message"]
    assert count(app, Client) == 10


def test_missing_columns_answer_422_with_the_mapping(app, http, agency):
    data = csv_bytes(["Nom", "Colonne inconnue"], [["A", "x"]])
    response = post(http, "clients", data, "c.csv", agency["headers"])
    assert response.status_code == 422
    assert "E-mail" in response.json["message"]
    assert {"column": "Colonne inconnue", "field": None} in response.json["columns"]


def test_rows_go_to_the_callers_agency_only(app, http, agency, make_organisation):
    other = make_organisation()
    seed_agency(app, other, clients=0)
    with app.app_context():
        db.session.add(Client(organisation_id=other, last_name="Autre", email="theirs@example.com"))
        db.session.commit()
    theirs = csv_bytes(POLICY_HEADERS, [policy_row(1, email="theirs@example.com")])
    refused = post(http, "policies", theirs, "p.csv", agency["headers"])
    assert refused.status_code == 422
    assert refused.json["errors"][0]["column"] == "E-mail du client"
    data = csv_bytes(CLIENT_HEADERS, [["theirs@example.com", "Mien", "", "", ""]])
    assert post(http, "clients", data, "c.csv", agency["headers"]).json["created"] == 1
    assert count(app, Client, other) == 1 and count(app, Client, agency["id"]) == 11
    with app.app_context():
        assert db.session.query(Client).filter_by(organisation_id=other).one().last_name == "Autre"


def test_anonymous_and_roles_without_write_are_refused(app, http, agency, make_user, auth_headers):
    data = csv_bytes(CLIENT_HEADERS, [["a@example.com", "A", "", "", ""]])
    assert post(http, "clients", data, "c.csv", {}).status_code == 401
    sm = app.appbuilder.sm
    username = make_user("USER", agency["id"])
    with app.app_context():
        role = sm.add_role("IMPORT_API_READ_ONLY")
        sm.add_permission_role(role, sm.find_permission_view_menu("can_read", "Client"))
        sm.find_user(username=username).roles = [role]
        db.session.commit()
        role_id = role.id
    try:
        headers = auth_headers(username)
        assert http.get("/api/v1/client/", headers=headers).status_code == 200
        assert post(http, "clients", data, "c.csv", headers).status_code == 403
        assert post(http, "policies", data, "c.csv", headers).status_code == 403
    finally:
        with app.app_context():
            role = db.session.get(sm.role_model, role_id)
            role.permissions, role.user = [], []
            db.session.delete(role)
            db.session.commit()
    assert count(app, Client) == 10


def test_a_browser_session_needs_the_csrf_header(app, http, agency, make_user, login):
    login(make_user("USER", agency["id"]))
    data = csv_bytes(CLIENT_HEADERS, [["a@example.com", "A", "", "", ""]])
    assert post(http, "clients", data, "c.csv", {}).status_code == 400
    token = csrf_token(http, "/import/clients/")
    assert post(http, "clients", data, "c.csv", {"X-CSRFToken": token}).status_code == 200
    assert count(app, Client, agency["id"]) == 11
