"""/api/v1/document/: generate (one and batch), follow, list and download through the REST door.

Tasks run inline in tests (HUEY_IMMEDIATE), so a document asked for is rendered
within the request and ready when the 202 comes back.
"""

from __future__ import annotations

import hashlib
import urllib.parse

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st

from app.extensions import db
from app.models import Document, DocumentStatus, OutputFormat
from app.services.storage import file_store
from tests.api_documents_support import (
    HTML_BODY,
    add_version,
    clean_error,
    generate,
    generated,
    publish,
    published_template,
)
from tests.conftest import csrf_token, user_organisation
from tests.fuzz_support import fuzz_settings, json_values

STORE_KEY = "monassurance_file_store"  # app.extensions entry of app.services.storage


@pytest.fixture
def agency(app, make_user, make_organisation, portfolio, auth_headers):
    """Agency A (USER, MANAGER, ADMIN) and agency B (MANAGER), with policies and a template each."""
    user = make_user("USER")
    org_a = user_organisation(app, user)
    org_b = make_organisation()
    return {
        "org_a": org_a,
        "org_b": org_b,
        "user": auth_headers(user),
        "manager": auth_headers(make_user("MANAGER", organisation_id=org_a)),
        "admin": auth_headers(make_user("ADMIN", organisation_id=org_a)),
        "b_manager": auth_headers(make_user("MANAGER", organisation_id=org_b)),
        "policy_a": portfolio(org_a, "A")["policy"],
        "policy_a2": portfolio(org_a, "A2")["policy"],
        "policy_b": portfolio(org_b, "B")["policy"],
    }


@pytest.fixture
def template_a(http, agency):
    return published_template(http, agency["manager"])


def stored(app, document_id: int) -> tuple[bytes, bytes, Document]:
    """(the original bytes read back from the store, the bytes as stored, the row)."""
    with app.app_context():
        document = db.session.get(Document, document_id)
        db.session.expunge(document)
    store = file_store(app)
    original = store.get(
        document.storage_key, compressed=document.compressed, encrypted=document.encrypted
    )
    raw = store.get(document.storage_key, compressed=False, encrypted=False)
    return original, raw, document


def test_generate_answers_202_then_the_document_downloads(http, app, agency, template_a):
    headers = agency["user"]
    response = generate(http, headers, template_a, agency["policy_a"])
    assert response.status_code == 202, response.get_data(as_text=True)
    assert set(response.json) == {"id", "status"}
    assert response.json["status"] in ("queued", "running", "ready")
    document_id = response.json["id"]
    assert response.headers["Location"].endswith(f"/api/v1/document/{document_id}")

    shown = http.get(response.headers["Location"], headers=headers).json["result"]
    assert shown["status"] == "ready" and shown["error"] is None
    assert shown["template_id"] == template_a and shown["policy_id"] == agency["policy_a"]
    assert shown["template_version"] == {"number": 1}
    assert shown["format"] == "html" and shown["attempts"] >= 1
    assert shown["size"] > 0 and shown["duration_ms"] is not None
    assert shown["finished_at"].endswith("+00:00")

    download = http.get(f"/api/v1/document/{document_id}/download", headers=headers)
    assert download.status_code == 200
    original, _raw, row = stored(app, document_id)
    assert download.data == original
    assert hashlib.sha256(download.data).hexdigest() == shown["sha256"] == row.sha256
    assert download.headers["X-Checksum"] == shown["sha256"]
    assert download.headers["Content-Type"] == row.media_type
    assert download.headers["Content-Type"].startswith("text/html")
    assert download.headers["Cache-Control"] == "no-store"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"].startswith("default-src 'none'")
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    quoted = urllib.parse.quote(row.file_name, safe="")
    assert f'filename="{row.file_name}"' in disposition
    assert f"filename*=UTF-8''{quoted}" in disposition
    assert "POL-A" in row.file_name and b"POL-A" in download.data


