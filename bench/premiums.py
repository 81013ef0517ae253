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

import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
for path in (str(ROOT), str(BENCH_DIR)):
    if path not in sys.path:
        sys.path.insert(0, path)

from book import parse_arguments, seeded_book  # noqa: E402

DEFAULT_SCHEMA = "bench_premiums"
RUNS = 5


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(__doc__, DEFAULT_SCHEMA, "policies of the agency", argv)
    report: dict[str, Any] = {
        "command": " ".join(["python", "bench/premiums.py", *(argv or sys.argv[1:])]),
        "size": args.size,
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }
    started = time.perf_counter()
    with seeded_book(args, "monassurance-bench-premiums-") as (app, seeded, postgres):
        report["postgres"] = postgres
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
