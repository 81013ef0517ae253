"""Downloads through signed links are rate limited per link and per IP (RATELIMIT_LINK_DOWNLOAD,
3 per minute by default): 429 with Retry-After, with memory counters and with Redis."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from flask import Flask

from app import create_app
from app.extensions import limiter
from tests.conftest import TEST_REDIS_URL, api_token, make_config, user_organisation
from tests.links_support import path_of, stored_document

_ips = (f"10.77.{n // 250}.{n % 250 + 1}" for n in itertools.count())

STORAGES = [
    pytest.param("memory://", id="memory"),
    pytest.param(
        TEST_REDIS_URL,
        id="redis",
        marks=pytest.mark.skipif(
            not TEST_REDIS_URL,
            reason="TEST_REDIS_URL is not set: scripts/test.sh's PostgreSQL + Redis leg runs it",
        ),
    ),
]


@pytest.fixture(scope="module", params=STORAGES)
def limited_app(request, app, database_url) -> Iterator[Flask]:
    """An app on the suite's database counting downloads in the given storage (conftest empties
    the counters before each test)."""
    application = create_app(
        make_config(
            SQLALCHEMY_DATABASE_URI=database_url,
            RATELIMIT_STORAGE_URI=request.param,
            RATELIMIT_LINK_DOWNLOAD="3/minute",
        )
    )
    limiter.reset()
    yield application
    limiter.reset()


@pytest.fixture
def issue(limited_app, make_user):
    """issue() -> the path of a new link to a new document of one agency."""
    username = make_user("USER")
    organisation_id = user_organisation(limited_app, username)
    client = limited_app.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, username)}"}

    def make() -> str:
        document_id = stored_document(limited_app, organisation_id)
        response = client.get(f"/api/v1/document/{document_id}/link", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return path_of(response.json["url"])

    return make


def from_new_ip(app: Flask):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = next(_ips)
    return client


def assert_429(response) -> None:
    assert response.status_code == 429, response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    assert set(response.json) == {"message"}
    assert "no-store" in response.headers["Cache-Control"]


def test_the_counters_live_in_the_configured_storage(limited_app):
    expected = (
        "redis" if limited_app.config["RATELIMIT_STORAGE_URI"].startswith("redis") else "memory"
    )
    assert expected in type(limiter.storage).__name__.lower()


def test_one_link_downloads_three_times_a_minute_whoever_asks(limited_app, issue):
    path = issue()
    statuses = [from_new_ip(limited_app).get(path).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert_429(from_new_ip(limited_app).get(path))
    # Other links are not affected.
    assert from_new_ip(limited_app).get(issue()).status_code == 200


def test_one_ip_downloads_three_times_a_minute_whatever_the_link(limited_app, issue):
    client = from_new_ip(limited_app)
    paths = [issue() for _ in range(4)]
    assert [client.get(path).status_code for path in paths[:3]] == [200, 200, 200]
    assert_429(client.get(paths[3]))
    # The fourth link itself is untouched: another address downloads it.
    assert from_new_ip(limited_app).get(paths[3]).status_code == 200


def test_forged_links_spend_the_ip_budget_too(limited_app):
    client = from_new_ip(limited_app)
    statuses = [client.get(f"/d/forged-{n}").status_code for n in range(4)]
    assert statuses[:3] == [403, 403, 403]
    assert_429(client.get("/d/forged-again"))


def test_a_browser_over_the_limit_gets_a_page_and_retry_after(limited_app, issue):
    path = issue()
    for _ in range(3):
        from_new_ip(limited_app).get(path)
    response = from_new_ip(limited_app).get(path, headers={"Accept": "text/html"})
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert int(response.headers["Retry-After"]) > 0
