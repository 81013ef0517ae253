"""Benchmark GET /api/v1/policy/ (FAB) against a hand-written endpoint, at 100,000 policies.

Usage:
    python bench/api_list.py              # SQLite, then PostgreSQL; tables on stdout
    python bench/api_list.py --backends sqlite --requests 50

For each backend, in one process: seed the database if needed (bench/seed.py),
build the app with create_app(Config()), register the hand-written endpoint
(bench/handwritten.py) on the same app, log in through the API for a JWT, then
for each variant of the request:
  - check that both endpoints answer 200 with the same JSON body;
  - list the SQL statements each one sends (and who sends them);
  - time up to --requests requests of each through Flask's test client (no
    network), the endpoints interleaved so drift hits all alike, after a
    warm-up; a variant stops early once its --budget seconds are spent;
  - show the database's plan and the bare database time of the count and page
    queries (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite).
Then the default request again, from FAB's defaults to our PolicyApi one change
at a time (bench/tuned.py), and one cProfile of FAB and of the hand-written endpoint.

Results: bench/results/api_list-<backend>.json and bench/results/api_list.md.
Each backend runs in its own subprocess, so the two apps share no state.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import seed
from probes import (
    QueryRecorder,
    Statement,
    cumulative_hotspots,
    explain,
    percentile,
    profiled,
    self_time_by_package,
    time_statement,
    without_index,
)

BACKENDS = ("sqlite", "postgresql")
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_SCHEMA = "bench"
FAB_PATH = "/api/v1/policy/"
HAND_PATH = "/bench/policy/"
# Variants whose page query is also timed with this index dropped (in a rolled-back transaction).
INDEX_CHECKS = {"premium_desc": "ix_policy_organisation_premium"}


@dataclass(frozen=True)
class Variant:
    key: str
    title: str
    q: str | None


def variants(size: int) -> list[Variant]:
    # Page 2000 is offset 40,000 at the default size; keep it inside smaller data sets.
    deep_page = min(2000, max(size // 40, 1))
    return [
        Variant("default", "page 1, default order (expiry_date asc)", None),
        Variant(
            "expiry_desc",
            "order by expiry_date desc",
            "(order_column:expiry_date,order_direction:desc)",
        ),
        Variant(
            "status_active",
            "filter status = active",
            "(filters:!((col:status,opr:eq,value:active)))",
        ),
        Variant(
            f"page_{deep_page}",
            f"page {deep_page} (offset {deep_page * 20:,})",
            f"(page:{deep_page},page_size:20)",
        ),
        Variant(
            "premium_desc",
            "order by premium desc",
            "(order_column:premium,order_direction:desc)",
        ),
    ]


def url(path: str, q: str | None) -> str:
    return path if q is None else f"{path}?q={urllib.parse.quote(q, safe='(),:!')}"


# --- one backend (child process) ------------------------------------------------------------


def database_url(backend: str, args: argparse.Namespace) -> str:
    if backend == "sqlite":
        return args.sqlite_url or seed.default_database_url()
    base = args.postgres_url
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{args.schema}"


def ensure_schema(base_url: str, schema: str) -> None:
    """PostgreSQL: the benchmark lives in its own schema, never in the tests' ones."""
    import psycopg

    with psycopg.connect(base_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    target = database_url(backend, args)
    if backend == "postgresql":
        ensure_schema(args.postgres_url, args.schema)
    seed.prepare_environment(target)
    # The app reads its configuration (and Huey its queue) from the environment at import.
    import tuned
    from handwritten import create_blueprint

    from app.extensions import db

    app = seed.build_app()
    app.register_blueprint(create_blueprint(app))
    tuned.install(app)
    log(f"[{backend}] seeding {args.size:,} policies (skipped when already there)")
    seeded = seed.seed(app, args.size, quiet=True)
    log(f"[{backend}] seed: {'loaded' if seeded.loaded else 'present'} in {seeded.seconds:.1f} s")
    with app.app_context():
        engine = db.engine
        server_version = _server_version(engine)
    client = app.test_client()
    results = []
    for variant in variants(args.size):
        if args.variants and variant.key not in args.variants:
            continue
        headers = login(client, seeded)
        results.append(
            measure_variant(client, headers, engine, variant, seeded.organisation_id, args)
        )
    log(f"[{backend}] closing the gap, step by step (default request)")
    ladder = measure_ladder(client, login(client, seeded), engine, args)
    log(f"[{backend}] profiling")
    profile = profile_default(client, login(client, seeded), backend, args.profile_requests)
    return {
        "backend": backend,
        "database": server_version,
        "size": args.size,
        "requests": args.requests,
        "warmup": args.warmup,
        "variants": results,
        "ladder": ladder,
        "profile": profile,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _server_version(engine: Any) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return conn.exec_driver_sql("SHOW server_version").scalar()
        return "SQLite " + conn.exec_driver_sql("SELECT sqlite_version()").scalar()


def login(client: Any, seeded: seed.Seeded) -> dict[str, str]:
    response = client.post(
        "/api/v1/security/login",
        json={
            "username": seeded.username,
            "password": seeded.password,
            "provider": "db",
            "refresh": False,
        },
    )
    if response.status_code != 200:
        raise SystemExit(f"login failed: {response.status_code} {response.get_data(as_text=True)}")
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def measure_variant(
    client: Any,
    headers: dict[str, str],
    engine: Any,
    variant: Variant,
    organisation_id: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    fab_url, hand_url = url(FAB_PATH, variant.q), url(HAND_PATH, variant.q)
    log(f"  {variant.key}: {fab_url}")

    # Same answer? Otherwise the timings compare different work.
    fab_body, hand_body = fetch(client, fab_url, headers), fetch(client, hand_url, headers)
    identical = fab_body == hand_body
    if not identical:
        log(f"    WARNING: bodies differ: {describe_difference(fab_body, hand_body)}")

    # Which queries, sent by whom (one request each, recorder on).
    inventory = {}
    for name, target in (("fab", fab_url), ("hand", hand_url)):
        with QueryRecorder(engine) as recorder:
            fetch(client, target, headers)
        inventory[name] = recorder.statements

    # Timings, recorder off.
    samples = time_endpoints(client, [("fab", fab_url, headers), ("hand", hand_url, headers)], args)
    summary = {name: latency_summary(values) for name, values in samples.items()}
    result = {
        "key": variant.key,
        "title": variant.title,
        "fab_url": fab_url,
        "hand_url": hand_url,
        "identical_body": identical,
        "rows": len(fab_body.get("result", [])),
        "count": fab_body.get("count"),
        "latency_ms": summary,
        "ratio_median": round(summary["fab"]["median"] / summary["hand"]["median"], 2),
        "ratio_p95": round(summary["fab"]["p95"] / summary["hand"]["p95"], 2),
        "queries": {name: describe_statements(items) for name, items in inventory.items()},
        "plans": {
            name: data_query_plans(engine, items, args.explain_repeat)
            for name, items in inventory.items()
        },
    }
    if variant.key.startswith("page_"):
        result["plain_offset"] = plain_offset_plan(engine, variant, organisation_id, args)
    if variant.key in INDEX_CHECKS:
        index = INDEX_CHECKS[variant.key]
        page = next(item for item in inventory["fab"] if item.kind == "page")
        result["without_index"] = {
            "index": index,
            "kind": f"page without {index}",
            "sql": " ".join(page.sql.split()),
            **without_index(engine, page, index, args.explain_repeat),
        }
    return result


def time_endpoints(
    client: Any, endpoints: list[tuple[str, str, dict[str, str]]], args: argparse.Namespace
) -> dict[str, list[float]]:
    """Seconds per request for each endpoint, taken in rotating order so drift hits all alike.

    Stops after --requests rounds, or earlier once --budget seconds are spent
    (but never before --min-requests rounds): slow variants keep the run short.
    """
    for _ in range(args.warmup):
        for _name, target, headers in endpoints:
            fetch(client, target, headers, parse=False)
    samples: dict[str, list[float]] = {name: [] for name, _target, _headers in endpoints}
    started = time.perf_counter()
    for index in range(args.requests):
        shift = index % len(endpoints)
        for name, target, headers in endpoints[shift:] + endpoints[:shift]:
            begun = time.perf_counter()
            fetch(client, target, headers, parse=False)
            samples[name].append(time.perf_counter() - begun)
        spent = time.perf_counter() - started
        if index + 1 >= args.min_requests and spent > args.budget:
            break
    return samples


def plain_offset_plan(
    engine: Any, variant: Variant, organisation_id: int, args: argparse.Namespace
) -> dict[str, Any]:
    """A deep page as FAB wrote it before: every skipped row joined, then thrown away."""
    from handwritten import page_query

    from app.models import Policy

    policy = Policy.__table__
    page = int(variant.key.removeprefix("page_"))
    query = page_query(
        [policy.c.organisation_id == organisation_id],
        [policy.c.expiry_date.asc(), policy.c.id.asc()],
        20,
        page * 20,
        deferred=False,
    )
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    statement = Statement(sql, None, [])
    return {
        "kind": "page (plain OFFSET, as before)",
        "sql": " ".join(sql.split()),
        "db_ms": round(1000 * time_statement(engine, statement, args.explain_repeat), 2),
        "plan": explain(engine, statement),
    }


def measure_ladder(
    client: Any, headers: dict[str, str], engine: Any, args: argparse.Namespace
) -> dict[str, Any]:
    """The default request from FAB's defaults to ours, one change at a time (bench/tuned.py)."""
    import tuned

    rungs = [("FAB defaults (before)", tuned.PATH, "")]
    for index, step in enumerate(tuned.STEPS):
        rungs.append(
            (f"+ {tuned.STEP_TITLES[step]}", tuned.PATH, ",".join(tuned.STEPS[: index + 1]))
        )
    rungs.append(("PolicyApi as shipped", FAB_PATH, ""))
    rungs.append(("hand-written", HAND_PATH, ""))
    endpoints = [
        (label, path, {**headers, tuned.HEADER: tuning} if tuning else headers)
        for label, path, tuning in rungs
    ]
    reference = fetch(client, FAB_PATH, headers)
    checks = {}
    for label, path, rung_headers in endpoints:
        body = fetch(client, path, rung_headers)
        with QueryRecorder(engine, with_callers=False) as recorder:
            fetch(client, path, rung_headers, parse=False)
        checks[label] = (body == reference, len(recorder.statements))
    samples = time_endpoints(client, endpoints, args)
    hand_median = statistics.median(samples["hand-written"])
    return {
        "rungs": [
            {
                "label": label,
                "tuning": tuning,
                "identical_body": checks[label][0],
                "queries": checks[label][1],
                "latency_ms": latency_summary(samples[label]),
                "ratio_median": round(statistics.median(samples[label]) / hand_median, 2),
            }
            for label, _path, tuning in rungs
        ]
    }


def fetch(client: Any, target: str, headers: dict[str, str], *, parse: bool = True) -> Any:
    response = client.get(target, headers=headers)
    if response.status_code != 200:
        raise SystemExit(f"{target} answered {response.status_code}: {response.get_data()[:300]!r}")
    return response.json if parse else None


def describe_difference(fab: dict[str, Any], hand: dict[str, Any]) -> str:
    keys = sorted(set(fab) | set(hand))
    differing = [key for key in keys if fab.get(key) != hand.get(key)]
    if "result" in differing and fab.get("result") and hand.get("result"):
        first = next(
            (
                pair
                for pair in zip(fab["result"], hand["result"], strict=False)
                if pair[0] != pair[1]
            ),
            None,
        )
        return f"keys {differing}; first differing row: {first}"
    return f"keys {differing}"


def latency_summary(seconds: list[float]) -> dict[str, float]:
    ms = [value * 1000 for value in seconds]
    return {
        "n": len(ms),
        "median": round(statistics.median(ms), 2),
        "p95": round(percentile(ms, 0.95), 2),
        "mean": round(statistics.fmean(ms), 2),
        "min": round(min(ms), 2),
    }


def describe_statements(statements: list[Statement]) -> list[dict[str, Any]]:
    return [
        {
            "kind": item.kind,
            "ms": round(item.seconds * 1000, 2),
            "caller": item.caller,
            "sql": " ".join(item.sql.split())[:160],
        }
        for item in statements
    ]


def data_query_plans(engine: Any, statements: list[Statement], repeat: int) -> list[dict[str, Any]]:
    """Plan and bare database time of the count and page queries (not the security ones)."""
    plans = []
    for item in statements:
        if item.kind not in ("count", "page"):
            continue
        plans.append(
            {
                "kind": item.kind,
                "sql": " ".join(item.sql.split()),
                "db_ms": round(1000 * time_statement(engine, item, repeat), 2),
                "plan": explain(engine, item),
            }
        )
    return plans


def profile_default(
    client: Any, headers: dict[str, str], backend: str, requests: int
) -> dict[str, Any]:
    """Where the time of one default request goes, by package and by FAB function."""
    result: dict[str, Any] = {"requests": requests}
    for name, target in (("fab", FAB_PATH), ("hand", HAND_PATH)):
        fetch(client, target, headers, parse=False)
        with profiled() as profile:
            for _ in range(requests):
                fetch(client, target, headers, parse=False)
        # Kept for a closer look: python -m pstats bench/results/profile-sqlite-fab.prof
        profile.dump_stats(str(seed.RESULTS / f"profile-{backend}-{name}.prof"))
        result[name] = {
            "by_package_ms": {
                key: round(value, 2)
                for key, value in self_time_by_package(profile, requests).items()
                if value >= 0.05
            },
            "hotspots_ms": [
                (label, round(ms, 2))
                for label, ms in cumulative_hotspots(profile, requests, _interesting)
            ],
        }
    return result


def _interesting(filename: str, function: str) -> bool:
    """Library functions worth naming in 'where the time goes' (not generic wrappers)."""
    path = filename.replace("\\", "/")
    if "jsonschema/" in path:
        # Its recursive internals would fill the table; the entry points say enough.
        return function in ("validate", "check_schema")
    libraries = ("flask_appbuilder/", "marshmallow/", "flask_jwt_extended/")
    if not any(library in path for library in libraries):
        return False
    return function not in ("wraps", "wrapper", "<lambda>", "__call__", "_protect")


# --- the run (parent) ---------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    load = "unknown"
    if hasattr(os, "getloadavg"):
        load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return {
        "load": load,
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def run_children(args: argparse.Namespace) -> list[dict[str, Any]]:
    reports = []
    for backend in args.backends:
        output = seed.RESULTS / f"api_list-{backend}.json"
        command = [sys.executable, __file__, "--child", backend, "--json", str(output)]
        command += child_arguments(args)
        log(f"== {backend} ==")
        completed = subprocess.run(command, check=False)  # noqa: S603 (our own script)
        if completed.returncode != 0:
            log(f"{backend}: failed with exit code {completed.returncode}")
            reports.append({"backend": backend, "error": f"exit code {completed.returncode}"})
            continue
        reports.append(json.loads(output.read_text()))
    return reports


def child_arguments(args: argparse.Namespace) -> list[str]:
    values = [
        "--size",
        str(args.size),
        "--requests",
        str(args.requests),
        "--warmup",
        str(args.warmup),
        "--profile-requests",
        str(args.profile_requests),
        "--explain-repeat",
        str(args.explain_repeat),
        "--budget",
        str(args.budget),
        "--min-requests",
        str(args.min_requests),
        "--postgres-url",
        args.postgres_url,
        "--schema",
        args.schema,
    ]
    if args.sqlite_url:
        values += ["--sqlite-url", args.sqlite_url]
    if args.variants:
        values += ["--variants", ",".join(args.variants)]
    return values


def render_markdown(reports: list[dict[str, Any]], host: dict[str, str], command: str) -> str:
    from report import markdown

    return markdown(reports, host, command)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults in --help, and the module's docstring kept as written."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=_HelpFormatter)
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help="comma-separated: sqlite, postgresql",
    )
    parser.add_argument("--size", type=int, default=seed.DEFAULT_SIZE, help="policies to load")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per endpoint")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests first")
    parser.add_argument(
        "--profile-requests", type=int, default=20, help="requests under cProfile per endpoint"
    )
    parser.add_argument(
        "--explain-repeat", type=int, default=5, help="runs of each data query for its DB time"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=20.0,
        help="seconds of timed requests per variant before stopping early",
    )
    parser.add_argument(
        "--min-requests", type=int, default=20, help="timed requests even over the budget"
    )
    parser.add_argument(
        "--variants",
        default="",
        help="comma-separated keys: default, expiry_desc, status_active, page_2000, "
        "premium_desc (empty: all)",
    )
    parser.add_argument("--sqlite-url", default="", help="empty: bench/results/bench.db")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL database (env BENCH_POSTGRES_URL); the schema below is created in it",
    )
    parser.add_argument("--schema", default=DEFAULT_SCHEMA, help="PostgreSQL schema to use")
    parser.add_argument("--child", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    unknown = set(args.backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")
    args.variants = [name.strip() for name in args.variants.split(",") if name.strip()]
    for name in ("size", "requests", "min_requests", "profile_requests", "explain_repeat"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup cannot be negative")
    if not args.schema.isidentifier():
        parser.error("--schema must be a plain identifier")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    seed.RESULTS.mkdir(parents=True, exist_ok=True)
    if args.child:
        report = run_backend(args.child, args)
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    started = time.perf_counter()
    load_before = machine()["load"]
    reports = run_children(args)
    command = "python bench/api_list.py " + " ".join(argv if argv is not None else sys.argv[1:])
    host = machine()
    # Other work on the machine skews absolute numbers (interleaving protects the ratios).
    host["load"] = f"{load_before} before, {host['load']} after (1, 5, 15 min)"
    text = render_markdown(reports, host, command.strip())
    output = seed.RESULTS / "api_list.md"
    output.write_text(text)
    print(text)
    log(f"total {time.perf_counter() - started:.0f} s; written to {output}")
    return 0 if all("error" not in report for report in reports) else 1


if __name__ == "__main__":
    raise SystemExit(main())
