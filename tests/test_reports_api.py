"""POST /api/v1/report/portfolio and /premiums: 202 and a job that delivers, refusals, scope."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.extensions import db
from app.models import Job, JobStatus
from tests.conftest import user_organisation
from tests.fuzz_support import fuzz_settings, json_values
from tests.reports_support import fr, seed_policies, sheet_rows, workbook_of
from tests.test_api_openapi import check

ROUTES = ("/api/v1/report/portfolio", "/api/v1/report/premiums")


@pytest.fixture
def agency(app, make_user, make_organisation, auth_headers):
    manager = make_user("MANAGER")
    organisation = user_organisation(app, manager)
    ids = seed_policies(app, organisation)
    other = make_user("MANAGER", organisation_id=make_organisation())
    seed_policies(app, user_organisation(app, other), prefix="OTHER")
    return {
        "manager": auth_headers(manager),
        "other": auth_headers(other),
        "user": auth_headers(make_user("USER", organisation_id=organisation)),
        "admin": auth_headers(make_user("ADMIN", organisation_id=organisation)),
        "organisation": organisation,
        **ids,
    }


def test_portfolio_answers_202_and_the_job_delivers_the_workbook(http, app, agency):
    response = http.post(ROUTES[0], json={}, headers=agency["manager"])
    assert response.status_code == 202
    job_id = response.json["job_id"]
    assert response.headers["Location"] == f"/api/v1/job/{job_id}"
    job = http.get(f"/api/v1/job/{job_id}", headers=agency["manager"]).json
    assert job["status"] == "succeeded" and job["kind"] == "report" and job["error"] is None
    assert job["progress"]["done"] == job["progress"]["total"] > 5
    document = http.get(f"/api/v1/document/{job['document_id']}", headers=agency["manager"])
    assert document.status_code == 200
    assert document.json["result"]["file_name"].startswith("rapport-portefeuille-")
    download = http.get(
        f"/api/v1/document/{job['document_id']}/download", headers=agency["manager"]
    )
    assert download.status_code == 200
    assert "rapport-portefeuille-" in download.headers["Content-Disposition"]
    rows = sheet_rows(workbook_of(app, job["document_id"]), 0)
    assert [row[0] for row in rows[1:]] == ["P-001", "P-002", "P-003", "P-004", "P-005"]


def test_no_body_at_all_is_no_filter(http, agency):
    response = http.post(ROUTES[1], headers=agency["manager"])
    assert response.status_code == 202, response.json


def test_premiums_with_filters(http, app, agency):
    body = {"insurer_id": agency["maif"], "date_from": "2026-01-01", "date_to": "2026-03-31"}
    response = http.post(ROUTES[1], json=body, headers=agency["manager"])
    assert response.status_code == 202, response.json
    job = http.get(f"/api/v1/job/{response.json['job_id']}", headers=agency["manager"]).json
    detail = sheet_rows(workbook_of(app, job["document_id"]), 0)[1:]
    assert [(r[0], r[1], r[2], r[3]) for r in detail] == [
        ("2026-02", "P Maif", "EUR", 1),
        ("2026-03", "P Maif", "USD", 1),
    ]
    totals = sheet_rows(workbook_of(app, job["document_id"]), 1)[1:]
    assert (
        len([r for r in totals if r[0] == fr(app, "By month")]) == 3 * 2
    )  # 3 months x 2 currencies


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date_from": "27/11/2026"}, "date_from"),
        ({"date_from": "2026-02-30"}, "date_from"),
        ({"date_from": "2026-05-01", "date_to": "2026-04-01"}, "date_to"),
        ({"insurer_id": "1"}, "insurer_id"),
        ({"insurer_id": True}, "insurer_id"),
        ({"insurer_id": 0}, "insurer_id"),
        ({"insurer_id": 2**40}, "insurer_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_filters_answer_422_naming_the_field(http, agency, body, field):
    for route in ROUTES:
        response = http.post(route, json=body, headers=agency["manager"])
        assert response.status_code == 422, (route, response.json)
        assert field in response.json["message"]


@pytest.mark.parametrize("raw", ["[]", '"text"', "null", "12", "{not json"])
def test_a_body_that_is_not_a_json_object_answers_422(http, agency, raw):
    headers = {**agency["manager"], "Content-Type": "application/json"}
    response = http.post(ROUTES[0], data=raw, headers=headers)
    assert response.status_code == 422 and "message" in response.json


def test_a_period_over_ten_years_is_refused_for_premiums(http, agency):
    body = {"date_from": "2000-01-01", "date_to": "2026-01-01"}
    response = http.post(ROUTES[1], json=body, headers=agency["manager"])
    assert response.status_code == 422 and "date_from" in response.json["message"]
    assert http.post(ROUTES[0], json=body, headers=agency["manager"]).status_code == 202


def test_another_agencys_insurer_answers_404(http, agency):
    # An insurer of the first agency, asked for by the other agency's manager.
    response = http.post(ROUTES[0], json={"insurer_id": agency["axa"]}, headers=agency["other"])
    assert response.status_code == 404


def test_a_period_before_year_one_is_refused(http, agency):
    response = http.post(ROUTES[1], json={"date_to": "0001-03-01"}, headers=agency["manager"])
    assert response.status_code == 422


def test_another_agencys_job_and_document_answer_404(http, agency):
    job_id = http.post(ROUTES[0], headers=agency["manager"]).json["job_id"]
    job = http.get(f"/api/v1/job/{job_id}", headers=agency["manager"]).json
    assert http.get(f"/api/v1/job/{job_id}", headers=agency["other"]).status_code == 404
    document = f"/api/v1/document/{job['document_id']}"
    assert http.get(document, headers=agency["other"]).status_code == 404
    assert http.get(f"{document}/download", headers=agency["other"]).status_code == 404


def test_each_manager_gets_only_their_agencys_policies(http, app, agency):
    job_id = http.post(ROUTES[0], headers=agency["other"]).json["job_id"]
    job = http.get(f"/api/v1/job/{job_id}", headers=agency["other"]).json
    numbers = [row[0] for row in sheet_rows(workbook_of(app, job["document_id"]), 0)[1:]]
    assert numbers == [f"OTHER-{index:03d}" for index in range(1, 6)]


def test_a_non_superadmin_cannot_name_another_organisation(http, agency, make_organisation):
    body = {"organisation_id": make_organisation()}
    assert http.post(ROUTES[0], json=body, headers=agency["manager"]).status_code == 404
    own = {"organisation_id": agency["organisation"]}
    assert http.post(ROUTES[0], json=own, headers=agency["manager"]).status_code == 202


def test_superadmin_chooses_the_organisation(http, app, agency, make_user, auth_headers):
    headers = auth_headers(make_user("SUPERADMIN"))
    body = {"organisation_id": agency["organisation"]}
    response = http.post(ROUTES[0], json=body, headers=headers)
    assert response.status_code == 202
    with app.app_context():
        assert (
            db.session.get(Job, response.json["job_id"]).organisation_id == agency["organisation"]
        )
    missing = http.post(ROUTES[0], json={"organisation_id": 2**31 - 1}, headers=headers)
    assert missing.status_code == 404


def test_user_role_is_refused_and_admin_allowed(http, agency):
    for route in ROUTES:
        assert http.post(route, json={}, headers=agency["user"]).status_code == 403
        assert http.post(route, json={}, headers=agency["admin"]).status_code == 202
    assert http.post(ROUTES[0], json={}).status_code == 401


def test_answers_match_the_openapi_document(http, agency, make_user, auth_headers):
    spec = http.get("/api/v1/_openapi", headers=auth_headers(make_user("SUPERADMIN"))).json
    for route in ROUTES:
        path = route
        assert path in spec["paths"]
        check(spec, path, "post", 202, http.post(route, json={}, headers=agency["manager"]).json)
        bad = http.post(route, json={"date_to": "x"}, headers=agency["manager"])
        check(spec, path, "post", 422, bad.json)
        check(spec, path, "post", 403, http.post(route, json={}, headers=agency["user"]).json)
        missing = http.post(route, json={"insurer_id": 2**31 - 1}, headers=agency["manager"])
        check(spec, path, "post", 404, missing.json)


def test_started_jobs_leave_their_row_and_an_audit_line(http, app, agency):
    from app.models import AuditLog

    job_id = http.post(ROUTES[1], json={"date_to": "2026-06-30"}, headers=agency["manager"]).json[
        "job_id"
    ]
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status is JobStatus.succeeded
        assert job.params["params"]["date_to"] == "2026-06-30"
        assert job.params["params"]["date_from"] == "2025-07-01"
        entry = db.session.query(AuditLog).filter_by(action="report.requested").one()
        assert entry.object_id == str(job_id) and entry.organisation_id == agency["organisation"]


FUZZ = fuzz_settings(40)


@FUZZ
@given(data=st.data())
def test_fuzz_report_bodies_never_answer_5xx(http, agency, data):
    dates = st.sampled_from(["2026-01-01", "2026-12-31", "1900-01-01", "9999-12-31"])
    body = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "insurer_id": st.sampled_from([agency["axa"], agency["maif"]]) | json_values,
                "date_from": dates | json_values,
                "date_to": dates | json_values,
                "organisation_id": st.just(agency["organisation"]) | json_values,
                data.draw(st.text(max_size=6)): json_values,
            },
        )
        | json_values
    )
    for route in ROUTES:
        response = http.post(route, json=body, headers=agency["manager"])
        assert response.status_code < 500, response.get_data(as_text=True)
        assert response.is_json and (response.status_code == 202 or "message" in response.json)
