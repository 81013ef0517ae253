"""Benchmark the manager dashboard (/dashboard/) on PostgreSQL at N policies.

Usage:
    python bench/dashboard.py                        # 100,000 policies
    python bench/dashboard.py --size 1000000 --runs 9
    BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test python bench/dashboard.py

In a dedicated PostgreSQL schema (created, then dropped unless --keep): migrate,
sync roles, load with COPY an agency of N policies (N/2 clients, 24 insurers),
N/10 documents and N/50 jobs over the same three years, and a neighbour agency of N/20
policies so the organisation condition really filters; VACUUM ANALYZE as
autovacuum would. Then, logged in as a MANAGER of the agency:
  - the server time of GET /dashboard/ through Flask's test client (the seven
    aggregates, FAB's permission checks and the render), median of --runs runs
    after one warm-up, for the default view and with the insurer filter;
  - each aggregate alone (median of --runs) and its plan (EXPLAIN ANALYZE), with
    the indexes it uses; a sequential scan of a big table is reported.
Results: bench/results/dashboard-<size>.json and a Markdown summary on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import re
import secrets
import statistics
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
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_SCHEMA = "bench_dashboard"
MANAGER = "bench_manager"
INSURERS = 24
GOAL_MS = 300
STATUSES = (
    ["active"] * 60 + ["expired"] * 20 + ["draft"] * 8 + ["suspended"] * 4 + ["cancelled"] * 8
)
LINES = ("auto", "home", "health", "life", "liability", "professional", "travel")
FREQUENCIES = ("monthly", "quarterly", "semiannual", "annual")
BIG_TABLES = ("policy", "document", "job", "client")


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


def manager_login(app: Any, http: Any, organisation_id: int) -> None:
    from app.extensions import db

    password = secrets.token_urlsafe(16)
    sm = app.appbuilder.sm
    with app.test_request_context():
        user = sm.add_user(
            username=MANAGER,
            first_name="Bench",
            last_name="Manager",
            email="bench.manager@example.com",
            role=sm.find_role("MANAGER"),
            password=password,
        )
        user.organisation_id = organisation_id
        db.session.commit()
    page = http.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    http.post("/login/", data={"username": MANAGER, "password": password, "csrf_token": token})


# --- measuring -----------------------------------------------------------------
def time_pages(http: Any, paths: list[str], runs: int) -> list[dict[str, Any]]:
    """Median server time of each page; the pages take turns, so drift hits all alike."""
    for path in paths:  # warm-up: FAB's caches, the planner's, the OS page cache
        response = http.get(path)
        assert response.status_code == 200, (path, response.status_code)
    samples: dict[str, list[float]] = {path: [] for path in paths}
    for _ in range(runs):
        for path in paths:
            started = time.perf_counter()
            response = http.get(path)
            samples[path].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    return [
        {
            "path": path,
            "median_ms": round(statistics.median(times), 1),
            "min_ms": round(min(times), 1),
            "max_ms": round(max(times), 1),
            "runs": runs,
        }
        for path, times in samples.items()
    ]


def aggregates(app: Any, organisation_id: int, company_id: int | None, runs: int) -> list[dict]:
    """Each chart's aggregate alone: median time, plan, indexes used."""
    from probes import QueryRecorder, explain

    from app.extensions import db
    from app.services import dashboard
    from app.services.dashboard.filters import DEFAULT_MONTHS, period_bounds

    today = dt.date.today()
    start, end = period_bounds(today, DEFAULT_MONTHS)
    scope = dashboard.Scope(organisation_id, company_id, start, end, today, "postgresql")
    functions = {
        "policies by status": dashboard.policies_by_status,
        "policies by insurer": dashboard.policies_by_insurer,
        "policies by line": dashboard.policies_by_line,
        "premiums per month": dashboard.premiums_per_month,
        "expiring 30/60/90": dashboard.expiring_counts,
        "documents per day": dashboard.documents_per_day,
        "failed jobs per day": dashboard.failed_jobs_per_day,
    }
    results = []
    with app.app_context():
        for name, function in functions.items():
            function(db.session, scope)
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                function(db.session, scope)
                samples.append((time.perf_counter() - started) * 1000)
            with QueryRecorder(db.engine, with_callers=False) as recorder:
                function(db.session, scope)
            assert len(recorder.statements) == 1, (name, len(recorder.statements))
            plan = explain(db.engine, recorder.statements[0])
            text = "\n".join(plan)
            results.append(
                {
                    "chart": name,
                    "median_ms": round(statistics.median(samples), 1),
                    "indexes": sorted(set(re.findall(r"(?:using|on) (ix_\w+|pk_\w+)", text))),
                    "seq_scans": sorted(
                        {t for t in re.findall(r"Seq Scan on (\w+)", text) if t in BIG_TABLES}
                    ),
                    "plan": plan,
                }
            )
            db.session.rollback()
    return results


