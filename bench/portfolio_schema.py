"""A PostgreSQL schema holding an agency's portfolio, for the benches at scale.

bench/dashboard.py and bench/reports.py both run on it: a schema of their own
(``fresh_schema``, dropped at the end unless kept), migrated with the roles in place
(``migrated_app``), then loaded with COPY (``load``): an agency of N policies (N/2
clients, 24 insurers), N/10 documents and N/50 jobs over three years, and a
neighbour agency of N/20 policies so the organisation condition really filters.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
INSURERS = 24
STATUSES = (
    ["active"] * 60 + ["expired"] * 20 + ["draft"] * 8 + ["suspended"] * 4 + ["cancelled"] * 8
)
LINES = ("auto", "home", "health", "life", "liability", "professional", "travel")
FREQUENCIES = ("monthly", "quarterly", "semiannual", "annual")


def schema_url(base: str, schema: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


def admin_connection(base: str) -> Any:
    import psycopg

    return psycopg.connect(base.replace("+psycopg", ""), autocommit=True)


def schema_connection(base: str, schema: str) -> Any:
    """A psycopg connection whose tables are those of ``schema`` (for the bulk loads)."""
    import psycopg

    return psycopg.connect(
        base.replace("+psycopg", ""), autocommit=True, options=f"-csearch_path={schema}"
    )


@contextlib.contextmanager
def fresh_schema(base: str, schema: str, *, keep: bool) -> Iterator[str]:
    """An empty schema for one run (dropped at the end unless ``keep``); its server version."""
    with admin_connection(base) as admin:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.execute(f'CREATE SCHEMA "{schema}"')
        version = admin.execute("SHOW server_version").fetchone()[0]
    try:
        yield version
    finally:
        if not keep:
            with admin_connection(base) as admin:
                admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def migrated_app(url: str) -> Any:
    """The app on ``url`` with every migration applied and the roles in place."""
    from flask_migrate import upgrade

    from app.services.roles import sync_roles

    app = build_app(url)
    with app.app_context():
        upgrade()
        sync_roles(app.appbuilder)
    return app


def build_app(url: str) -> Any:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))
    os.environ.setdefault("DATA_DIR", str(RESULTS / "data"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from app import create_app
    from config import Config

    return create_app(Config())


# --- loading -------------------------------------------------------------------
def load(conn: Any, size: int, today: dt.date, rng: random.Random) -> dict[str, Any]:
    """COPY the two agencies' rows; returns the benchmark agency's id and row counts."""
    started = time.perf_counter()
    agency = _organisation(conn, "Cabinet Tableau de bord", "98000001")
    neighbour = _organisation(conn, "Cabinet Voisin", "98000002")
    counts = {}
    for organisation_id, policies in ((agency, size), (neighbour, max(size // 20, 1))):
        counts[organisation_id] = _load_agency(conn, organisation_id, policies, today, rng)
    conn.execute("VACUUM ANALYZE organisation, company, client, policy, document, job")
    return {
        "organisation_id": agency,
        "rows": counts[agency],
        "neighbour_rows": counts[neighbour],
        "seconds": round(time.perf_counter() - started, 1),
    }


def _organisation(conn: Any, name: str, orias: str) -> int:
    row = conn.execute(
        "INSERT INTO organisation (name, orias_number) VALUES (%s, %s) RETURNING id", (name, orias)
    ).fetchone()
    return row[0]


def _load_agency(
    conn: Any, organisation_id: int, policies: int, today: dt.date, rng: random.Random
) -> dict[str, int]:
    with conn.cursor().copy("COPY company (organisation_id, name, code) FROM STDIN") as copy:
        for n in range(INSURERS):
            copy.write_row((organisation_id, f"Assureur {n:02d} & Fils <SA>", f"A{n:03d}"))
    company_ids = [
        row[0]
        for row in conn.execute(
            "SELECT id FROM company WHERE organisation_id = %s ORDER BY id", (organisation_id,)
        )
    ]
    clients = max(policies // 2, 1)
    with conn.cursor().copy("COPY client (organisation_id, kind, last_name) FROM STDIN") as copy:
        for n in range(clients):
            copy.write_row((organisation_id, "person", f"Client {n}"))
    first_client = conn.execute(
        "SELECT min(id) FROM client WHERE organisation_id = %s", (organisation_id,)
    ).fetchone()[0]

    # Effective dates over the last three years and the next two months; one-year terms.
    span = 3 * 365 + 60
    first_effective = today - dt.timedelta(days=3 * 365)
    columns = (
        "organisation_id, number, client_id, company_id, line_of_business, status, "
        "effective_date, expiry_date, premium, currency, payment_frequency"
    )
    with conn.cursor().copy(f"COPY policy ({columns}) FROM STDIN") as copy:
        for n in range(policies):
            effective = first_effective + dt.timedelta(days=rng.randrange(span))
            copy.write_row(
                (
                    organisation_id,
                    f"B{organisation_id}-{n:07d}",
                    first_client + n % clients,
                    rng.choice(company_ids),
                    rng.choice(LINES),
                    rng.choice(STATUSES),
                    effective,
                    effective + dt.timedelta(days=365),
                    f"{rng.randrange(5_000, 500_000) / 100:.2f}",
                    "EUR",
                    rng.choice(FREQUENCIES),
                )
            )

    # Documents and jobs accumulate over the same three years as the policies.
    documents, jobs = max(policies // 10, 1), max(policies // 50, 1)
    history_seconds = 3 * 365 * 86400
    now = dt.datetime.combine(today, dt.time(12, 0))
    doc_columns = "organisation_id, format, status, attempts, compressed, encrypted, created_at"
    with conn.cursor().copy(f"COPY document ({doc_columns}) FROM STDIN") as copy:
        for _ in range(documents):
            status = "failed" if rng.random() < 0.05 else "ready"
            created = now - dt.timedelta(seconds=rng.randrange(history_seconds))
            copy.write_row((organisation_id, "pdf", status, 1, False, False, created))
    job_columns = (
        "organisation_id, kind, status, progress_done, progress_total, attempts, created_at"
    )
    with conn.cursor().copy(f"COPY job ({job_columns}) FROM STDIN") as copy:
        for _ in range(jobs):
            status = "failed" if rng.random() < 0.1 else "succeeded"
            created = now - dt.timedelta(seconds=rng.randrange(history_seconds))
            copy.write_row((organisation_id, "render", status, 1, 1, 1, created))
    return {
        "policies": policies,
        "clients": clients,
        "insurers": INSURERS,
        "documents": documents,
        "jobs": jobs,
    }
