"""/api/v1/template/: authoring, versions, publishing, preview and diff through the REST door."""

from __future__ import annotations

import hashlib
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.extensions import db
from app.models import Template, TemplateVersion
from tests.api_documents_support import (
    HTML_BODY,
    add_version,
    clean_error,
    create_template,
    generated,
    published_template,
)
from tests.conftest import csrf_token, user_organisation
from tests.fuzz_support import fuzz_settings, json_values

PREVIEW_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


@pytest.fixture
def agency(app, make_user, make_organisation, portfolio, auth_headers):
    """Agency A (USER, MANAGER, ADMIN) and agency B (MANAGER), each with one policy."""
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
        "policy_b": portfolio(org_b, "B")["policy"],
    }


def test_a_manager_creates_a_template_writes_versions_and_publishes(http, agency):
    headers = agency["manager"]
    created = http.post(
        "/api/v1/template/",
        json={"name": "Attestation", "kind": "attestation", "output_format": "pdf"},
        headers=headers,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    template_id = created.json["id"]
    result = created.json["result"]
    assert result["shared"] is False and result["organisation_id"] == agency["org_a"]
    assert result["published_version"] is None and result["versions"] == []
    assert result["locale"] == "fr"

    first = add_version(http, headers, template_id, HTML_BODY, "first draft")
    assert first["number"] == 1 and first["template_id"] == template_id
    assert first["sha256"] == hashlib.sha256(HTML_BODY.encode()).hexdigest()
    assert first["changelog"] == "first draft" and first["published"] is False
    assert first["author_name"] and "body" not in first
    second = add_version(http, headers, template_id, HTML_BODY + "\n<p>v2</p>")
    assert second["number"] == 2

    published = http.post(
        f"/api/v1/template/{template_id}/publish", json={"version": 1}, headers=headers
    )
    assert published.status_code == 200
    assert published.json == {
        "id": template_id,
        "published_version": 1,
        "version_id": first["id"],
    }

    shown = http.get(f"/api/v1/template/{template_id}", headers=headers).json["result"]
    assert shown["published_version"] == 1
    assert [(v["number"], v["published"]) for v in shown["versions"]] == [(1, True), (2, False)]
    versions = http.get(f"/api/v1/template/{template_id}/versions", headers=headers).json
    assert versions["count"] == 2 and [v["number"] for v in versions["result"]] == [1, 2]
    one = http.get(f"/api/v1/template/{template_id}/versions/2", headers=headers)
    assert one.status_code == 200 and one.json["body"].endswith("<p>v2</p>")
    assert (
        http.get(f"/api/v1/template/{template_id}/versions/3", headers=headers).status_code == 404
    )

    listing = http.get("/api/v1/template/", headers=agency["user"]).json
    assert listing["ids"] == [template_id]
    assert listing["result"][0]["published_version"] == 1


def test_a_user_reads_and_previews_but_cannot_write(http, agency):
    template_id = published_template(http, agency["manager"])
    user = agency["user"]
    assert http.get(f"/api/v1/template/{template_id}", headers=user).status_code == 200
    refused = [
        http.post("/api/v1/template/", json={"name": "x"}, headers=user),
        http.put(f"/api/v1/template/{template_id}", json={"name": "y"}, headers=user),
        http.delete(f"/api/v1/template/{template_id}", headers=user),
        http.post(f"/api/v1/template/{template_id}/versions", json={"body": "x"}, headers=user),
        http.post(f"/api/v1/template/{template_id}/publish", json={"version": 1}, headers=user),
    ]
    assert [response.status_code for response in refused] == [403] * len(refused)
    preview = http.post(f"/api/v1/template/{template_id}/preview", json={}, headers=user)
    assert preview.status_code == 200


def test_only_the_platform_operator_shares_templates(http, app, agency, make_user, auth_headers):
    refused = http.post(
        "/api/v1/template/",
        json={"name": "Commun", "kind": "notice", "output_format": "html", "shared": True},
        headers=agency["manager"],
    )
    assert clean_error(refused, 403)
    operator = auth_headers(make_user("SUPERADMIN"))
    shared_id = published_template(http, operator, name="Commun", shared=True)
    shown = http.get(f"/api/v1/template/{shared_id}", headers=operator).json["result"]
    assert shown["shared"] is True and shown["organisation_id"] is None

    # Every agency reads it; no agency changes it.
    for headers in (agency["user"], agency["b_manager"]):
        assert shared_id in http.get("/api/v1/template/", headers=headers).json["ids"]
    manager = agency["manager"]
    writes = [
        http.put(f"/api/v1/template/{shared_id}", json={"name": "Mine"}, headers=manager),
        http.delete(f"/api/v1/template/{shared_id}", headers=manager),
        http.post(f"/api/v1/template/{shared_id}/versions", json={"body": "x"}, headers=manager),
        http.post(f"/api/v1/template/{shared_id}/publish", json={"version": 1}, headers=manager),
    ]
    assert [response.status_code for response in writes] == [403] * len(writes)
    with app.app_context():
        assert db.session.get(Template, shared_id).name == "Commun"


@pytest.mark.parametrize("role", ["user", "manager", "admin"])
def test_another_agencys_template_answers_404_on_every_route(http, agency, role):
    other = published_template(http, agency["b_manager"], name="Agence B")
    add_version(http, agency["b_manager"], other, HTML_BODY + "<p>2</p>")
    headers = agency[role]
    base = f"/api/v1/template/{other}"
    responses = [
        http.get(base, headers=headers),
        http.put(base, json={"name": "x"}, headers=headers),
        http.delete(base, headers=headers),
        http.get(f"{base}/versions", headers=headers),
        http.get(f"{base}/versions/1", headers=headers),
        http.post(f"{base}/versions", json={"body": "x"}, headers=headers),
        http.post(f"{base}/publish", json={"version": 2}, headers=headers),
        http.post(f"{base}/preview", json={}, headers=headers),
        http.get(f"{base}/diff?a=1&b=2", headers=headers),
    ]
    allowed = {"user": {403}, "manager": set(), "admin": set()}[role]
    for response in responses:
        # A USER may be refused a write door (403) before the row is looked up.
        assert response.status_code in {404} | allowed, response.request.path
        clean_error(response, response.status_code)
    assert other not in http.get("/api/v1/template/", headers=headers).json["ids"]
    assert http.get(base, headers=agency["b_manager"]).json["result"]["published_version"] == 1


def test_a_syntax_error_answers_422_with_its_line_and_saves_nothing(http, app, agency):
    template_id = create_template(http, agency["manager"])
    broken = "<p>{{ policy.number }}</p>\n<p>ok</p>\n<p>{{ client. }}</p>\n"
    response = http.post(
        f"/api/v1/template/{template_id}/versions", json={"body": broken}, headers=agency["manager"]
    )
    message = clean_error(response, 422)
    assert list(message) == ["body"]
    assert message["body"][0].startswith(("Line 3", "Ligne 3")), message
    with app.app_context():
        assert db.session.query(TemplateVersion).filter_by(template_id=template_id).count() == 0


def test_put_changes_name_locale_and_kind_until_versions_exist(http, agency):
    headers = agency["manager"]
    template_id = create_template(http, headers)
    path = f"/api/v1/template/{template_id}"
    changed = http.put(
        path, json={"name": "Contrat auto", "locale": "en", "kind": "notice"}, headers=headers
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.json["result"]["name"] == "Contrat auto"
    assert changed.json["result"]["kind"] == "notice"
    assert "output_format" in clean_error(
        http.put(path, json={"output_format": "pdf"}, headers=headers), 422
    )
    add_version(http, headers, template_id)
    assert "kind" in clean_error(http.put(path, json={"kind": "contract"}, headers=headers), 422)
    assert http.put(path, json={"description": "Pour l'auto"}, headers=headers).status_code == 200
    shown = http.get(path, headers=headers).json["result"]
    assert (shown["kind"], shown["output_format"], shown["locale"]) == ("notice", "html", "en")
    assert shown["description"] == "Pour l'auto"


def test_template_names_are_unique_in_an_agency(http, agency):
    create_template(http, agency["manager"], name="Avis")
    twin = http.post(
        "/api/v1/template/",
        json={"name": "avis", "kind": "notice", "output_format": "html"},
        headers=agency["manager"],
    )
    assert "name" in clean_error(twin, 422)
    # Another agency may use the same name.
    create_template(http, agency["b_manager"], name="Avis")


def test_delete_is_refused_once_a_document_was_made(http, app, agency):
    headers = agency["manager"]
    used = published_template(http, headers, name="Used")
    generated(http, headers, used, agency["policy_a"])
    assert clean_error(http.delete(f"/api/v1/template/{used}", headers=headers), 422)

    unused = published_template(http, headers, name="Unused")
    add_version(http, headers, unused)
    assert http.delete(f"/api/v1/template/{unused}", headers=headers).status_code == 200
    assert http.get(f"/api/v1/template/{unused}", headers=headers).status_code == 404
    with app.app_context():
        assert db.session.get(Template, used) is not None
        assert db.session.query(TemplateVersion).filter_by(template_id=unused).count() == 0


def test_preview_html_is_fenced_in_by_its_own_csp(http, agency):
    template_id = published_template(http, agency["manager"])
    response = http.post(
        f"/api/v1/template/{template_id}/preview",
        json={"policy_id": agency["policy_a"], "output": "html"},
        headers=agency["user"],
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Content-Security-Policy"] == PREVIEW_CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert "POL-A" in response.get_data(as_text=True)

    sample = http.post(f"/api/v1/template/{template_id}/preview", json={}, headers=agency["user"])
    assert sample.status_code == 200 and "POL-A" not in sample.get_data(as_text=True)


def test_preview_as_pdf_of_a_chosen_version(http, agency):
    headers = agency["manager"]
    template_id = published_template(http, headers, output_format="pdf")
    add_version(http, headers, template_id, HTML_BODY + "<p>brouillon</p>")
    response = http.post(
        f"/api/v1/template/{template_id}/preview",
        json={"version": 2, "output": "pdf", "policy_id": agency["policy_a"]},
        headers=headers,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.data.startswith(b"%PDF")


def test_preview_refuses_another_agencys_policy_and_bad_options(http, agency):
    template_id = published_template(http, agency["manager"])
    path = f"/api/v1/template/{template_id}/preview"
    headers = agency["user"]
    clean_error(http.post(path, json={"policy_id": agency["policy_b"]}, headers=headers), 404)
    for body in (
        {"output": "docx"},
        {"version": 9},
        {"version": "1"},
        {"version": True},
        {"policy_id": 2**70},
        {"policy_id": 1.5},
        {"colour": "red"},
    ):
        clean_error(http.post(path, json=body, headers=headers), 422)


def test_diff_shows_two_versions_side_by_side(http, agency):
    headers = agency["manager"]
    template_id = create_template(http, headers)
    add_version(http, headers, template_id, "a\nb\nc")
    add_version(http, headers, template_id, "a\nB\nc\nd")
    response = http.get(f"/api/v1/template/{template_id}/diff?a=1&b=2", headers=agency["user"])
    assert response.status_code == 200
    assert response.json["a"] == 1 and response.json["b"] == 2
    assert [row["tag"] for row in response.json["rows"]] == ["equal", "replace", "equal", "insert"]
    assert response.json["rows"][1]["left_text"] == "b"
    assert response.json["rows"][1]["right_text"] == "B"
    path = f"/api/v1/template/{template_id}/diff"
    assert "b" in clean_error(http.get(f"{path}?a=1&b=7", headers=headers), 422)
    for query in ("", "?a=1", "?a=x&b=2", "?a=-1&b=2", "?a=1&b=99999999999999999999"):
        clean_error(http.get(f"{path}{query}", headers=headers), 400)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"body": 12},
        {"body": ""},
        {"body": "x", "changelog": 5},
        {"body": "x", "changelog": "y" * 501},
        {"body": "x", "author": "me"},
        {"body": "x" * 200_001},
    ],
)
def test_bad_version_bodies_answer_422(http, agency, body):
    template_id = create_template(http, agency["manager"])
    response = http.post(
        f"/api/v1/template/{template_id}/versions", json=body, headers=agency["manager"]
    )
    clean_error(response, (413, 422))


@pytest.mark.parametrize("version", [None, "1", 1.0, True, 0, -1, 2**70, 7, [1]])
def test_bad_publish_bodies_answer_422(http, agency, version):
    template_id = published_template(http, agency["manager"])
    response = http.post(
        f"/api/v1/template/{template_id}/publish",
        json={"version": version},
        headers=agency["manager"],
    )
    assert "version" in clean_error(response, 422)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "contract", "output_format": "html"}, "name"),
        ({"name": "x", "kind": "poem", "output_format": "html"}, "kind"),
        ({"name": "x", "kind": "contract", "output_format": "docx"}, "output_format"),
        ({"name": "x", "kind": "contract", "output_format": "html", "locale": "de"}, "locale"),
        ({"name": "x", "kind": "contract", "output_format": "html", "shared": "no"}, "shared"),
        ({"name": 5, "kind": "contract", "output_format": "html"}, "name"),
        ({"name": "x", "kind": "contract", "output_format": "html", "id": 4}, "id"),
        (
            {"name": "x", "kind": "contract", "output_format": "html", "organisation_id": 1},
            "organisation_id",
        ),
    ],
)
def test_bad_template_bodies_answer_422(http, agency, body, field):
    response = http.post("/api/v1/template/", json=body, headers=agency["manager"])
    assert field in clean_error(response, 422)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": "not json", "content_type": "application/json"},
        {"data": "name=x", "content_type": "application/x-www-form-urlencoded"},
        {"json": ["a"]},
        {"json": None},
    ],
)
def test_bodies_that_are_not_json_objects_answer_400(http, agency, kwargs):
    template_id = published_template(http, agency["manager"])
    for path in (
        "/api/v1/template/",
        f"/api/v1/template/{template_id}/versions",
        f"/api/v1/template/{template_id}/publish",
        f"/api/v1/template/{template_id}/preview",
    ):
        clean_error(http.post(path, headers=agency["manager"], **kwargs), 400)