def busiest_insurer(app: Any, organisation_id: int) -> int:
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        return db.session.execute(
            text("SELECT min(id) FROM company WHERE organisation_id = :o"), {"o": organisation_id}
        ).scalar_one()


def summary(result: dict[str, Any]) -> str:
    lines = [
        f"## Dashboard at {result['size']:,} policies (PostgreSQL {result['postgres']})",
        "",
        f"Loaded in {result['load']['seconds']} s: {result['load']['rows']}.",
        f"{result['machine']['cpus']} CPUs; load average (1, 5, 15 min) "
        f"{result['machine']['load_average_before']} before the timings, "
        f"{result['machine']['load_average_after']} after.",
        "",
        "| request | median | min | max |",
        "|---|---|---|---|",
    ]
    for page in result["pages"]:
        lines.append(
            f"| GET {page['path']} | {page['median_ms']} ms | {page['min_ms']} ms "
            f"| {page['max_ms']} ms |"
        )
    for label, rows in (
        ("all insurers", result["aggregates"]),
        ("one insurer", result["aggregates_one_insurer"]),
    ):
        lines += ["", f"| aggregate ({label}) | median | indexes | seq scan |", "|---|---|---|---|"]
        for row in rows:
            lines.append(
                f"| {row['chart']} | {row['median_ms']} ms | {', '.join(row['indexes']) or '—'} "
                f"| {', '.join(row['seq_scans']) or '—'} |"
            )
    default = result["pages"][0]["median_ms"]
    verdict = "met" if default <= GOAL_MS else "missed"
    lines += ["", f"Goal ≤ {GOAL_MS} ms (default view): {verdict} ({default} ms)."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="policies of the agency")
    parser.add_argument("--runs", type=int, default=9, help="timed runs per measure")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    )
    parser.add_argument("--schema", default=DEFAULT_SCHEMA)
    parser.add_argument("--keep", action="store_true", help="keep the schema (for EXPLAIN by hand)")
    args = parser.parse_args()
    if not args.schema.isidentifier():
        parser.error("--schema must be a plain identifier")

    RESULTS.mkdir(parents=True, exist_ok=True)
    with fresh_schema(args.postgres_url, args.schema, keep=args.keep) as postgres:
        app = migrated_app(schema_url(args.postgres_url, args.schema))
        with schema_connection(args.postgres_url, args.schema) as conn:
            print(f"loading {args.size:,} policies…", flush=True)
            loaded = load(conn, args.size, dt.date.today(), random.Random(7))
        print(f"loaded in {loaded['seconds']} s", flush=True)
        organisation_id = loaded["organisation_id"]
        http = app.test_client()
        manager_login(app, http, organisation_id)
        insurer = busiest_insurer(app, organisation_id)
        load_before = os.getloadavg()
        pages = time_pages(
            http,
            ["/dashboard/", f"/dashboard/?company_id={insurer}", "/dashboard/?months=3"],
            args.runs,
        )
        result = {
            "size": args.size,
            "postgres": postgres,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                # Other work on the machine shows here: read the times with it.
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
            },
            "load": loaded,
            "pages": pages,
            "aggregates": aggregates(app, organisation_id, None, args.runs),
            "aggregates_one_insurer": aggregates(app, organisation_id, insurer, args.runs),
            "goal_ms": GOAL_MS,
        }
        (RESULTS / f"dashboard-{args.size}.json").write_text(json.dumps(result, indent=2))
        print(summary(result))
        with app.app_context():
            from app.extensions import db

            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