def test_a_new_published_version_makes_new_documents_and_keeps_old_ones(
    http, app, agency, template_a
):
    manager, user = agency["manager"], agency["user"]
    old = generated(http, user, template_a, agency["policy_a"])
    old_bytes = http.get(f"/api/v1/document/{old['id']}/download", headers=user).data

    add_version(http, manager, template_a, HTML_BODY.replace("Contrat", "Contrat v2"))
    publish(http, manager, template_a, 2)
    new = generated(http, user, template_a, agency["policy_a"])
    assert new["template_version"] == {"number": 2}
    new_bytes = http.get(f"/api/v1/document/{new['id']}/download", headers=user).data
    assert b"Contrat v2" in new_bytes

    again = http.get(f"/api/v1/document/{old['id']}/download", headers=user)
    assert again.data == old_bytes and b"Contrat v2" not in again.data
    assert again.headers["X-Checksum"] == old["sha256"]
    assert http.get(f"/api/v1/document/{old['id']}", headers=user).json["result"][
        "template_version"
    ] == {"number": 1}


def test_a_compressed_and_encrypted_document_downloads_as_its_original_bytes(
    http, app, agency, monkeypatch
):
    # A config override for this test: an encryption key, and a store opened with it.
    monkeypatch.setitem(app.config, "STORAGE_ENCRYPTION_KEYS", [Fernet.generate_key().decode()])
    monkeypatch.delitem(app.extensions, STORE_KEY, raising=False)
    template_id = published_template(http, agency["manager"], output_format="pdf")
    document = generated(
        http, agency["user"], template_id, agency["policy_a"], compress=True, encrypt=True
    )
    assert (document["compressed"], document["encrypted"]) == (True, True)
    download = http.get(f"/api/v1/document/{document['id']}/download", headers=agency["user"])
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.data.startswith(b"%PDF")
    original, raw, _row = stored(app, document["id"])
    assert download.data == original
    assert raw != original and b"%PDF" not in raw  # what lies in the store is not the PDF
    assert hashlib.sha256(download.data).hexdigest() == download.headers["X-Checksum"]
    monkeypatch.delitem(app.extensions, STORE_KEY, raising=False)


def test_a_document_that_is_not_ready_answers_409(http, app, agency, template_a):
    document = generated(http, agency["user"], template_a, agency["policy_a"])
    for status in (DocumentStatus.queued, DocumentStatus.running, DocumentStatus.failed):
        with app.app_context():
            db.session.get(Document, document["id"]).status = status
            db.session.commit()
        response = http.get(f"/api/v1/document/{document['id']}/download", headers=agency["user"])
        clean_error(response, 409)


def test_a_failed_render_is_shown_with_its_error(http, agency):
    template_id = published_template(
        http, agency["manager"], name="Broken", body="<p>{{ 1 // 0 }}</p>"
    )
    response = generate(http, agency["user"], template_id, agency["policy_a"])
    assert response.status_code == 202
    shown = http.get(response.headers["Location"], headers=agency["user"]).json["result"]
    assert shown["status"] == "failed" and shown["error"]
    download = http.get(f"/api/v1/document/{shown['id']}/download", headers=agency["user"])
    clean_error(download, 409)


@pytest.mark.parametrize("role", ["user", "manager", "admin"])
def test_another_agencys_documents_answer_404(http, agency, role):
    b_template = published_template(http, agency["b_manager"], name="B")
    b_document = generated(http, agency["b_manager"], b_template, agency["policy_b"])
    headers = agency[role]
    for path in (
        f"/api/v1/document/{b_document['id']}",
        f"/api/v1/document/{b_document['id']}/download",
    ):
        clean_error(http.get(path, headers=headers), 404)
    listing = http.get("/api/v1/document/", headers=headers).json
    assert listing["count"] == 0 and listing["ids"] == []


def test_generating_from_another_agencys_template_or_policy_makes_nothing(
    http, app, agency, template_a
):
    b_template = published_template(http, agency["b_manager"], name="B")
    headers = agency["user"]
    for template_id, policy_id in (
        (b_template, agency["policy_a"]),
        (template_a, agency["policy_b"]),
    ):
        response = generate(http, headers, template_id, policy_id)
        clean_error(response, (404, 422))
    batch = http.post(
        "/api/v1/document/generate-batch",
        json={"template_id": template_a, "policy_ids": [agency["policy_a"], agency["policy_b"]]},
        headers=headers,
    )
    clean_error(batch, (404, 422))
    with app.app_context():
        assert db.session.query(Document).count() == 0


