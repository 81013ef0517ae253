"""Benchmark the HTML list screens on PostgreSQL at N policies.

Usage:
    python bench/list_pages.py                        # 100,000 policies
    python bench/list_pages.py --size 20000 --runs 5  # a quick run
    BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test python bench/list_pages.py

In a dedicated PostgreSQL schema (created, then dropped unless --keep): the dashboard
bench's data set (bench/portfolio_schema.py: an agency of N policies, N/2 clients, 24
insurers, a neighbour agency; renewal cycles as a year of work leaves them). Logged in
as a USER of the agency, through Flask's test client (the server's whole work: the
session and user, the permission checks of the menu and buttons, the queries, the
render), for the policy, client, insurer and Échéances lists:
  - the SQL statements of one page view (FAB's ab_* ones included), and how many of
    them ask about permissions;
  - the median server time of --runs views, next to a reference measured in the same
    run, interleaved: the same page with FAB's question-by-question permission checks
    (one EXISTS per menu entry and button, as before the per-request permission set).
    The machine may be busy: read the ratio, and the load average printed with it.
Results: bench/results/list-pages-<size>.json and a Markdown summary on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
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

from dashboard import manager_login, renewal_history  # noqa: E402 (bench/ on the path)
from portfolio_schema import (  # noqa: E402
    DEFAULT_POSTGRES_URL,
    fresh_schema,
    load,
    migrated_app,
    schema_connection,
    schema_url,
)

DEFAULT_SCHEMA = "bench_list_pages"
GOAL_MS = 40
STATEMENT_BUDGET = 6
PAGES = (
    "/policyview/list/",
    "/clientview/list/",
    "/companyview/list/",
    "/renewals/list/?_flt_0_due_within=30",
)


@contextlib.contextmanager
def question_by_question(app: Any) -> Iterator[None]:
    """The reference: each permission question its own EXISTS (remembered per question
    for the request), as the app asked them before it read the user's set once."""
    from flask import request
    from sqlalchemy import exists, literal, select

    from app.api import access

    granted = select(
        exists(
            select(literal(1))
            .select_from(
                access._pvr.join(access._pv, access._pv.c.id == access._pvr.c.permission_view_id)
                .join(access._permission, access._permission.c.id == access._pv.c.permission_id)
                .join(access._view_menu, access._view_menu.c.id == access._pv.c.view_menu_id)
            )
            .where(
                access._pvr.c.role_id.in_(access._user_role_ids()),
                access._permission.c.name == access.bindparam("permission"),
                access._view_menu.c.name == access.bindparam("view"),
            )
        )
    )
    sm = app.appbuilder.sm

    def one_question(user: Any, permission: str, view: str) -> bool:
        answers = request.environ.setdefault("bench.answers", {})
        key = (user.id, permission, view)
        if key not in answers:
            parameters = {"user_id": user.id, "permission": permission, "view": view}
            answers[key] = bool(sm.session.execute(granted, parameters).scalar())
        return answers[key]

    sm._has_view_access = one_question  # this instance only, undone below
    try:
        yield
    finally:
        del sm._has_view_access


def statements_of(app: Any, http: Any, path: str) -> dict[str, Any]:
    from probes import QueryRecorder

    from app.extensions import db

    http.get(path)
    with app.app_context():
        engine = db.engine
    with QueryRecorder(engine, with_callers=False) as recorder:
        assert http.get(path).status_code == 200, path
    texts = [" ".join(statement.sql.split()) for statement in recorder.statements]
    return {
        "statements": len(texts),
        "permission_statements": sum("ab_permission_view_role" in t for t in texts),
        "sql": [t[:160] for t in texts],
    }


