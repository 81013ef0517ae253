"""Migrations own the schema: upgrade an empty database, find no drift, downgrade to nothing.

Alembic's autogenerate comparison (the engine behind `flask db migrate`) must find
no difference between the models and a freshly migrated database, on SQLite and,
when TEST_DATABASE_URL is set, on a fresh PostgreSQL schema.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app import create_app
from app.extensions import db
from tests.conftest import TEST_DATABASE_URL, make_config


@contextmanager
def empty_sqlite(tmp_path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'migrations.db'}"


@contextmanager
def empty_postgres(_tmp_path) -> Iterator[str]:
    import psycopg

    from config import normalise_database_url

    admin_url = TEST_DATABASE_URL.replace("+psycopg", "")
    schema = f"m_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    try:
        yield normalise_database_url(
            f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3D{schema}"
        )
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


DATABASES = [
    pytest.param(empty_sqlite, id="sqlite"),
    pytest.param(
        empty_postgres,
        id="postgresql",
        marks=pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set"),
    ),
]


def schema_drift(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, db.metadata)


def application_tables(connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


@pytest.mark.parametrize("database", DATABASES)
def test_upgrade_matches_the_models_and_downgrade_empties(tmp_path, database):
    with database(tmp_path) as url:
        app = create_app(make_config(SQLALCHEMY_DATABASE_URI=url))
        try:
            with app.app_context():
                with db.engine.connect() as connection:
                    assert application_tables(connection) == set()
                upgrade()
                with db.engine.connect() as connection:
                    assert application_tables(connection) == set(db.metadata.tables)
                    assert schema_drift(connection) == []
                downgrade(revision="base")
                with db.engine.connect() as connection:
                    assert application_tables(connection) == set()
                upgrade()  # and back up: every downgrade step left a clean slate
                with db.engine.connect() as connection:
                    assert schema_drift(connection) == []
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.mark.parametrize("database", DATABASES)
def test_organisation_timezone_defaults_to_paris_and_downgrades_keeping_the_row(tmp_path, database):
    from sqlalchemy import text

    with database(tmp_path) as url:
        app = create_app(make_config(SQLALCHEMY_DATABASE_URI=url))
        try:
            with app.app_context():
                upgrade(revision="0008")
                with db.engine.begin() as connection:
                    connection.execute(
                        text(
                            "INSERT INTO organisation (name, orias_number, created_at, updated_at)"
                            " VALUES ('Cabinet', '12345678', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                        )
                    )
                upgrade(revision="0009")
                with db.engine.connect() as connection:
                    zone = connection.execute(text("SELECT timezone FROM organisation")).scalar()
                assert zone == "Europe/Paris"
                downgrade(revision="0008")
                with db.engine.connect() as connection:
                    columns = {c["name"] for c in inspect(connection).get_columns("organisation")}
                    names = connection.execute(text("SELECT name FROM organisation")).scalars()
                    assert "timezone" not in columns
                    assert list(names) == ["Cabinet"]
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
