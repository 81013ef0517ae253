"""Benchmark: reconciling a 50,000-line insurer statement against 100,000 contracts.

Usage:
    python bench/commissions.py                      # SQLite in a temporary file
    python bench/commissions.py --database-url postgresql://postgres@127.0.0.1:5432/test
    python bench/commissions.py --contracts 20000 --lines 10000

Builds a fresh migrated database (a new schema on PostgreSQL, dropped after), one agency,
one insurer, ``--contracts`` contracts each with a notice of the month and its expected
commission (bulk inserted), then a CSV statement of ``--lines`` of them with three planted
differences, and times ``import_statement`` (read, map, refresh the insurer's expected
commissions, reconcile, write the lines) in one transaction, with the process's peak
memory. Prints one Markdown row for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import secrets
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_hex(24))
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="bench-commissions-"))
os.environ.setdefault("HUEY_IMMEDIATE", "true")

from sqlalchemy import insert, select  # noqa: E402

MONTH = dt.date(2026, 11, 1)


def database_url(raw: str | None) -> tuple[str, str | None]:
    from config import normalise_database_url

    if not raw:
        return f"sqlite:///{Path(os.environ['DATA_DIR']) / 'bench.db'}", None
    import psycopg

    schema = f"bench_{secrets.token_hex(4)}"
    with psycopg.connect(raw.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in raw else "?"
    return normalise_database_url(f"{raw}{separator}options=-csearch_path%3D{schema}"), schema


def build(session, contracts: int) -> tuple[int, int, list[tuple[str, Decimal]]]:
    from app.models import (
        Client,
        Collection,
        CommissionBasis,
        CommissionRule,
        Company,
        ExpectedCommission,
        ExpectedStatus,
        LineOfBusiness,
        NoticeKind,
        NoticeStatus,
        Organisation,
        Policy,
        PolicyStatus,
        PremiumNotice,
        UnpaidStage,
    )

    organisation = Organisation(name="Cabinet Bench", orias_number="12345678")
    session.add(organisation)
    session.flush()
    company = Company(organisation_id=organisation.id, name="Assureur Bench", code="BEN")
    client = Client(organisation_id=organisation.id, first_name="Lou", last_name="Bench")
    session.add_all([company, client])
    session.flush()
    rule = CommissionRule(
        organisation_id=organisation.id,
        company_id=company.id,
        basis=CommissionBasis.rate,
        first_year_rate=Decimal("12"),
        later_years_rate=Decimal("12"),
        valid_from=dt.date(2020, 1, 1),
    )
    session.add(rule)
    session.flush()
    batch = 5000
    for start in range(0, contracts, batch):
        session.execute(
            insert(Policy),
            [
                {
                    "organisation_id": organisation.id,
                    "number": f"BEN-{index:07d}",
                    "client_id": client.id,
                    "company_id": company.id,
                    "line_of_business": LineOfBusiness.home,
                    "status": PolicyStatus.active,
                    "effective_date": dt.date(2025, 11, 1),
                    "expiry_date": dt.date(2026, 11, 1),
                    "premium": Decimal("240.00"),
                }
                for index in range(start, min(start + batch, contracts))
            ],
        )
    policies = session.execute(select(Policy.id, Policy.number).order_by(Policy.id)).all()
    for start in range(0, len(policies), batch):
        session.execute(
            insert(PremiumNotice),
            [
                {
                    "organisation_id": organisation.id,
                    "policy_id": policy_id,
                    "number": f"{number}/2-01",
                    "kind": NoticeKind.one_off,
                    "period_start": MONTH,
                    "period_end": dt.date(2026, 12, 1),
                    "due_on": MONTH,
                    "pay_by": dt.date(2026, 11, 11),
                    "amount_before_tax": Decimal(100 + policy_id % 50),
                    "taxes": Decimal("9.00"),
                    "fees": Decimal("0.00"),
                    "total": Decimal(109 + policy_id % 50),
                    "currency": "EUR",
                    "collection": Collection.broker,
                    "status": NoticeStatus.issued,
                    "paid_amount": Decimal("0.00"),
                    "issued_on": MONTH,
                    "stage": UnpaidStage.up_to_date,
                }
                for policy_id, number in policies[start : start + batch]
            ],
        )
    notices = session.execute(
        select(PremiumNotice.id, PremiumNotice.policy_id, PremiumNotice.amount_before_tax)
    ).all()
    numbers = dict(policies)
    expected: list[tuple[str, Decimal]] = []
    for start in range(0, len(notices), batch):
        rows = []
        for notice_id, policy_id, before_tax in notices[start : start + batch]:
            amount = (before_tax * Decimal("0.12")).quantize(Decimal("0.01"))
            expected.append((numbers[policy_id], amount))
            rows.append(
                {
                    "organisation_id": organisation.id,
                    "premium_notice_id": notice_id,
                    "rule_id": rule.id,
                    "policy_id": policy_id,
                    "company_id": company.id,
                    "period_start": MONTH,
                    "first_year": False,
                    "base_amount": before_tax,
                    "rate": Decimal("12"),
                    "amount": amount,
                    "due_on": MONTH,
                    "status": ExpectedStatus.expected,
                }
            )
        session.execute(insert(ExpectedCommission), rows)
    session.commit()
    return organisation.id, company.id, expected


def statement(expected: list[tuple[str, Decimal]], lines: int) -> bytes:
    chosen = expected[:lines]
    chosen[10] = (chosen[10][0], chosen[10][1] + Decimal("5.00"))  # amount differs
    chosen.pop(20)  # one left out of the lines: missing only if due in the month
    chosen.append(("INCONNU-0000001", Decimal("12.00")))  # unknown
    out = ["N° police;Période;Commission"]
    out += [f"{policy};11/2026;{str(amount).replace('.', ',')}" for policy, amount in chosen]
    return ("\n".join(out) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=50_000)
    args = parser.parse_args()
    url, schema = database_url(args.database_url)
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.services.commissions.statements import import_statement, summary
    from config import TestConfig

    app = create_app(TestConfig(SQLALCHEMY_DATABASE_URI=url))
    try:
        with app.app_context():
            upgrade()
            began = time.perf_counter()
            organisation_id, company_id, expected = build(db.session, args.contracts)
            built = time.perf_counter() - began
            data = statement(expected, args.lines)
            with app.test_request_context():
                began = time.perf_counter()
                result = import_statement(
                    db.session,
                    organisation_id,
                    company_id=company_id,
                    period="2026-11",
                    data=data,
                    file_name="releve.csv",
                    user_id=None,
                )
                db.session.commit()
                took = time.perf_counter() - began
                counts = summary(db.session, result.id)
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            backend = url.split(":", 1)[0].split("+")[0]
            print(f"seeded {args.contracts} contracts in {built:.1f} s")
            print(
                f"| {backend} | {args.contracts:,} | {args.lines:,} | {took:.1f} s | "
                f"{peak_mb:.0f} MB | {counts} |"
            )
    finally:
        if schema:
            import psycopg

            with psycopg.connect(args.database_url.replace("+psycopg", ""), autocommit=True) as c:
                c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
