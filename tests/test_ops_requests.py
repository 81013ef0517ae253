"""Request ids, JSON logs and security headers, seen from outside (headers, stderr)."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from app import create_app
from app.extensions import db
from tests.conftest import login_screen, make_config

EXPECTED_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Apps built here reconfigure the root logger; put the suite's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)


class LogCapture:
    """Points the app's log handler (the one configure_logging installed) at a buffer."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        handler = next(h for h in logging.getLogger().handlers if getattr(h, "_monassurance", 0))
        handler.setStream(self.buffer)  # type: ignore[attr-defined]

    def read(self) -> str:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text


@pytest.fixture
def built_apps(restore_logging: None, app: Flask) -> Iterator[list[Flask]]:
    """Apps over the suite's migrated database (the `app` fixture migrates it)."""
    apps: list[Flask] = []
    yield apps
    for application in apps:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def build_logged_app(
    apps: list[Flask], database_url: str, **overrides: Any
) -> tuple[Flask, LogCapture]:
    application = create_app(make_config(SQLALCHEMY_DATABASE_URI=database_url, **overrides))
    apps.append(application)
    return application, LogCapture()


@pytest.fixture
def json_app(built_apps: list[Flask], database_url: str) -> tuple[Flask, LogCapture]:
    return build_logged_app(built_apps, database_url, LOG_JSON=True)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_request_id_from_caller_is_returned_and_logged(json_app):
    application, logs = json_app
    response = application.test_client().get("/no-such-page", headers={"X-Request-ID": "trace-42"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "trace-42"
    lines = json_lines(logs.read())  # every line must parse as JSON
    request_lines = [line for line in lines if line["logger"] == "monassurance.request"]
    assert len(request_lines) == 1
    line = request_lines[0]
    assert line["request_id"] == "trace-42"
    assert line["level"] == "INFO"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/no-such-page", 404)
    assert isinstance(line["duration_ms"], int | float)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", line["time"])


def test_request_id_is_made_when_missing_or_unsafe(json_app):
    application, logs = json_app
    client = application.test_client()
    made = client.get("/login/").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    # A forged id could inject fake log lines or flood the logs: replaced, not echoed.
    for unsafe in ("a b", "x" * 200, "id;level=CRITICAL", "<script>"):
        replaced = client.get("/login/", headers={"X-Request-ID": unsafe}).headers["X-Request-ID"]
        assert replaced != unsafe
        assert re.fullmatch(r"[0-9a-f]{32}", replaced)
    logged = [line["request_id"] for line in json_lines(logs.read()) if "status" in line]
    assert made in logged
    assert len(set(logged)) == len(logged) == 5


def test_logs_inside_a_request_carry_its_id(json_app):
    application, logs = json_app

    @application.get("/_ops_test_log")
    def emit() -> str:
        application.logger.warning("something worth a look")
        return "done"

    application.test_client().get("/_ops_test_log", headers={"X-Request-ID": "req-7"})
    lines = json_lines(logs.read())
    warning = next(line for line in lines if line["message"] == "something worth a look")
    assert warning["request_id"] == "req-7"
    assert warning["level"] == "WARNING"


def test_plain_logs_by_default_still_show_the_request_id(built_apps, database_url):
    application, logs = build_logged_app(built_apps, database_url)
    application.test_client().get("/no-such-page", headers={"X-Request-ID": "plain-1"})
    text = logs.read()
    assert "[plain-1] monassurance.request: GET /no-such-page 404" in text
    assert not text.lstrip().startswith("{")


@pytest.mark.parametrize("path", ["/health", "/login/", "/api/v1/policy/", "/no-such-page"])
def test_security_headers_on_every_kind_of_response(http, path):
    response = http.get(path)
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers.get(name) == value, (path, name)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    # Plain HTTP: HSTS would be ignored by browsers and is not sent.
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_only_over_https(app):
    secure = app.test_client().get("/health", base_url="https://broker.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    plain = app.test_client().get("/health", base_url="http://broker.example")
    assert "Strict-Transport-Security" not in plain.headers


def test_login_page_served_with_csp_and_no_debugger(http, app, make_user):
    assert app.debug is False
    page = http.get("/login/")
    assert page.status_code == 200
    assert "Content-Security-Policy" in page.headers
    assert "Werkzeug Debugger" not in page.get_data(as_text=True)
    # And a real login still works under these headers.
    user = make_user("USER")
    assert login_screen(http, user).status_code == 200