@pytest.mark.parametrize("pk", ["0", "-1", "1e3", "²", "9" * 30, "abc", str(2**31)])
def test_ids_that_name_no_template_answer_404(http, agency, pk):
    headers = agency["manager"]
    for response in (
        http.get(f"/api/v1/template/{pk}", headers=headers),
        http.get(f"/api/v1/template/{pk}/versions", headers=headers),
        http.get(f"/api/v1/template/1/versions/{pk}", headers=headers),
        http.post(f"/api/v1/template/{pk}/publish", json={"version": 1}, headers=headers),
        http.post(f"/api/v1/template/{pk}/preview", json={}, headers=headers),
    ):
        clean_error(response, 404)


def test_a_cookie_authenticated_write_needs_the_csrf_token(http, app, make_user, login):
    manager = make_user("MANAGER")
    login(manager)
    body = {"name": "Cookie", "kind": "contract", "output_format": "html"}
    assert clean_error(http.post("/api/v1/template/", json=body), 400)
    token = csrf_token(http, "/clientview/add")
    created = http.post("/api/v1/template/", json=body, headers={"X-CSRFToken": token})
    assert created.status_code == 201


def test_answers_match_the_openapi_document(http, agency, make_user, auth_headers):
    from tests.test_api_openapi import check

    spec = http.get("/api/v1/_openapi", headers=agency["user"]).json
    headers = agency["manager"]
    base = "/api/v1/template/"
    created = http.post(
        base, json={"name": "Spec", "kind": "notice", "output_format": "html"}, headers=headers
    )
    check(spec, base, "post", 201, created.json)
    template_id = created.json["id"]
    item = f"{base}{template_id}"
    version = http.post(f"{item}/versions", json={"body": "<p>{{ today }}</p>"}, headers=headers)
    check(spec, "/api/v1/template/{pk}/versions", "post", 201, version.json)
    add_version(http, headers, template_id, "<p>{{ today }}</p>\n<p>2</p>")
    broken = http.post(f"{item}/versions", json={"body": "{% if %}"}, headers=headers)
    check(spec, "/api/v1/template/{pk}/versions", "post", 422, broken.json)
    published = http.post(f"{item}/publish", json={"version": 1}, headers=headers)
    check(spec, "/api/v1/template/{pk}/publish", "post", 200, published.json)
    check(spec, base, "get", 200, http.get(base, headers=headers).json)
    check(spec, "/api/v1/template/{pk}", "get", 200, http.get(item, headers=headers).json)
    changed = http.put(item, json={"description": "Avis"}, headers=headers)
    check(spec, "/api/v1/template/{pk}", "put", 200, changed.json)
    versions = http.get(f"{item}/versions", headers=headers).json
    check(spec, "/api/v1/template/{pk}/versions", "get", 200, versions)
    one = http.get(f"{item}/versions/1", headers=headers).json
    check(spec, "/api/v1/template/{pk}/versions/{number}", "get", 200, one)
    diff = http.get(f"{item}/diff?a=1&b=2", headers=headers).json
    check(spec, "/api/v1/template/{pk}/diff", "get", 200, diff)
    refused = http.post(f"{item}/publish", json={"version": "2"}, headers=headers)
    check(spec, "/api/v1/template/{pk}/publish", "post", 422, refused.json)
    missing = http.post("/api/v1/template/2147483647/preview", json={}, headers=headers)
    check(spec, "/api/v1/template/{pk}/preview", "post", 404, missing.json)
    info = http.get(f"{base}_info", headers=headers)
    check(spec, "/api/v1/template/_info", "get", 200, info.json)
    assert {column["name"] for column in info.json["add_columns"]} >= {"name", "kind", "shared"}
    operations = spec["paths"]["/api/v1/template/{pk}/preview"]["post"]
    assert set(operations["responses"]["200"]["content"]) >= {"text/html", "application/pdf"}