def test_lists_filter_by_status_policy_and_template(http, app, agency, template_a):
    headers = agency["user"]
    other_template = published_template(http, agency["manager"], name="Autre")
    first = generated(http, headers, template_a, agency["policy_a"])
    second = generated(http, headers, template_a, agency["policy_a2"])
    third = generated(http, headers, other_template, agency["policy_a"])

    def ids(filters: str) -> list[int]:
        response = http.get(f"/api/v1/document/?q=(filters:!({filters}))", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return sorted(response.json["ids"])

    assert ids(f"(col:policy_id,opr:eq,value:{agency['policy_a']})") == [first["id"], third["id"]]
    assert ids(f"(col:template_id,opr:eq,value:{template_a})") == [first["id"], second["id"]]
    assert ids("(col:status,opr:eq,value:ready)") == sorted(
        [first["id"], second["id"], third["id"]]
    )
    assert ids("(col:status,opr:eq,value:failed)") == []
    clean_error(
        http.get(
            "/api/v1/document/?q=(filters:!((col:status,opr:eq,value:lost)))", headers=headers
        ),
        400,
    )
    clean_error(
        http.get(
            "/api/v1/document/?q=(filters:!((col:storage_key,opr:eq,value:x)))", headers=headers
        ),
        400,
    )
    listing = http.get("/api/v1/document/", headers=headers).json
    assert listing["ids"] == [third["id"], second["id"], first["id"]]  # newest first
    assert "storage_key" not in listing["result"][0] and "lease_token" not in listing["result"][0]


def test_generate_batch_makes_one_job_and_a_document_per_policy(http, app, agency, template_a):
    headers = agency["user"]
    policies = [agency["policy_a"], agency["policy_a2"]]
    response = http.post(
        "/api/v1/document/generate-batch",
        json={"template_id": template_a, "policy_ids": policies},
        headers=headers,
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    assert set(response.json) == {"job_id", "status", "total"} and response.json["total"] == 2
    job_id = response.json["job_id"]
    assert response.headers["Location"].endswith(f"/api/v1/job/{job_id}")
    job = http.get(response.headers["Location"], headers=headers).json
    assert job["status"] == "succeeded" and job["progress"] == {"done": 2, "total": 2}
    made = http.get(
        f"/api/v1/document/?q=(filters:!((col:job_id,opr:eq,value:{job_id})))", headers=headers
    ).json
    assert made["count"] == 2
    assert sorted(row["policy_id"] for row in made["result"]) == sorted(policies)
    assert {row["status"] for row in made["result"]} == {"ready"}


def test_the_document_resource_is_read_only(http, agency, template_a):
    document = generated(http, agency["manager"], template_a, agency["policy_a"])
    headers = agency["manager"]
    path = f"/api/v1/document/{document['id']}"
    clean_error(
        http.post("/api/v1/document/", json={"template_id": template_a}, headers=headers), 405
    )
    clean_error(http.put(path, json={"status": "ready"}, headers=headers), 405)
    clean_error(http.delete(path, headers=headers), 405)


GOOD = {"template_id": 1, "policy_id": 1}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"template_id": None}, "template_id"),
        ({"template_id": "1"}, "template_id"),
        ({"template_id": True}, "template_id"),
        ({"template_id": 1.5}, "template_id"),
        ({"template_id": 2**63}, "template_id"),
        ({"policy_id": 2**70}, "policy_id"),
        ({"policy_id": -3}, "policy_id"),
        ({"policy_id": {"id": 1}}, "policy_id"),
        ({"format": "docx"}, "format"),
        ({"format": 1}, "format"),
        ({"compress": "yes"}, "compress"),
        ({"encrypt": 1}, "encrypt"),
        ({"colour": "red"}, "colour"),
        ({"organisation_id": 2}, "organisation_id"),
    ],
)
def test_bad_generate_bodies_answer_422(http, app, agency, changes, field):
    response = generate(http, agency["user"], **{**GOOD, **changes})
    assert field in clean_error(response, 422)
    with app.app_context():
        assert db.session.query(Document).count() == 0


@pytest.mark.parametrize(
    ("policy_ids", "status"),
    [
        ([], 422),
        (None, 422),
        ("1,2", 422),
        ([1, "2"], 422),
        ([1, 2**64], 422),
        (list(range(1, 1002)), 422),  # over DOCUMENT_BATCH_MAX
        (list(range(1, 60_001)), 413),  # over the body limit
    ],
)
def test_bad_batch_bodies_answer_4xx(http, agency, policy_ids, status):
    response = http.post(
        "/api/v1/document/generate-batch",
        json={"template_id": 1, "policy_ids": policy_ids},
        headers=agency["user"],
    )
    message = clean_error(response, status)
    if status == 422:
        assert "policy_ids" in message


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": "{not json", "content_type": "application/json"},
        {"data": "template_id=1", "content_type": "application/x-www-form-urlencoded"},
        {"json": [1, 2]},
        {"json": "text"},
    ],
)
def test_bodies_that_are_not_json_objects_answer_400(http, agency, kwargs):
    for path in ("/api/v1/document/generate", "/api/v1/document/generate-batch"):
        clean_error(http.post(path, headers=agency["user"], **kwargs), 400)


