"""Shared fixtures: one migrated database per test session, clean rows per test.

Two legs run the same tests (see scripts/test.sh):
- SQLite, no Redis (default);
- PostgreSQL + Redis, when TEST_DATABASE_URL and TEST_REDIS_URL are set. Each run
  gets a fresh PostgreSQL schema, dropped at the end.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

# Before the app (and its Huey instance) is imported.
_DATA_DIR = tempfile.mkdtemp(prefix="monassurance-tests-")
os.environ["DATA_DIR"] = _DATA_DIR
os.environ["HUEY_IMMEDIATE"] = "true"
os.environ.setdefault("SECRET_KEY", "test-secret-" + secrets.token_hex(24))
for _name in ("DATABASE_URL", "REDIS_URL", "STORAGE_URL", "PROMETHEUS_MULTIPROC_DIR"):
    os.environ.pop(_name, None)

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import AppUser, Organisation  # noqa: E402
from config import TestConfig, normalise_database_url  # noqa: E402

# The browser tests' fixtures (the real server, chromium, pages): see that module.
pytest_plugins = ["tests.browser_support"]

PASSWORD = "correct horse battery staple"  # noqa: S105 (test fixture)
# In an order that respects foreign keys (job <-> document and template <-> version cycle).
BUSINESS_TABLES = [
    "compliance_document",
    "quote",
    "proposal",
    "needs_questionnaire",
    "training_record",
    "complaint",
    "message",
    "task",
    "task_rule",
    "task_category",
    "remittance_line",
    "remittance",
    "commission_statement_line",
    "commission_statement",
    "commission_column_mapping",
    "expected_commission",
    "commission_rule",
    "attachment",
    "claim_payment",
    "claim_document",
    "claim_checklist_item",
    "claim",
    "allocation",
    "payment",
    "premium_notice",
    "cancellation",
    "renewal_cycle",
    "term",
    "spent_link",
    "purge_run",
    "signing_key",
    "document",
    "job",
    "template_version",
    "template",
    "policy",
    "mandate",
    "client",
    "company",
    "audit_log",
]
# FAB's links of users to roles and groups: emptied with the users.
USER_LINK_TABLES = ["ab_user_role", "ab_user_group"]
ROLES = ("USER", "MANAGER", "ADMIN", "SUPERADMIN")

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


def _database_url() -> tuple[str, str | None]:
    """The URL the suite uses, and the PostgreSQL schema made for this run (if any)."""
    if not TEST_DATABASE_URL:
        return f"sqlite:///{Path(_DATA_DIR) / 'test.db'}", None
    import psycopg

    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(TEST_DATABASE_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    url = f"{TEST_DATABASE_URL}{separator}options={session_options(schema)}"
    return normalise_database_url(url), schema


def session_options(schema: str) -> str:
    """The libpq ``options`` of a test connection (URL-encoded): the run's schema, and
    commits that do not wait for the disk. A test database need not survive a crash of
    the server, and waiting for each commit's flush was a good part of leg 2's time."""
    return f"-csearch_path%3D{schema}%20-csynchronous_commit%3Doff"


def _drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(TEST_DATABASE_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def make_config(**overrides: Any) -> TestConfig:
    return TestConfig(**overrides)


@event.listens_for(Engine, "connect")
def _sqlite_without_flushes(dbapi_connection: Any, _record: Any) -> None:
    """The test process's SQLite files skip the flush to disk at each commit (the app's own
    connection set-up, WAL and foreign keys, stays): the suite's database is thrown away,
    and those flushes were a good part of leg 1's time on a busy disk."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url, schema = _database_url()
    yield url
    if schema:
        _drop_schema(schema)


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    from flask_migrate import upgrade

    from app.services.roles import sync_roles

    application = create_app(
        make_config(SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=TEST_REDIS_URL)
    )
    with application.app_context():
        upgrade()
        sync_roles(application.appbuilder)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def tables_with_rows(session: Any, tables: list[str]) -> list[str]:
    """Those of ``tables`` that hold a row, in the given order, asked in one statement.

    A test writes to a few tables; a DELETE on each of the forty others cost a round trip
    and its foreign-key checks after every test. Rows written by another process (a
    consumer on this database) are found too, as the question is put to the database.
    """
    probes = " UNION ALL ".join(
        f"SELECT '{table}' WHERE EXISTS (SELECT 1 FROM {table})"  # noqa: S608 (fixed names)
        for table in tables
    )
    found = set(session.execute(text(probes)).scalars())
    return [table for table in tables if table in found]


