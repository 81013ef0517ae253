"""/api/v1/job/: every role follows the jobs of its organisation, never another's."""

from __future__ import annotations

import pytest

from tests.api_documents_support import clean_error, published_template
from tests.conftest import user_organisation

JOB_KEYS = {
    "id",
    "kind",
    "status",
    "progress",
    "document_id",
    "error",
    "created_at",
    "started_at",
    "finished_at",
}


@pytest.fixture
def agency(app, make_user, make_organisation, portfolio, auth_headers):
    user = make_user("USER")
    org_a = user_organisation(app, user)
    org_b = make_organisation()
    return {
        "user": auth_headers(user),
        "colleague": auth_headers(make_user("USER", organisation_id=org_a)),
        "manager": auth_headers(make_user("MANAGER", organisation_id=org_a)),
        "admin": auth_headers(make_user("ADMIN", organisation_id=org_a)),
        "b_manager": auth_headers(make_user("MANAGER", organisation_id=org_b)),
        "b_admin": auth_headers(make_user("ADMIN", organisation_id=org_b)),
        "policies": [portfolio(org_a, f"A{n}")["policy"] for n in range(3)],
    }


def start_batch(http, headers, template_id, policy_ids) -> int:
    response = http.post(
        "/api/v1/document/generate-batch",
        json={"template_id": template_id, "policy_ids": policy_ids},
        headers=headers,
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.json["job_id"]


@pytest.fixture
def batch(http, agency):
    """A finished batch job started by agency A's USER."""
    template_id = published_template(http, agency["manager"])
    return start_batch(http, agency["user"], template_id, agency["policies"])


def test_a_job_shows_its_status_and_progress(http, agency, batch):
    response = http.get(f"/api/v1/job/{batch}", headers=agency["user"])
    assert response.status_code == 200
    job = response.json
    assert set(job) == JOB_KEYS
    assert job["id"] == batch and job["kind"] == "batch_render"
    assert job["status"] == "succeeded" and job["error"] is None
    assert job["progress"] == {"done": 3, "total": 3}
    assert job["created_at"].endswith("+00:00") and job["finished_at"].endswith("+00:00")


def test_every_role_of_the_agency_follows_its_jobs(http, agency, batch):
    for role in ("user", "colleague", "manager", "admin"):
        assert http.get(f"/api/v1/job/{batch}", headers=agency[role]).status_code == 200, role
        listing = http.get("/api/v1/job/?kind=batch_render", headers=agency[role]).json
        assert [job["id"] for job in listing["result"]] == [batch] and listing["count"] == 1


@pytest.mark.parametrize("role", ["b_manager", "b_admin"])
def test_another_agencys_job_answers_404(http, agency, batch, role):
    clean_error(http.get(f"/api/v1/job/{batch}", headers=agency[role]), 404)
    assert http.get("/api/v1/job/", headers=agency[role]).json == {"count": 0, "result": []}


def test_each_generated_document_has_its_render_job(http, agency):
    template_id = published_template(http, agency["manager"])
    response = http.post(
        "/api/v1/document/generate",
        json={"template_id": template_id, "policy_id": agency["policies"][0]},
        headers=agency["user"],
    )
    document = http.get(response.headers["Location"], headers=agency["user"]).json["result"]
    job = http.get(f"/api/v1/job/{document['job_id']}", headers=agency["user"]).json
    assert job["kind"] == "render" and job["status"] == "succeeded"
    assert job["document_id"] == document["id"] and job["progress"] == {"done": 1, "total": 1}


def test_the_list_pages_and_filters(http, agency):
    template_id = published_template(http, agency["manager"])
    jobs = [
        start_batch(http, agency["user"], template_id, agency["policies"][:1]) for _ in range(3)
    ]
    headers = agency["manager"]
    first = http.get("/api/v1/job/?page_size=2", headers=headers).json
    assert first["count"] == 3 and [job["id"] for job in first["result"]] == jobs[::-1][:2]
    second = http.get("/api/v1/job/?page=1&page_size=2", headers=headers).json
    assert [job["id"] for job in second["result"]] == [jobs[0]]
    ok = http.get("/api/v1/job/?status=succeeded&kind=batch_render", headers=headers).json
    assert ok["count"] == 3
    assert http.get("/api/v1/job/?kind=render", headers=headers).json["count"] == 0
    assert http.get("/api/v1/job/?status=failed", headers=headers).json["count"] == 0


@pytest.mark.parametrize(
    "query",
    [
        "page=-1",
        "page=x",
        "page=1e3",
        "page=99999999999999999999",
        "page_size=0",
        "page_size=101",
        "page_size=²",
        "status=lost",
        "kind=poem",
        "colour=red",
    ],
)
def test_bad_list_arguments_answer_400(http, agency, query):
    clean_error(http.get(f"/api/v1/job/?{query}", headers=agency["user"]), 400)


@pytest.mark.parametrize("pk", ["0", "-1", "1e3", "²", "9" * 30, "abc", str(2**31)])
def test_ids_that_name_no_job_answer_404(http, agency, pk):
    clean_error(http.get(f"/api/v1/job/{pk}", headers=agency["user"]), 404)


def test_jobs_are_read_only_and_need_a_login(http, agency, batch):
    assert http.get(f"/api/v1/job/{batch}").status_code == 401
    assert http.get("/api/v1/job/").status_code == 401
    clean_error(http.delete(f"/api/v1/job/{batch}", headers=agency["manager"]), 405)
    clean_error(http.post("/api/v1/job/", json={}, headers=agency["manager"]), 405)


def test_answers_match_the_openapi_document(http, agency, batch):
    from tests.test_api_openapi import check

    headers = agency["user"]
    spec = http.get("/api/v1/_openapi", headers=headers).json
    check(
        spec, "/api/v1/job/{pk}", "get", 200, http.get(f"/api/v1/job/{batch}", headers=headers).json
    )
    check(spec, "/api/v1/job/", "get", 200, http.get("/api/v1/job/", headers=headers).json)
    check(spec, "/api/v1/job/{pk}", "get", 404, http.get("/api/v1/job/0", headers=headers).json)
    check(spec, "/api/v1/job/", "get", 400, http.get("/api/v1/job/?page=-1", headers=headers).json)


def test_the_new_routes_spend_the_callers_api_budget(app, http, agency, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_API", "3/minute")
    headers = agency["admin"]
    paths = ["/api/v1/job/", "/api/v1/template/", "/api/v1/document/"]
    assert [http.get(path, headers=headers).status_code for path in paths] == [200, 200, 200]
    for path in (*paths, "/api/v1/document/1/download", "/api/v1/template/1/versions"):
        refused = http.get(path, headers=headers)
        assert clean_error(refused, 429) and refused.headers["Retry-After"]
