"""Rate limits (app/api/limits.py): login per IP and per account, refresh, the HTML form, the API.

Each test uses its own client IP (REMOTE_ADDR) and account, and conftest empties
the counters before every test, so these limits never leak into other tests.
The same paths run with memory counters and, when TEST_REDIS_URL is set, Redis.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.extensions import limiter
from tests.conftest import PASSWORD, TEST_REDIS_URL, csrf_token, make_config

LOGIN = "/api/v1/security/login"
_ips = (f"10.{n // 250}.{n % 250}.7" for n in itertools.count(1))


def client_from_new_ip(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = next(_ips)
    return client


def assert_429(response) -> None:
    assert response.status_code == 429, response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    assert set(response.json) == {"message"}


def wrong_password(client, username):
    return client.post(LOGIN, json={"username": username, "password": "not the password"})


def test_forty_wrong_passwords_in_a_row_meet_a_429(app, make_user):
    username = make_user("USER")
    client = client_from_new_ip(app)
    answers = [wrong_password(client, username) for _ in range(40)]
    statuses = [response.status_code for response in answers]
    assert statuses[:10] == [401] * 10  # RATELIMIT_LOGIN_ACCOUNT: 10/minute
    assert set(statuses[10:]) == {429}
    assert_429(answers[-1])
    # Locked for this account from any IP, even with the right password...
    elsewhere = client_from_new_ip(app)
    assert_429(elsewhere.post(LOGIN, json={"username": username, "password": PASSWORD}))
    # ...while other accounts log in.
    other = make_user("USER")
    assert elsewhere.post(LOGIN, json={"username": other, "password": PASSWORD}).status_code == 200


def test_the_account_limit_ignores_case_and_unknown_names_count_alike(app):
    client = client_from_new_ip(app)
    for index in range(10):
        name = "Ghost" if index % 2 else "gHOST"
        assert wrong_password(client, name).status_code == 401
    assert_429(wrong_password(client_from_new_ip(app), "ghost"))


def test_successful_logins_do_not_lock_the_account(app, make_user):
    username = make_user("USER")
    for _ in range(12):
        client = client_from_new_ip(app)  # the IP limit is not what this test is about
        response = client.post(LOGIN, json={"username": username, "password": PASSWORD})
        assert response.status_code == 200


def test_one_ip_trying_many_accounts_meets_a_429(app):
    client = client_from_new_ip(app)
    statuses = [wrong_password(client, f"someone{index}").status_code for index in range(21)]
    assert statuses[:20] == [401] * 20  # RATELIMIT_LOGIN_IP: 20/minute
    assert_429(wrong_password(client, "someone-else"))


def test_refresh_is_limited_per_ip(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_REFRESH", "2/minute")
    client = client_from_new_ip(app)
    tokens = client.post(LOGIN, json={"username": make_user("USER"), "password": PASSWORD}).json
    for _ in range(2):
        response = client.post(
            "/api/v1/security/refresh",
            headers={"Authorization": f"Bearer {tokens['refresh_token']}"},
        )
        assert response.status_code == 200
        tokens = response.json
    assert_429(
        client.post(
            "/api/v1/security/refresh",
            headers={"Authorization": f"Bearer {tokens['refresh_token']}"},
        )
    )


def test_the_whole_api_has_a_budget_per_caller(app, make_user, auth_headers, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_API", "3/minute")
    client = client_from_new_ip(app)
    headers = auth_headers(make_user("USER"))
    statuses = [client.get("/api/v1/policy/", headers=headers).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    # One budget for every API route of this caller.
    assert_429(client.get("/api/v1/client/", headers=headers))
    # Another user from the same IP has their own budget.
    other = auth_headers(make_user("USER"))
    assert client.get("/api/v1/client/", headers=other).status_code == 200


def test_the_html_login_form_is_limited(app):
    client = client_from_new_ip(app)
    token = csrf_token(client, "/login/")
    form = {"username": "nobody", "password": "wrong", "csrf_token": token}
    statuses = [client.post("/login/", data=form).status_code for _ in range(11)]
    assert 429 not in statuses[:10]  # AUTH_RATE_LIMIT: 10/minute
    assert statuses[10] == 429
    assert client.get("/login/").status_code == 200  # reading the form is not limited


# --- the same path on each storage ------------------------------------------------------


STORAGES = [
    pytest.param("memory://", id="memory"),
    pytest.param(
        TEST_REDIS_URL,
        id="redis",
        marks=pytest.mark.skipif(not TEST_REDIS_URL, reason="TEST_REDIS_URL is not set"),
    ),
]


@pytest.fixture
def app_on_storage(request, app, database_url) -> Iterator[Flask]:
    """An app on the suite's database whose limiter counts in the given storage."""
    application = create_app(
        make_config(SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_STORAGE_URI=request.param)
    )
    limiter.reset()
    yield application
    limiter.reset()


@pytest.mark.parametrize("app_on_storage", STORAGES, indirect=True)
def test_wrong_passwords_meet_a_429_on_each_storage(app_on_storage, make_user):
    storage = type(limiter.storage).__name__.lower()
    expected = (
        "redis" if app_on_storage.config["RATELIMIT_STORAGE_URI"].startswith("redis") else "memory"
    )
    assert expected in storage
    username = make_user("USER")
    client = client_from_new_ip(app_on_storage)
    statuses = [wrong_password(client, username).status_code for _ in range(40)]
    assert statuses.count(401) == 10 and statuses[-1] == 429
    assert_429(wrong_password(client, username))


def test_the_storage_follows_redis_url():
    from config import TestConfig

    assert TestConfig(REDIS_URL=None).RATELIMIT_STORAGE_URI == "memory://"
    assert TestConfig(REDIS_URL="redis://cache:6379/0").RATELIMIT_STORAGE_URI == (
        "redis://cache:6379/0"
    )
    explicit = TestConfig(REDIS_URL="redis://cache:6379/0", RATELIMIT_STORAGE_URI="memory://")
    assert explicit.RATELIMIT_STORAGE_URI == "memory://"
