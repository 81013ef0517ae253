"""A lost database (issue 11, class 6): 503 with Retry-After on every door, then recovery.

Leg 1 and 2: an app on a closed PostgreSQL port (nothing listens: refused at
once). PostgreSQL leg: the suite's database behind a TCP relay the test cuts and
restores (tests/outage_support.py), for the web and for the worker.
"""

from __future__ import annotations

import logging

import pytest

from app.ops import outages
from tests import outage_support
from tests.conftest import PASSWORD, TEST_DATABASE_URL, api_token, login_screen, user_organisation
from tests.links_support import path_of, stored_document
from tests.outage_support import RETRY_AFTER, TcpRelay, dead_postgres_url, relayed_url, unavailable
from tests.test_ops_metrics import sample

build_app = outage_support.build_app
needs_postgres = pytest.mark.skipif(not TEST_DATABASE_URL, reason="cuts PostgreSQL connections")
SERVICE_UNAVAILABLE = "service_unavailable_responses_total"


@pytest.fixture(autouse=True)
def _fresh_outage_log(monkeypatch):
    """The outage log says once a minute per process: each test starts a new minute."""
    monkeypatch.setattr(outages, "outage_log", outages._OutageLog(outages.LOG_EVERY_SECONDS))


@pytest.fixture
def staff(app, http, make_user):
    """A USER's name, bearer headers, refresh token and a signed link to a ready document,
    all made while the database answers."""
    username = make_user("USER")
    response = http.post(
        "/api/v1/security/login",
        json={"username": username, "password": PASSWORD, "provider": "db"},
    )
    headers = {"Authorization": f"Bearer {response.json['access_token']}"}
    document_id = stored_document(app, user_organisation(app, username))
    issued = http.get(f"/api/v1/document/{document_id}/link", headers=headers)
    assert issued.status_code == 200, issued.get_data(as_text=True)
    return {
        "username": username,
        "headers": headers,
        "refresh": {"Authorization": f"Bearer {response.json['refresh_token']}"},
        "document_id": document_id,
        "link": path_of(issued.json["url"]),
    }


def api_doors(staff) -> list[tuple[str, str, dict | None, dict]]:
    login = {"username": staff["username"], "password": PASSWORD, "provider": "db"}
    headers, document_id = staff["headers"], staff["document_id"]
    return [
        ("GET", "/api/v1/policy/", None, headers),
        ("GET", "/api/v1/policy/1", None, headers),
        ("GET", "/api/v1/policy/_info", None, headers),
        ("POST", "/api/v1/policy/", {"number": "X"}, headers),
        ("POST", "/api/v1/document/generate", {"template_id": 1, "policy_id": 1}, headers),
        ("GET", f"/api/v1/document/{document_id}/download", None, headers),
        ("GET", "/api/v1/job/", None, headers),
        ("POST", "/api/v1/security/login", login, {}),
        ("POST", "/api/v1/security/refresh", None, staff["refresh"]),
    ]


def assert_every_door_is_unavailable(client, staff, browser_cookie: str | None = None) -> int:
    """Every API door answers 503 JSON; screens a 503 page; how many requests were made."""
    doors = api_doors(staff)
    for method, path, body, headers in doors:
        unavailable(client.open(path, method=method, json=body, headers=headers))
    # The link's door, for a script and for a person.
    unavailable(client.get(staff["link"], headers={"Accept": "application/json"}))
    page = client.get(staff["link"], headers={"Accept": "text/html"})
    assert_unavailable_page(page)
    assert_unavailable_page(client.get("/login/", headers={"Accept": "text/html"}))
    count = len(doors) + 3
    if browser_cookie is not None:
        client.set_cookie("session", browser_cookie)
        assert_unavailable_page(client.get("/policyview/list/", headers={"Accept": "text/html"}))
        count += 1
    return count


def assert_unavailable_page(page) -> None:
    text = page.get_data(as_text=True)
    assert page.status_code == 503, text[:300]
    assert page.mimetype == "text/html"
    assert page.headers["Retry-After"] == RETRY_AFTER
    assert "Service momentanément indisponible" in text
    assert "Traceback" not in text


def test_with_the_database_away_every_door_answers_503_with_retry_after(
    app, http, build_app, staff, caplog
):
    login_screen(http, staff["username"])
    cookie = http.get_cookie("session").value
    away = build_app(SQLALCHEMY_DATABASE_URI=dead_postgres_url(), REDIS_URL=None)
    client = away.test_client()
    # The counter is the process's: earlier tests may already have counted outages.
    before = sample(
        client.get("/metrics").get_data(as_text=True), SERVICE_UNAVAILABLE, dependency="database"
    )
    with caplog.at_level(logging.WARNING, logger="app.ops.outages"):
        requests = assert_every_door_is_unavailable(client, staff, cookie)
    lines = [r.getMessage() for r in caplog.records if r.name == "app.ops.outages"]
    assert len(lines) == 1, "logged once a minute, not per request"
    assert lines[0].startswith("database unavailable (OperationalError: ")
    assert "password" not in lines[0].lower()
    after = sample(
        client.get("/metrics").get_data(as_text=True), SERVICE_UNAVAILABLE, dependency="database"
    )
    assert after - before == requests
    # The readiness probe says why; liveness does not depend on the database.
    assert client.get("/health/db").status_code == 503
    assert client.get("/health").status_code == 200


# --- PostgreSQL cut and back ------------------------------------------------------------


@pytest.fixture
def relay(database_url):
    relay = TcpRelay.in_front_of(database_url)
    yield relay
    relay.cut()


@pytest.mark.postgres
@needs_postgres
def test_a_cut_database_answers_503_then_the_api_recovers_at_once(
    app, http, build_app, database_url, relay, staff
):
    login_screen(http, staff["username"])
    cookie = http.get_cookie("session").value
    web = build_app(SQLALCHEMY_DATABASE_URI=relayed_url(database_url, relay.port))
    client = web.test_client()
    assert client.get("/api/v1/policy/", headers=staff["headers"]).status_code == 200

    relay.cut()
    assert_every_door_is_unavailable(client, staff, cookie)

    relay.restore()
    # The pool's connections died with the cut: the first request after gets a live one.
    listed = client.get("/api/v1/policy/", headers=staff["headers"])
    assert listed.status_code == 200, listed.get_data(as_text=True)
    assert api_token(client, staff["username"])
    assert client.get("/policyview/list/").status_code == 200
