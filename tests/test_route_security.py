"""Every route the app registers refuses an anonymous caller, except an explicit allow-list.

A route added later without protection makes this test fail.
"""

from __future__ import annotations

import re

import pytest

# Public on purpose: login and language switch, operator probes, static files, the API spec.
PUBLIC_ROUTES = {
    "/",
    "/login/",
    "/lang/<string:locale>",
    "/health",
    "/health/db",
    "/metrics",
    "/static/<path:filename>",
    "/static/appbuilder/<path:filename>",
    "/api/v1/security/login",
    "/api/<version>/_openapi",
    "/swagger/<version>",
    "/back",
    # A signed download link: the token in the path is the credential (app/views/download.py).
    "/d/<token>",
}
# Anonymous-safe by nature: logging out when logged out only redirects.
HARMLESS_ROUTES = {"/logout/"}

SAMPLE_VALUES = {
    "pk": "1",
    "version": "v1",
    "filename": "x",
    "name": "x",
    "locale": "fr",
    "group_by": "x",
    "role_id": "1",
    "column_name": "x",
}


def concrete_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: SAMPLE_VALUES.get(m.group(1), "1"), rule)


def refused(response) -> bool:
    if response.status_code in (401, 403):
        return True
    if response.status_code in (301, 302, 303, 307, 308):
        # To the login form, or (FAB actions with an unknown name) back home with nothing done.
        location = response.headers.get("Location", "")
        return "/login" in location or location in ("/", "http://localhost/")
    # 400/404/405: refused before any data was read (bad input, unknown object or method).
    return response.status_code in (400, 404, 405)


def all_rules(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.rule, method


def test_every_route_refuses_anonymous_callers(app):
    client = app.test_client()
    leaks = []
    for rule, method in all_rules(app):
        if rule in PUBLIC_ROUTES or rule in HARMLESS_ROUTES:
            continue
        response = client.open(concrete_path(rule), method=method, json={})
        if not refused(response):
            leaks.append(f"{method} {rule} -> {response.status_code}")
    assert leaks == []


def test_protected_list_routes_answer_401_or_login_redirect(app):
    """Guard the guard: the walk above must not pass because everything 404s."""
    client = app.test_client()
    assert client.get("/api/v1/policy/").status_code == 401
    screen = client.get("/policyview/list/")
    assert screen.status_code == 302 and "/login" in screen.headers["Location"]


@pytest.mark.parametrize("rule", sorted(PUBLIC_ROUTES))
def test_public_routes_still_exist(app, rule):
    assert rule in {r.rule for r in app.url_map.iter_rules()}, f"{rule} is allow-listed but gone"
