"""Operator probes: /health (the process answers) and /health/db (its dependencies answer)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from app import create_app
from app.extensions import db
from tests.conftest import TEST_REDIS_URL, make_config


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def build_app() -> Iterator[Any]:
    """build_app(**config) -> a separate app; its engine is closed afterwards."""
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        application = create_app(make_config(**overrides))
        built.append(application)
        return application

    yield build
    for application in built:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def test_liveness_needs_no_login(http):
    response = http.get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert response.mimetype == "application/json"


def test_readiness_reports_database_and_configured_redis(http):
    response = http.get("/health/db")
    assert response.status_code == 200, response.get_data(as_text=True)
    # Leg 1 has no Redis (null: not used); leg 2 runs with a live Redis.
    expected_redis = True if TEST_REDIS_URL else None
    assert response.json == {"status": "ok", "database": True, "redis": expected_redis}


def test_readiness_degraded_when_redis_is_down(build_app, database_url):
    application = build_app(
        SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0"
    )
    client = application.test_client()
    response = client.get("/health/db")
    assert response.status_code == 503
    assert response.json == {"status": "degraded", "database": True, "redis": False}
    # Liveness does not depend on Redis: restarting the web process would not help.
    assert client.get("/health").status_code == 200


def test_readiness_degraded_when_database_is_down(build_app):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/test?connect_timeout=2"
    application = build_app(SQLALCHEMY_DATABASE_URI=url, REDIS_URL=None)
    client = application.test_client()
    response = client.get("/health/db")
    assert response.status_code == 503
    assert response.json == {"status": "degraded", "database": False, "redis": None}
    assert client.get("/health").json == {"status": "ok"}


def test_readiness_refuses_other_methods(http):
    assert http.post("/health/db").status_code == 405
