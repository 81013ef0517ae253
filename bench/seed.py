"""Load a large portfolio for the benchmarks: N policies with their clients and insurers.

Usage:
    python bench/seed.py                 # 100,000 policies into bench/results/bench.db
    DATABASE_URL=postgresql://... python bench/seed.py --size 100000

The schema comes from the migrations (as in production), the roles from sync_roles.
Rows go in through SQLAlchemy Core executemany in batches: the ORM would spend
minutes building 150,000 objects that the benchmark never needs. Core skips the
models' @validates hooks, so the generator below only makes rows that pass them.

The benchmark organisation holds N policies. A neighbour organisation holds N/20
more, so the organisation filter of the API really filters something.
Each policy gets its first term (one INSERT … SELECT, as migration 0011 did for
existing policies), since Core inserts skip the ORM listener that adds it.
Running it again with the same size does nothing (but add missing terms); another
size reloads both organisations' rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_SIZE = 100_000
BATCH = 5_000
BENCH_ORGANISATION = ("Cabinet Benchmark", "99000001")
NEIGHBOUR_ORGANISATION = ("Cabinet Voisin", "99000002")
BENCH_USERNAME = "bench_user"
INSURERS = 24
POLICIES_PER_CLIENT = 2


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "Camille Léa Manon Chloé Inès Sarah Jade Louise Emma Alice Juliette Lucie Clara Anaïs "
    "Lucas Hugo Louis Gabriel Arthur Jules Nathan Théo Paul Raphaël Antoine Mathis Élise "
    "Noé"
)
LAST_NAMES = _words(
    "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel "
    "Lefèvre Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert "
    "Fontaine Rousseau Vincent Muller Lefebvre Faure André Mercier Blanc Guérin Boyer "
    "Garnier Chevalier"
)
CITIES = (
    ("Lyon", "69003"),
    ("Marseille", "13006"),
    ("Toulouse", "31000"),
    ("Nantes", "44000"),
    ("Bordeaux", "33000"),
    ("Lille", "59000"),
    ("Rennes", "35000"),
    ("Strasbourg", "67000"),
    ("Montpellier", "34000"),
    ("Grenoble", "38000"),
)
INSURER_NAMES = (
    "Mutuelle",
    "Assurances",
    "Prévoyance",
    "Garantie",
    "Protection",
    "Courtage Re",
)
STATUS_WEIGHTS = {"active": 60, "expired": 20, "draft": 8, "suspended": 4, "cancelled": 8}
LINES = ("auto", "home", "health", "life", "liability", "professional", "travel")
FREQUENCIES = ("monthly", "quarterly", "semiannual", "annual")
FIRST_EFFECTIVE = dt.date(2019, 1, 1)
EFFECTIVE_SPAN_DAYS = 8 * 365


@dataclass(frozen=True)
class Seeded:
    organisation_id: int
    username: str
    password: str
    policies: int
    seconds: float
    loaded: bool  # False when the database already held this size


def default_database_url() -> str:
    return f"sqlite:///{RESULTS / 'bench.db'}"


def prepare_environment(database_url: str | None = None) -> str:
    """Point the app's configuration at the benchmark database and a private data folder."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    url = database_url or os.environ.get("DATABASE_URL") or default_database_url()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DATA_DIR", str(RESULTS / "data"))
    # The benchmark measures the API, not log formatting.
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    return url


def build_app() -> Any:
    from app import create_app
    from config import Config

    return create_app(Config())


