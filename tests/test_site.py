"""What every page shares: a favicon, and the API documentation behind a login (as the
README and docs/api.md say)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tests.conftest import PASSWORD, csrf_token


def test_favicon_is_served_and_cached(http):
    response = http.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.get_data()[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "max-age=604800" in response.headers["Cache-Control"]
    svg = http.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"


def test_every_page_links_the_favicon(app, http, make_user, login):
    def icons(path: str) -> list[str]:
        page = http.get(path).get_data(as_text=True)
        return re.findall(r'<link rel="icon" href="([^"]+)"', page)

    assert icons("/login/") == ["/static/favicon.svg", "/favicon.ico"]
    login(make_user("USER"))
    for path in ("/", "/clientview/list/", "/policyview/add"):
        assert icons(path) == ["/static/favicon.svg", "/favicon.ico"], path


def test_api_documentation_needs_a_login_and_any_role_reads_it(app, http, make_user):
    spec = http.get("/api/v1/_openapi")
    assert spec.status_code == 401 and "message" in spec.get_json()
    swagger = http.get("/swagger/v1")
    assert swagger.status_code == 302
    login_page = swagger.headers["Location"]
    assert urlsplit(login_page).path == "/login/" and "next=" in login_page
    # Logging in from there leads back to Swagger UI.
    username = make_user("USER")
    token = csrf_token(http, login_page)
    after = http.post(
        login_page, data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert after.status_code == 302 and urlsplit(after.headers["Location"]).path == "/swagger/v1"
    assert http.get("/swagger/v1").status_code == 200
    assert http.get("/api/v1/_openapi").get_json()["openapi"].startswith("3.")