FUZZ = fuzz_settings(25)
jinja_bits = st.sampled_from(
    ["{{", "}}", "{%", "%}", "{#", "#}", " if ", " for x in ", "endif", "|money", "\n", "policy."]
)


@FUZZ
@given(data=st.data())
def test_fuzz_version_and_preview_bodies_never_answer_5xx(http, agency, data):
    headers = agency["manager"]
    # Rows stay between examples of one test: a new name each time.
    template_id = published_template(http, headers, name=f"Fuzz {secrets.token_hex(4)}")
    source = data.draw(st.lists(jinja_bits | st.text(max_size=8), max_size=12).map("".join))
    bodies = [
        (f"/api/v1/template/{template_id}/versions", {"body": source}),
        (
            f"/api/v1/template/{template_id}/versions",
            data.draw(st.dictionaries(st.sampled_from(["body", "changelog", "x"]), json_values)),
        ),
        (
            f"/api/v1/template/{template_id}/preview",
            data.draw(
                st.dictionaries(
                    st.sampled_from(["version", "policy_id", "output", "y"]),
                    json_values | st.sampled_from([1, agency["policy_a"], "pdf"]),
                )
            ),
        ),
        (f"/api/v1/template/{template_id}/publish", {"version": data.draw(json_values)}),
    ]
    for path, body in bodies:
        response = http.post(path, json=body, headers=headers)
        assert response.status_code < 500, (path, body, response.get_data(as_text=True))
        if response.status_code >= 400:
            clean_error(response, response.status_code)
