"""Benchmark premiums at scale: issuing a month's notices for a 100,000-contract book,
then the dashboard's unpaid aggregates over what was issued.

Usage:
    python bench/premiums.py                              # 100,000 policies on PostgreSQL
    python bench/premiums.py --size 10000                 # a quick look
    BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test python bench/premiums.py

In a PostgreSQL schema of its own (created, then dropped unless --keep), bench/seed.py
migrates and loads the book (N policies with their first terms, a neighbour agency of
N/20). Every live contract is made monthly (one UPDATE), so a month holds about one
notice per live contract. Then:

1. issue: ``issuing.issue_due`` for the bench agency up to today + 30 days (the daily
   run's horizon for a month), timed, then run again: the second run must issue nothing.
2. unpaid: the instalments issued are past due or not; the dashboard's ``unpaid_on``
   (by age and insurer) and ``collections_per_month`` over the agency, median of 5 after
   one warm-up.

Results: bench/results/premiums-<size>.json and a Markdown summary on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
for path in (str(ROOT), str(BENCH_DIR)):
    if path not in sys.path:
        sys.path.insert(0, path)

from portfolio_schema import DEFAULT_POSTGRES_URL, fresh_schema, schema_url  # noqa: E402

DEFAULT_SCHEMA = "bench_premiums"
RUNS = 5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000, help="policies of the agency")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    )
    parser.add_argument("--schema", default=DEFAULT_SCHEMA)
    parser.add_argument("--keep", action="store_true", help="keep the schema")
    args = parser.parse_args(argv)
    if not args.schema.isidentifier():
        parser.error("--schema must be a plain identifier")
    if args.size < 1:
        parser.error("--size of at least 1")
    workdir = Path(tempfile.mkdtemp(prefix="monassurance-bench-premiums-"))
    report: dict[str, Any] = {
        "command": " ".join(["python", "bench/premiums.py", *(argv or sys.argv[1:])]),
        "size": args.size,
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }
    started = time.perf_counter()
    with fresh_schema(args.postgres_url, args.schema, keep=args.keep) as postgres:
        for name in ("REDIS_URL", "HUEY_IMMEDIATE", "STORAGE_URL"):
            os.environ.pop(name, None)
        os.environ.update(
            {
                "DATA_DIR": str(workdir / "data"),
                "DATABASE_URL": schema_url(args.postgres_url, args.schema),
                "HUEY_SQLITE_PATH": str(workdir / "huey.db"),
                "LOG_LEVEL": "WARNING",
            }
        )
        report["postgres"] = postgres
        import seed

        app = seed.build_app()
        seeded = seed.seed(app, args.size, quiet=True)
        report["seed_seconds"] = round(seeded.seconds, 1)
        with app.app_context():
            report.update(run(seeded.organisation_id))
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    report["seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"premiums-{args.size}.json").write_text(json.dumps(report, indent=2, default=str))
    print(summary(report))
    return 0


def run(organisation_id: int) -> dict[str, Any]:
    from sqlalchemy import func, select, update

    from app.extensions import db
    from app.models import PaymentFrequency, Policy, PremiumNotice
    from app.services.dashboard.collections import collections_per_month, unpaid_on
    from app.services.dashboard.scope import Scope
    from app.services.premiums import issuing
    from app.services.renewals.contracts import agency_today

    session = db.session
    session.execute(update(Policy).values(payment_frequency=PaymentFrequency.monthly))
    session.commit()
    today = agency_today(session, organisation_id)
    until = today + dt.timedelta(days=30)
    result: dict[str, Any] = {"today": today.isoformat(), "until": until.isoformat()}

    began = time.perf_counter()
    issued = issuing.issue_due(session, until=until, organisation_id=organisation_id, today=today)
    session.commit()
    result["issue_seconds"] = round(time.perf_counter() - began, 2)
    result["issued"] = sum(issued.values())
    began = time.perf_counter()
    again = issuing.issue_due(session, until=until, organisation_id=organisation_id, today=today)
    session.commit()
    result["issue_again_seconds"] = round(time.perf_counter() - began, 2)
    result["issued_again"] = sum(again.values())
    result["notices"] = session.scalar(
        select(func.count())
        .select_from(PremiumNotice)
        .where(PremiumNotice.organisation_id == organisation_id)
    )

    scope = Scope(
        organisation_id=organisation_id,
        company_id=None,
        start=today.replace(day=1) - dt.timedelta(days=335),
        end=until,
        today=until,  # a month later: what was issued is past due, some by 30 days
        dialect=session.get_bind().dialect.name,
    )
    for name, measure in (
        ("unpaid_on", lambda: unpaid_on(session, scope)),
        ("collections_per_month", lambda: collections_per_month(session, scope)),
    ):
        measure()  # warm-up
        times = []
        for _ in range(RUNS):
            began = time.perf_counter()
            answer = measure()
            times.append(time.perf_counter() - began)
            session.rollback()
        result[f"{name}_ms"] = round(statistics.median(times) * 1000, 1)
        if name == "unpaid_on":
            result["unpaid_notices_by_age"] = answer.notices_by_age
    return result


def summary(report: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"| issue_due (until {report['until']}) | {report['issue_seconds']} s |"
            f" {report['issued']} notices issued |",
            f"| issue_due again | {report['issue_again_seconds']} s |"
            f" {report['issued_again']} issued |",
            f"| unpaid_on | {report['unpaid_on_ms']} ms | by age"
            f" {report['unpaid_notices_by_age']} |",
            f"| collections_per_month | {report['collections_per_month_ms']} ms | |",
            f"seed {report['seed_seconds']} s, total {report['seconds']} s,"
            f" load {report['load_before']} -> {report['load_after']}",
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())