@pytest.mark.parametrize("pk", ["0", "-1", "1e3", "²", "9" * 30, "abc", str(2**31)])
def test_ids_that_name_no_document_answer_404(http, agency, pk):
    for path in (f"/api/v1/document/{pk}", f"/api/v1/document/{pk}/download"):
        clean_error(http.get(path, headers=agency["user"]), 404)


def test_generate_by_cookie_needs_the_csrf_token(http, app, agency, make_user, login, template_a):
    user = make_user("USER", organisation_id=agency["org_a"])
    login(user)
    body = {"template_id": template_a, "policy_id": agency["policy_a"]}
    clean_error(http.post("/api/v1/document/generate", json=body), 400)
    token = csrf_token(http, "/clientview/add")
    response = http.post("/api/v1/document/generate", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 202


def test_format_defaults_to_the_templates_own(http, app, agency):
    template_id = published_template(http, agency["manager"], output_format="pdf")
    document = generated(http, agency["user"], template_id, agency["policy_a"])
    assert document["format"] == OutputFormat.pdf.value
    assert document["media_type"] == "application/pdf"


def test_answers_match_the_openapi_document(http, app, agency, template_a):
    from tests.test_api_openapi import check

    headers = agency["user"]
    spec = http.get("/api/v1/_openapi", headers=headers).json
    accepted = generate(http, headers, template_a, agency["policy_a"])
    check(spec, "/api/v1/document/generate", "post", 202, accepted.json)
    refused = generate(http, headers, template_a, agency["policy_a"], format=7)
    check(spec, "/api/v1/document/generate", "post", 422, refused.json)
    batch = http.post(
        "/api/v1/document/generate-batch",
        json={"template_id": template_a, "policy_ids": [agency["policy_a"]]},
        headers=headers,
    )
    check(spec, "/api/v1/document/generate-batch", "post", 202, batch.json)
    check(
        spec, "/api/v1/document/", "get", 200, http.get("/api/v1/document/", headers=headers).json
    )
    shown = http.get(accepted.headers["Location"], headers=headers).json
    check(spec, "/api/v1/document/{pk}", "get", 200, shown)
    with app.app_context():
        db.session.get(Document, accepted.json["id"]).status = DocumentStatus.running
        db.session.commit()
    conflict = http.get(f"/api/v1/document/{accepted.json['id']}/download", headers=headers)
    check(spec, "/api/v1/document/{pk}/download", "get", 409, conflict.json)
    missing = http.get("/api/v1/document/2147483647/download", headers=headers)
    check(spec, "/api/v1/document/{pk}/download", "get", 404, missing.json)
    info = http.get("/api/v1/document/_info", headers=headers)
    check(spec, "/api/v1/document/_info", "get", 200, info.json)
    assert {"status", "policy_id", "template_id"} <= set(info.json["filters"])
    assert {"put", "post", "delete"}.isdisjoint(spec["paths"]["/api/v1/document/{pk}"])
    assert "post" not in spec["paths"]["/api/v1/document/"]


FUZZ = fuzz_settings(40)


@FUZZ
@given(data=st.data())
def test_fuzz_generate_bodies_never_answer_5xx(http, agency, template_a, data):
    real = st.sampled_from([template_a, agency["policy_a"], agency["policy_b"]])
    body = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "template_id": real | json_values,
                "policy_id": real | json_values,
                "policy_ids": st.lists(real | json_values, max_size=4) | json_values,
                "format": st.sampled_from(["html", "pdf", "xlsx"]) | json_values,
                "compress": json_values,
                "encrypt": json_values,
                data.draw(st.text(max_size=6)): json_values,
            },
        )
    )
    for path in ("/api/v1/document/generate", "/api/v1/document/generate-batch"):
        response = http.post(path, json=body, headers=agency["user"])
        assert response.status_code < 500, response.get_data(as_text=True)
        assert response.is_json and (response.status_code == 202 or "message" in response.json)