def seed(app: Any, size: int = DEFAULT_SIZE, *, quiet: bool = False) -> Seeded:
    """Migrate, sync roles, load the portfolio unless present; return the benchmark login."""
    from flask_migrate import upgrade

    from app.extensions import db
    from app.services.roles import sync_roles

    started = time.perf_counter()
    with app.app_context():
        upgrade()
        sync_roles(app.appbuilder)
        bench_org = _organisation(db, *BENCH_ORGANISATION)
        neighbour_org = _organisation(db, *NEIGHBOUR_ORGANISATION)
        wanted = {bench_org: size, neighbour_org: max(size // 20, 1)}
        loaded = False
        if any(_policy_count(db, org) != count for org, count in wanted.items()):
            for org in wanted:
                _delete_rows(db, org)
            for index, (org, count) in enumerate(wanted.items()):
                _load(db, org, count, rng=random.Random(index), quiet=quiet)
            loaded = True
        # Every time: a database seeded before contracts had terms gets them now.
        for org in wanted:
            _terms(db, org)
        db.session.commit()
        # Every time: a migration may just have added an index the planner knows nothing of.
        _analyse(db)
    password = _reset_bench_user(app, bench_org)
    return Seeded(
        organisation_id=bench_org,
        username=BENCH_USERNAME,
        password=password,
        policies=size,
        seconds=time.perf_counter() - started,
        loaded=loaded,
    )


def _organisation(db: Any, name: str, orias: str) -> int:
    from sqlalchemy import insert, select

    from app.models import Organisation

    table = Organisation.__table__
    found = db.session.execute(select(table.c.id).where(table.c.name == name)).scalar()
    if found is not None:
        return found
    db.session.execute(insert(table).values(name=name, orias_number=orias))
    return db.session.execute(select(table.c.id).where(table.c.name == name)).scalar_one()


def _policy_count(db: Any, organisation_id: int) -> int:
    from sqlalchemy import func, select

    from app.models import Policy

    table = Policy.__table__
    query = select(func.count()).where(table.c.organisation_id == organisation_id)
    return db.session.execute(query).scalar_one()


def _delete_rows(db: Any, organisation_id: int) -> None:
    from sqlalchemy import delete

    from app.models import Client, Company, Policy

    for model in (Policy, Client, Company):
        table = model.__table__
        db.session.execute(delete(table).where(table.c.organisation_id == organisation_id))


def _load(db: Any, organisation_id: int, policies: int, *, rng: random.Random, quiet: bool) -> None:
    from sqlalchemy import insert

    from app.models import Client, Company, Policy

    started = time.perf_counter()
    company_table, client_table, policy_table = (
        Company.__table__,
        Client.__table__,
        Policy.__table__,
    )
    db.session.execute(insert(company_table), list(_companies(organisation_id, rng)))
    company_ids = _ids(db, company_table, organisation_id)

    clients = max(policies // POLICIES_PER_CLIENT, 1)
    for batch in _batches(_clients(organisation_id, clients, rng)):
        db.session.execute(insert(client_table), batch)
    client_ids = _ids(db, client_table, organisation_id)

    rows = _policies(organisation_id, policies, client_ids, company_ids, rng)
    for batch in _batches(rows):
        db.session.execute(insert(policy_table), batch)
    db.session.commit()
    if not quiet:
        print(
            f"  organisation {organisation_id}: {len(company_ids)} insurers, {len(client_ids)} "
            f"clients, {policies} policies in {time.perf_counter() - started:.1f} s",
            flush=True,
        )


def _terms(db: Any, organisation_id: int) -> None:
    """Each policy without a term gets its first one, as migration 0011 gave existing
    policies and the flush listener (app/services/renewals/terms.py) gives every policy
    the ORM writes: Core inserts skip that listener. One INSERT … SELECT."""
    from sqlalchemy import text

    db.session.execute(
        text(
            "INSERT INTO term (organisation_id, policy_id, sequence, start_date, end_date, "
            "premium, status) SELECT organisation_id, id, 1, effective_date, expiry_date, "
            "premium, CASE status WHEN 'cancelled' THEN 'cancelled' WHEN 'expired' THEN 'lapsed' "
            "ELSE 'open' END FROM policy WHERE organisation_id = :organisation_id "
            "AND NOT EXISTS (SELECT 1 FROM term WHERE term.policy_id = policy.id)"
        ),
        {"organisation_id": organisation_id},
    )


def _ids(db: Any, table: Any, organisation_id: int) -> list[int]:
    from sqlalchemy import select

    query = select(table.c.id).where(table.c.organisation_id == organisation_id)
    return list(db.session.execute(query.order_by(table.c.id)).scalars())


def _companies(organisation_id: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    for index in range(INSURERS):
        family = LAST_NAMES[index % len(LAST_NAMES)]
        kind = INSURER_NAMES[index % len(INSURER_NAMES)]
        yield {
            "organisation_id": organisation_id,
            "name": f"{kind} {family}",
            "code": f"INS{index:03d}",
            "contact_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "email": f"contact{index}@assureur{index}.example",
            "phone": f"01{rng.randrange(10**8):08d}",
        }


def _clients(organisation_id: int, count: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    for index in range(count):
        city, postal_code = rng.choice(CITIES)
        business = index % 10 == 0
        last_name = rng.choice(LAST_NAMES)
        yield {
            "organisation_id": organisation_id,
            "kind": "business" if business else "person",
            "first_name": None if business else rng.choice(FIRST_NAMES),
            "last_name": last_name,
            "company_name": f"{last_name} et Fils SARL" if business else None,
            "email": f"client{index}@example.org",
            "phone": f"06{rng.randrange(10**8):08d}",
            "address": f"{rng.randrange(1, 200)} rue de la République",
            "postal_code": postal_code,
            "city": city,
            "birth_date": None
            if business
            else dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(50 * 365)),
        }


def _policies(
    organisation_id: int,
    count: int,
    client_ids: list[int],
    company_ids: list[int],
    rng: random.Random,
) -> Iterator[dict[str, Any]]:
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    for index in range(count):
        effective = FIRST_EFFECTIVE + dt.timedelta(days=rng.randrange(EFFECTIVE_SPAN_DAYS))
        yield {
            "organisation_id": organisation_id,
            "number": f"P{organisation_id}-{index + 1:07d}",
            "client_id": client_ids[index % len(client_ids)],
            "company_id": rng.choice(company_ids),
            "line_of_business": rng.choice(LINES),
            "status": rng.choices(statuses, weights)[0],
            "effective_date": effective,
            "expiry_date": effective + dt.timedelta(days=365),
            "premium": Decimal(rng.randrange(5_000, 500_000)) / 100,
            "currency": "EUR",
            "payment_frequency": rng.choice(FREQUENCIES),
        }


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _analyse(db: Any) -> None:
    """Planner statistics and visibility map as autovacuum would leave them in production.

    Without VACUUM, PostgreSQL cannot answer a count from an index alone just
    after a bulk load, which would make counts look worse than they are.
    """
    from sqlalchemy import text

    db.session.commit()
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE organisation, company, client, policy, term"))
    elif engine.dialect.name == "sqlite":
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def _reset_bench_user(app: Any, organisation_id: int) -> str:
    """Create the USER the benchmark logs in as, with a fresh random password each run."""
    from app.extensions import db
    from app.services.roles import USER

    sm = app.appbuilder.sm
    password = secrets.token_urlsafe(16)
    with app.test_request_context():
        user = sm.find_user(username=BENCH_USERNAME)
        if user is None:
            user = sm.add_user(
                username=BENCH_USERNAME,
                first_name="Bench",
                last_name="User",
                email=f"{BENCH_USERNAME}@monassurance.invalid",
                role=sm.find_role(USER),
                password=password,
            )
            if not user:
                raise RuntimeError("could not create the benchmark user")
        else:
            sm.reset_password(user.id, password)
            user = sm.find_user(username=BENCH_USERNAME)
        user.organisation_id = organisation_id
        user.roles = [sm.find_role(USER)]
        db.session.commit()
    return password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--size", type=int, default=DEFAULT_SIZE, help="policies in the benchmark organisation"
    )
    parser.add_argument(
        "--database-url",
        help="defaults to $DATABASE_URL, else a SQLite file in bench/results/",
    )
    args = parser.parse_args(argv)
    if args.size < 1:
        parser.error("--size must be at least 1")
    url = prepare_environment(args.database_url)
    print(f"seeding {args.size} policies into {_safe(url)}", flush=True)
    result = seed(build_app(), args.size)
    state = "loaded" if result.loaded else "already there"
    print(f"{result.policies} policies {state} ({result.seconds:.1f} s)")
    print(f"login: {result.username} / {result.password} (reset on every run)")
    return 0


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    raise SystemExit(main())