@pytest.fixture(autouse=True)
def _clean_rows(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with no business rows, users or organisations (roles stay)."""
    yield
    if "app" not in request.fixturenames:
        return
    application: Flask = request.getfixturevalue("app")
    with application.app_context():
        db.session.rollback()
        for table in tables_with_rows(db.session, [*BUSINESS_TABLES, *USER_LINK_TABLES]):
            db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (fixed names)
        db.session.execute(text("UPDATE ab_user SET created_by_fk = NULL, changed_by_fk = NULL"))
        db.session.execute(text("DELETE FROM ab_user"))
        db.session.execute(text("DELETE FROM organisation"))
        db.session.commit()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(request: pytest.FixtureRequest) -> None:
    """Rate limits stay on, but each test starts with empty counters (app/api/limits.py)."""
    if "app" in request.fixturenames:
        request.getfixturevalue("app")
        from app.extensions import limiter

        limiter.reset()


@pytest.fixture
def http(app: Flask) -> FlaskClient:
    """A browser-like client (cookies, CSRF enforced)."""
    return app.test_client()


@pytest.fixture
def make_organisation(app: Flask) -> Any:
    counter = iter(range(10_000_000, 99_999_999))

    def factory(name: str | None = None) -> int:
        number = next(counter)
        with app.app_context():
            organisation = Organisation(name=name or f"Cabinet {number}", orias_number=str(number))
            db.session.add(organisation)
            db.session.commit()
            return organisation.id

    return factory


@pytest.fixture
def make_user(app: Flask, make_organisation: Any) -> Any:
    """Create a user with one role; returns its username (password: PASSWORD)."""

    def factory(
        role: str = "USER", organisation_id: int | None = None, username: str | None = None
    ) -> str:
        assert role in ROLES
        sm = app.appbuilder.sm
        username = username or f"{role.lower()}_{secrets.token_hex(4)}"
        with app.test_request_context():
            org_id = organisation_id if organisation_id is not None else make_organisation()
            user = sm.add_user(
                username=username,
                first_name="Test",
                last_name=role.title(),
                email=f"{username}@example.com",
                role=sm.find_role(role),
                password=PASSWORD,
            )
            assert user, f"could not create {username}"
            user.organisation_id = org_id
            db.session.commit()
        return username

    return factory


def user_organisation(app: Flask, username: str) -> int | None:
    with app.app_context():
        return db.session.query(AppUser).filter_by(username=username).one().organisation_id


def csrf_token(client: FlaskClient, path: str) -> str:
    """Read the CSRF token from a form page, as a browser would."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login_screen(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    token = csrf_token(client, "/login/")
    return client.post(
        "/login/",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=True,
    )


def api_token(client: FlaskClient, username: str, password: str = PASSWORD) -> str:
    response = client.post(
        "/api/v1/security/login",
        json={"username": username, "password": password, "provider": "db", "refresh": True},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["access_token"]


@pytest.fixture
def login(http: FlaskClient) -> Any:
    """login(username) logs the browser client in through the HTML form.

    The form's answer must be the redirect a successful login gives (a failed one sends
    back to the login page). It is not followed: the home page it leads to draws the
    dashboard, a tenth of a second in every test that logs in, and no test reads it there.
    """

    def do_login(username: str, password: str = PASSWORD) -> Any:
        token = csrf_token(http, "/login/")
        response = http.post(
            "/login/", data={"username": username, "password": password, "csrf_token": token}
        )
        assert response.status_code == 302, response.status_code
        assert urlsplit(response.location).path.rstrip("/") != "/login", f"{username}: refused"
        return response

    return do_login


@pytest.fixture
def auth_headers(http: FlaskClient) -> Any:
    """auth_headers(username) -> {"Authorization": "Bearer …"} from the API login."""

    def make(username: str, password: str = PASSWORD) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_token(http, username, password)}"}

    return make


@pytest.fixture
def portfolio(app: Flask) -> Any:
    """portfolio(organisation_id) creates an insurer, a client and a policy; returns their ids."""
    import datetime as dt
    from decimal import Decimal

    from app.models import Client, Company, LineOfBusiness, Policy, PolicyStatus

    def factory(organisation_id: int, suffix: str = "1") -> dict[str, int]:
        with app.app_context():
            company = Company(
                organisation_id=organisation_id, name=f"Assureur {suffix}", code=f"A{suffix}"
            )
            client = Client(
                organisation_id=organisation_id,
                first_name="Jeanne",
                last_name=f"Martin{suffix}",
                email=f"jeanne{suffix}@example.com",
            )
            db.session.add_all([company, client])
            db.session.flush()
            policy = Policy(
                organisation_id=organisation_id,
                number=f"POL-{suffix}",
                client_id=client.id,
                company_id=company.id,
                line_of_business=LineOfBusiness.auto,
                status=PolicyStatus.active,
                effective_date=dt.date(2026, 1, 1),
                expiry_date=dt.date(2027, 1, 1),
                premium=Decimal("420.50"),
            )
            db.session.add(policy)
            db.session.commit()
            return {"company": company.id, "client": client.id, "policy": policy.id}

    return factory
