"""Benchmark claims at scale: the claims list API and the dashboard's loss ratio over a
100,000-claim book, each against a reference measured in the same run.

Usage:
    python bench/claims.py                                # 100,000 policies and claims
    python bench/claims.py --size 10000                   # a quick look
    BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test python bench/claims.py

In a PostgreSQL schema of its own (created, then dropped unless --keep), bench/seed.py
migrates and loads the book (N policies, a neighbour agency of N/20). One INSERT ... SELECT
gives every policy one claim (losses over the last two years, statuses spread, closed ones
with their reason), a second one gives the indemnified and settling ones an indemnity (and
a share an insurer recourse, which the loss ratio leaves out), and ``issuing.issue_due``
issues the next month's premium notices, the premiums the loss ratio divides by. Then,
median of 5 after one warm-up, interleaved:

1. list: ``GET /api/v1/claim/`` (first page, default size) through the Flask test client
   with the benchmark USER's token; reference: the same page of ``GET /api/v1/policy/``.
2. loss ratio: ``loss_ratio`` as the dashboard calls it over twelve months; references:
   ``premiums_per_month`` (the premiums chart) over the same scope, and the former
   four-query loss ratio (bench/loss_ratio_four.py), whose figures must be the same.

EXPLAIN (ANALYZE) of every statement of the claims list and of the loss ratio is kept.
Results: bench/results/claims-<size>.json (not committed) and a Markdown summary on stdout.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
for path in (str(ROOT), str(BENCH_DIR)):
    if path not in sys.path:
        sys.path.insert(0, path)

from book import parse_arguments, seeded_book  # noqa: E402

DEFAULT_SCHEMA = "bench_claims"
RUNS = 5

# One claim per policy; the natures and statuses spread by the policy's id (deterministic).
CLAIMS_SQL = """
INSERT INTO claim (organisation_id, number, policy_id, term_id, client_id, nature,
    occurred_on, known_on, client_declared_on, declaration_deadline, prescription_on,
    status, close_reason, closed_on, estimate)
SELECT p.organisation_id, 'SIN-B-' || lpad(p.id::text, 8, '0'), p.id, t.id, p.client_id,
    (ARRAY['water_damage', 'theft', 'attempted_theft', 'fire', 'glass', 'motor_damage',
           'bodily_injury', 'liability', 'natural_disaster', 'storm', 'legal_protection',
           'other'])[1 + p.id % 12],
    c.occurred_on, c.occurred_on + 2, c.occurred_on + 2, c.occurred_on + 5,
    (c.occurred_on + interval '2 years')::date,
    CASE p.id % 10 WHEN 0 THEN 'closed' WHEN 1 THEN 'closed' WHEN 2 THEN 'closed'
        WHEN 3 THEN 'closed' WHEN 4 THEN 'settlement' WHEN 5 THEN 'expertise'
        WHEN 6 THEN 'waiting_documents' WHEN 7 THEN 'open' ELSE 'declared' END,
    CASE WHEN p.id % 10 < 3 THEN 'indemnified' WHEN p.id % 10 = 3 THEN 'no_follow_up' END,
    CASE WHEN p.id % 10 < 4 THEN least(current_date, c.occurred_on + 60) END,
    200 + (p.id * 13) % 9800
FROM policy p
CROSS JOIN LATERAL (SELECT current_date - (p.id * 37) % 730 AS occurred_on) c
LEFT JOIN term t ON t.policy_id = p.id AND t.sequence = 1
"""

# Indemnities on the indemnified and settling claims (40 %), paid 45 days after the loss
# at the latest today; a recourse on one claim in twenty, which the loss ratio must skip.
PAYMENTS_SQL = """
INSERT INTO claim_payment (organisation_id, claim_id, kind, amount, paid_on)
SELECT organisation_id, id,
    CASE WHEN id % 5 = 0 THEN 'indemnity_third_party' ELSE 'indemnity_client' END,
    150 + (id * 17) % 7850, least(current_date, occurred_on + 45)
FROM claim WHERE close_reason = 'indemnified' OR status = 'settlement'
UNION ALL
SELECT organisation_id, id, 'insurer_recourse', 50 + id % 500,
    least(current_date, occurred_on + 90)
