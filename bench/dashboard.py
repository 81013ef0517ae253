"""Benchmark the manager dashboard (/dashboard/) on PostgreSQL at N policies.

Usage:
    python bench/dashboard.py                        # 100,000 policies
    python bench/dashboard.py --size 1000000 --runs 9
    BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test python bench/dashboard.py

In a dedicated PostgreSQL schema (created, then dropped unless --keep): migrate,
sync roles, load with COPY an agency of N policies (N/2 clients, 24 insurers),
N/10 documents and N/50 jobs over the same three years, and a neighbour agency of N/20
policies so the organisation condition really filters; VACUUM ANALYZE as
autovacuum would. Renewal cycles as a year of work leaves them (``renewal_history``):
the due ones opened by ``open_due_cycles``, four in ten of them decided, and a cycle
at every échéance of the last twelve months, most renewed. Then, logged in as a
MANAGER of the agency:
  - the server time of GET /dashboard/ through Flask's test client (every
    aggregates, FAB's permission checks and the render), median of --runs runs
    after one warm-up, for the default view and with the insurer filter;
  - each aggregate alone (median of --runs) and its plan (EXPLAIN ANALYZE), with
    the indexes it uses; a sequential scan of a big table is reported.
Results: bench/results/dashboard-<size>.json and a Markdown summary on stdout.
"""

from __future__ import annotations

import argparse
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
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

DEFAULT_SCHEMA = "bench_dashboard"
MANAGER = "bench_manager"
GOAL_MS = 300
BIG_TABLES = ("policy", "document", "job", "client", "renewal_cycle")

from portfolio_schema import (  # noqa: E402 (bench/ on the path above)
    DEFAULT_POSTGRES_URL,
    fresh_schema,
    load,
    migrated_app,
    schema_connection,
    schema_url,
)


def manager_login(app: Any, http: Any, organisation_id: int, role: str = "MANAGER") -> None:
    """A user of ``role`` (MANAGER: the dashboard's) in the agency, logged in on ``http``."""
    from app.extensions import db

    password = secrets.token_urlsafe(16)
    sm = app.appbuilder.sm
    with app.test_request_context():
        user = sm.add_user(
            username=MANAGER,
            first_name="Bench",
            last_name="Manager",
            email="bench.manager@example.com",
            role=sm.find_role(role),
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
        "renewals due per month": dashboard.renewals_due_per_month,
        "retention per insurer": dashboard.retention_per_insurer,
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


def renewal_history(app: Any, conn: Any, today: dt.date) -> dict[str, Any]:
    """Every agency's due cycles opened as the daily task would, four in ten of them
    decided (renew, remarket, not renew), and one cycle at each échéance of the last
    twelve months: 70 % renewed, 15 % closed (not renewed or remarketed), 15 % still open.
    Spread by id, so the counts are the same on every run at one size."""
    from app.extensions import db
    from app.services.renewals.cycles import open_due_cycles

    started = time.perf_counter()
    with app.app_context():
        opened = open_due_cycles(db.session, today=today)
        db.session.commit()
    conn.execute(
        "UPDATE renewal_cycle SET decision = CASE id % 10 WHEN 0 THEN 'not_renew' "
        "WHEN 1 THEN 'remarket' ELSE 'renew' END WHERE id % 10 < 4"
    )
    past = conn.execute(
        "INSERT INTO renewal_cycle (organisation_id, policy_id, echeance, last_day_to_refuse, "
        "previous_premium, status, decision) "
        "SELECT organisation_id, id, expiry_date, expiry_date - 60, premium, "
        "CASE WHEN id %% 20 < 14 THEN 'renewed' WHEN id %% 20 < 17 THEN 'closed' ELSE 'open' END, "
        "CASE WHEN id %% 20 < 14 THEN 'renew' WHEN id %% 20 < 16 THEN 'not_renew' "
        "WHEN id %% 20 = 16 THEN 'remarket' END "
        "FROM policy WHERE status <> 'draft' AND expiry_date > %s AND expiry_date < %s",
        (today - dt.timedelta(days=365), today),
    ).rowcount
    conn.execute("VACUUM ANALYZE renewal_cycle")
    return {
        "opened": sum(opened.values()),
        "past": past,
        "seconds": round(time.perf_counter() - started, 1),
    }


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
        f"Loaded in {result['load']['seconds']} s: {result['load']['rows']}; renewal cycles "
        f"{result['load']['renewal_cycles']}.",
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
            loaded["renewal_cycles"] = renewal_history(app, conn, dt.date.today())
        print(f"loaded in {loaded['seconds']} s; cycles {loaded['renewal_cycles']}", flush=True)
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