def time_pages(app: Any, http: Any, runs: int) -> list[dict[str, Any]]:
    """Median server time of each page, now and as the reference, taking turns."""
    for path in PAGES:  # warm-up: FAB's caches, the planner's, the OS page cache
        assert http.get(path).status_code == 200, path
        with question_by_question(app):
            assert http.get(path).status_code == 200, path
    samples: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    for _ in range(runs):
        for path in PAGES:
            for mode in ("now", "reference"):
                context = (
                    question_by_question(app) if mode == "reference" else contextlib.nullcontext()
                )
                with context:
                    started, cpu_started = time.perf_counter(), time.process_time()
                    response = http.get(path)
                    elapsed = (time.perf_counter() - started) * 1000
                    cpu_ms = (time.process_time() - cpu_started) * 1000
                assert response.status_code == 200, path
                samples.setdefault((path, mode), []).append(elapsed)
                cpu.setdefault((path, mode), []).append(cpu_ms)
    rows = []
    for path in PAGES:
        now = statistics.median(samples[(path, "now")])
        reference = statistics.median(samples[(path, "reference")])
        rows.append(
            {
                "path": path,
                "median_ms": round(now, 1),
                "min_ms": round(min(samples[(path, "now")]), 1),
                "reference_median_ms": round(reference, 1),
                "ratio_to_reference": round(now / reference, 2),
                # The app process's own CPU (Python, the driver): what a busy machine's
                # wait for a core leaves out; PostgreSQL's work is not in it.
                "cpu_ms": round(statistics.median(cpu[(path, "now")]), 1),
                "reference_cpu_ms": round(statistics.median(cpu[(path, "reference")]), 1),
                "runs": runs,
            }
        )
    return rows


def summary(result: dict[str, Any]) -> str:
    machine = result["machine"]
    lines = [
        f"## List screens at {result['size']:,} policies (PostgreSQL {result['postgres']})",
        "",
        f"{machine['cpus']} CPUs; load average (1, 5, 15 min) {machine['load_average_before']} "
        f"before the timings, {machine['load_average_after']} after.",
        "",
        "| page | statements (permission) | median | min | app CPU | reference median "
        "| reference app CPU | ratio (time) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for page in result["pages"]:
        sql = result["statements"][page["path"]]
        lines.append(
            f"| GET {page['path']} | {sql['statements']} ({sql['permission_statements']}) "
            f"| {page['median_ms']} ms | {page['min_ms']} ms | {page['cpu_ms']} ms "
            f"| {page['reference_median_ms']} ms | {page['reference_cpu_ms']} ms "
            f"| {page['ratio_to_reference']} |"
        )
    policy = result["pages"][0]
    verdict = "met" if policy["median_ms"] <= GOAL_MS else "missed"
    lines += [
        "",
        f"Goal ≤ {GOAL_MS} ms (policy list): {verdict} ({policy['median_ms']} ms on this run; "
        f"app CPU {policy['cpu_ms']} ms).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="policies of the agency")
    parser.add_argument("--runs", type=int, default=15, help="timed views per page and mode")
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
        print(f"loaded in {loaded['seconds']} s", flush=True)
        http = app.test_client()
        # The dashboard bench's login, with the role staff work with.
        manager_login(app, http, loaded["organisation_id"], role="USER")
        statements = {path: statements_of(app, http, path) for path in PAGES}
        load_before = os.getloadavg()
        pages = time_pages(app, http, args.runs)
        result = {
            "size": args.size,
            "postgres": postgres,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                # Other work on the machine shows here: read the ratios with it.
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
            },
            "load": loaded,
            "statements": statements,
            "pages": pages,
            "goal_ms": GOAL_MS,
            "statement_budget": STATEMENT_BUDGET,
        }
        (RESULTS / f"list-pages-{args.size}.json").write_text(json.dumps(result, indent=2))
        print(summary(result))
        over = [p for p, s in statements.items() if s["statements"] > STATEMENT_BUDGET]
        with app.app_context():
            from app.extensions import db

            db.session.remove()
            db.engine.dispose()
        if over:
            sys.exit(f"over the budget of {STATEMENT_BUDGET} statements: {over}")


if __name__ == "__main__":
    main()