FROM claim WHERE id % 20 = 0
"""


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(__doc__, DEFAULT_SCHEMA, "policies (and claims)", argv)
    report: dict[str, Any] = {
        "command": " ".join(["python", "bench/claims.py", *(argv or sys.argv[1:])]),
        "size": args.size,
        "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }
    started = time.perf_counter()
    with seeded_book(args, "monassurance-bench-claims-") as (app, seeded, postgres):
        report["postgres"] = postgres
        report["seed_seconds"] = round(seeded.seconds, 1)
        with app.app_context():
            report.update(load_claims(seeded.organisation_id))
        report["load_timings"] = [round(x, 2) for x in os.getloadavg()]
        http = app.test_client()
        headers = seed_login(http, seeded)
        with app.app_context():
            report.update(measure(app, http, headers, seeded.organisation_id))
            from app.extensions import db

            db.session.remove()
            db.engine.dispose()
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    report["seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"claims-{args.size}.json").write_text(json.dumps(report, indent=2, default=str))
    print(summary(report))
    return 0


def seed_login(http: Any, seeded: Any) -> dict[str, str]:
    # The API bench's login (bench/api_list.py): the agency's USER, scoped to its rows.
    from api_list import login

    return login(http, seeded)


def load_claims(organisation_id: int) -> dict[str, Any]:
    from sqlalchemy import func, select, text

    from app.extensions import db
    from app.models import Claim, ClaimPayment
    from app.services.premiums import issuing
    from app.services.renewals.contracts import agency_today

    session = db.session
    began = time.perf_counter()
    session.execute(text(CLAIMS_SQL))
    session.execute(text(PAYMENTS_SQL))
    session.commit()
    result: dict[str, Any] = {"claims_insert_seconds": round(time.perf_counter() - began, 1)}
    today = agency_today(session, organisation_id)
    began = time.perf_counter()
    issued = issuing.issue_due(
        session, until=today + dt.timedelta(days=30), organisation_id=organisation_id, today=today
    )
    session.commit()
    result["issue_seconds"] = round(time.perf_counter() - began, 1)
    result["notices_issued"] = sum(issued.values())
    # As bench/seed.py does for the policies (autovacuum's work in production): without the
    # visibility map the list's count(*) could not be answered from an index alone, and the
    # claims would be measured against a policy list that can.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE claim, claim_payment, premium_notice"))
    result["today"] = today.isoformat()
    result["claims"] = session.scalar(
        select(func.count()).select_from(Claim).where(Claim.organisation_id == organisation_id)
    )
    result["claim_payments"] = session.scalar(
        select(func.count())
        .select_from(ClaimPayment)
        .where(ClaimPayment.organisation_id == organisation_id)
    )
    return result


def measure(app: Any, http: Any, headers: dict[str, str], organisation_id: int) -> dict[str, Any]:
    from loss_ratio_four import loss_ratio_four_queries

    from app.extensions import db
    from app.services.claims.loss_ratio import loss_ratio
    from app.services.dashboard.premiums import premiums_per_month
    from app.services.dashboard.scope import Scope
    from app.services.renewals.contracts import agency_today

    session = db.session
    today = agency_today(session, organisation_id)
    first = today.replace(day=1)
    end = (first + dt.timedelta(days=32)).replace(day=1)
    start = _months_back(first, 11)  # twelve months, the current one included
    scope = Scope(
        organisation_id=organisation_id,
        company_id=None,
        start=start,
        end=end,
        today=today,
        dialect=session.get_bind().dialect.name,
    )

    def get(path: str) -> Callable[[], Any]:
        def call() -> Any:
            response = http.get(path, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"{path}: {response.status_code} {response.get_data()[:300]!r}")
            return response.json

        return call

    def figures() -> dict[str, Any]:
        # As load_dashboard calls it: the scope's [start, end) as inclusive dates.
        answer = loss_ratio(session, organisation_id, start, end - dt.timedelta(days=1))
        session.rollback()
        return answer

    def four_queries() -> dict[str, Any]:
        answer = loss_ratio_four_queries(
            session, organisation_id, start, end - dt.timedelta(days=1)
        )
        session.rollback()
        return answer

    def premiums() -> Any:
        answer = premiums_per_month(session, scope)
        session.rollback()
        return answer

    pairs = {
        "claim_list": get("/api/v1/claim/"),
        "policy_list": get("/api/v1/policy/"),
        "loss_ratio": figures,
        "loss_ratio_four_queries": four_queries,
        "premiums_per_month": premiums,
    }
    answers = {name: call() for name, call in pairs.items()}  # warm-up
    if answers["loss_ratio"] != answers["loss_ratio_four_queries"]:
        raise SystemExit("the loss ratio's figures differ from the four-query reference's")
    times: dict[str, list[float]] = {name: [] for name in pairs}
    for run in range(RUNS):
        # Rotating order: the machine's noise falls on every measure alike.
        names = list(pairs)[run % len(pairs) :] + list(pairs)[: run % len(pairs)]
        for name in names:
            began = time.perf_counter()
            pairs[name]()
            times[name].append(time.perf_counter() - began)
    result: dict[str, Any] = {
        "period": [start.isoformat(), (end - dt.timedelta(days=1)).isoformat()],
        "ms": {name: round(statistics.median(t) * 1000, 1) for name, t in times.items()},
        "claim_list_count": answers["claim_list"].get("count"),
        "claim_list_rows": len(answers["claim_list"].get("result", [])),
        "policy_list_count": answers["policy_list"].get("count"),
        "loss_ratio_total": answers["loss_ratio"]["total"],
        "loss_ratio_same_figures": True,
        "loss_ratio_rows": {
            name: len(answers["loss_ratio"][name]) for name in ("by_insurer", "by_line")
        },
    }
    result["explain"] = {
        "claim_list": explain(app, session, get("/api/v1/claim/")),
        "loss_ratio": explain(app, session, figures),
        "loss_ratio_four_queries": explain(app, session, four_queries),
    }
    return result


def _months_back(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def explain(app: Any, session: Any, call: Callable[[], Any]) -> list[dict[str, Any]]:
    """Every statement ``call`` runs, with its EXPLAIN (ANALYZE) plan."""
    from sqlalchemy import event

    from app.extensions import db

    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    plans = []
    with engine.connect() as conn:
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            rows = conn.exec_driver_sql("EXPLAIN ANALYZE " + statement, parameters).all()
            plans.append({"sql": statement, "plan": [row[0] for row in rows]})
        conn.rollback()
    return plans


def summary(report: dict[str, Any]) -> str:
    ms = report["ms"]
    lines = [
        "| measure | median of 5 | reference | ratio |",
        "|---|---|---|---|",
        f"| GET /api/v1/claim/ ({report['claim_list_count']} claims) | {ms['claim_list']} ms"
        f" | GET /api/v1/policy/ {ms['policy_list']} ms"
        f" | {ms['claim_list'] / ms['policy_list']:.2f}× |",
        f"| loss_ratio {report['period'][0]} → {report['period'][1]} | {ms['loss_ratio']} ms"
        f" | premiums_per_month {ms['premiums_per_month']} ms"
        f" | {ms['loss_ratio'] / ms['premiums_per_month']:.2f}× |",
        f"| loss_ratio, same figures | {ms['loss_ratio']} ms"
        f" | four-query loss ratio {ms['loss_ratio_four_queries']} ms"
        f" | {ms['loss_ratio'] / ms['loss_ratio_four_queries']:.2f}× |",
        "",
        f"claims {report['claims']}, payments {report['claim_payments']}, notices issued"
        f" {report['notices_issued']}; total {report['loss_ratio_total']}",
        f"seed {report['seed_seconds']} s, claims insert {report['claims_insert_seconds']} s,"
        f" issue {report['issue_seconds']} s, total {report['seconds']} s; load"
        f" {report['load_before']} -> {report['load_timings']} (timings) -> {report['load_after']}",
    ]
    for name, plans in report["explain"].items():
        for plan in plans:
            if "ab_" in plan["sql"]:  # FAB's permission checks: small tables, not ours
                continue
            lines.append(f"\n### {name}\n{plan['sql']}\n" + "\n".join(plan["plan"]))
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
