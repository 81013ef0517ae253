"""/api/v1/_openapi is a valid OpenAPI document that matches what the API answers; /swagger/v1
works with same-origin scripts only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_spec_validator import validate as validate_spec

from tests.conftest import user_organisation

RESOURCES = ("company", "client", "policy")


@pytest.fixture
def superadmin(make_user):
    return make_user("SUPERADMIN")


@pytest.fixture
def spec(http, superadmin, auth_headers) -> dict[str, Any]:
    response = http.get("/api/v1/_openapi", headers=auth_headers(superadmin))
    assert response.status_code == 200
    return response.json


def resolve(node: Any, spec: dict[str, Any]) -> Any:
    """Inline every local $ref, so a plain validator can check a response body."""
    if isinstance(node, dict):
        if "$ref" in node:
            *_, section, name = node["$ref"].split("/")
            return resolve(spec["components"][section][name], spec)
        return {key: resolve(value, spec) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(item, spec) for item in node]
    return node


def check(spec: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    operation = spec["paths"][path][method]
    response = resolve(operation["responses"][str(status)], spec)
    schema = response["content"]["application/json"]["schema"]
    OAS30Validator(schema, format_checker=oas30_format_checker).validate(body)


def test_the_document_is_valid_openapi(spec):
    validate_spec(spec)
    for resource in RESOURCES:
        assert {
            f"/api/v1/{resource}/",
            f"/api/v1/{resource}/{{pk}}",
            f"/api/v1/{resource}/_info",
        } <= (set(spec["paths"]))


def test_ids_are_integers_and_premium_a_decimal_string(spec):
    for resource in RESOURCES:
        item = spec["paths"][f"/api/v1/{resource}/{{pk}}"]
        for method in ("get", "put", "delete"):
            (pk,) = [p for p in item[method]["parameters"] if p["in"] == "path"]
            assert pk["schema"]["type"] == "integer"
        listing = spec["paths"][f"/api/v1/{resource}/"]["get"]["responses"]["200"]
        properties = listing["content"]["application/json"]["schema"]["properties"]
        assert properties["ids"]["items"]["type"] == "integer"
    schemas = spec["components"]["schemas"]
    for name in ("PolicyApi.get", "PolicyApi.get_list", "PolicyApi.post", "PolicyApi.put"):
        assert schemas[name]["properties"]["premium"]["type"] == "string"
        assert schemas[name]["properties"]["premium"]["format"] == "decimal"
    assert schemas["PolicyApi.post"]["properties"]["client_id"]["type"] == "integer"
    assert "required" not in schemas["PolicyApi.put"]  # PUT changes only the fields sent


def test_the_spec_offers_only_schemes_that_work(spec):
    for resource in RESOURCES:
        for operation in spec["paths"][f"/api/v1/{resource}/"].values():
            # API keys work (app/services/api_keys.py), so the spec offers them too.
            assert operation["security"] == [{"jwt": []}, {"api_key": []}]


def test_responses_match_the_spec(http, app, spec, make_user, auth_headers, portfolio):
    user = make_user("USER")
    headers = auth_headers(user)
    ids = portfolio(user_organisation(app, user))

    listing = http.get("/api/v1/policy/", headers=headers)
    check(spec, "/api/v1/policy/", "get", 200, listing.json)
    item = http.get(f"/api/v1/policy/{ids['policy']}", headers=headers)
    check(spec, "/api/v1/policy/{pk}", "get", 200, item.json)
    assert isinstance(item.json["result"]["premium"], str)
    info = http.get("/api/v1/policy/_info", headers=headers)
    check(spec, "/api/v1/policy/_info", "get", 200, info.json)

    created = http.post("/api/v1/client/", json={"last_name": "Spec"}, headers=headers)
    check(spec, "/api/v1/client/", "post", 201, created.json)
    changed = http.put(
        f"/api/v1/client/{created.json['id']}", json={"city": "Lyon"}, headers=headers
    )
    check(spec, "/api/v1/client/{pk}", "put", 200, changed.json)
    shown = http.get(f"/api/v1/client/{created.json['id']}", headers=headers)
    check(spec, "/api/v1/client/{pk}", "get", 200, shown.json)
    for resource in ("client", "company"):
        rows = http.get(f"/api/v1/{resource}/", headers=headers)
        check(spec, f"/api/v1/{resource}/", "get", 200, rows.json)

    invalid = http.post("/api/v1/client/", json={"kind": "alien"}, headers=headers)
    assert invalid.status_code == 422 and isinstance(invalid.json["message"], dict)
    check(spec, "/api/v1/client/", "post", 422, invalid.json)
    bad_query = http.get("/api/v1/client/", query_string={"q": "(page:-1)"}, headers=headers)
    check(spec, "/api/v1/client/", "get", 400, bad_query.json)
    missing = http.get("/api/v1/client/2147483647", headers=headers)
    check(spec, "/api/v1/client/{pk}", "get", 404, missing.json)
    deleted = http.delete(f"/api/v1/client/{created.json['id']}", headers=headers)
    check(spec, "/api/v1/client/{pk}", "delete", 200, deleted.json)


def test_swagger_ui_uses_same_origin_scripts_only(http, superadmin, login):
    login(superadmin)
    page = http.get("/swagger/v1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts
    for attributes, inline in scripts:
        source = re.search(r'src="([^"]+)"', attributes)
        assert source, f"inline script on the Swagger page: {inline[:80]!r}"
        assert source.group(1).startswith("/") and not source.group(1).startswith("//")
        assert not inline.strip()
    assert 'data-openapi-url="/api/v1/_openapi"' in html
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "http" not in csp

    for url in ("/static/api-docs/swagger-init.js", "/static/appbuilder/js/swagger-ui-bundle.js"):
        assert url in html
        served = http.get(url)
        assert served.status_code == 200
        assert "javascript" in served.content_type
    assert b"SwaggerUIBundle" in http.get("/static/api-docs/swagger-init.js").data


def test_every_role_may_read_the_spec_and_swagger_ui(http, make_user, login, auth_headers):
    user = make_user("USER")
    assert http.get("/api/v1/_openapi", headers=auth_headers(user)).status_code == 200
    login(user)
    assert http.get("/swagger/v1").status_code == 200
