"""Concurrent API clients against `gunicorn -c gunicorn.conf.py`: FAB next to hand-written.

Usage:
    python bench/load.py                                  # 1, 10, 50 clients, the conf's settings
    python bench/load.py --clients 50 --settings conf,w3,w4,w2t4 --rounds 2 --duration 20
    python bench/load.py --profile 400                    # where the CPU goes (no server)
    python bench/load.py --help

What it does, on loopback only (127.0.0.1, a free port):

1. Seeds PostgreSQL (bench/seed.py: 100,000 policies of one agency) in a child
   process, which also hands back the benchmark user's password and samples of ids.
2. For each server setting (``conf``: gunicorn.conf.py as it is; ``w3``: 3 workers;
   ``w2t4``: 2 workers of 4 threads each, gunicorn's gthread worker), starts
   ``gunicorn -c gunicorn.conf.py --pythonpath bench load_app:app`` (the product's app
   plus bench/handwritten.py's endpoints), logs in through the API for a JWT, checks
   that FAB and hand-written give the same bodies, then for each number of clients and
   each target (``fab``: /api/v1/policy/, ``hand``: /bench/policy/) runs one point.
3. A point: N client threads, each with its own keep-alive HTTP connection (reopened
   when the server closes it, as sync workers do), sending requests back to back in
   the mix (list 50 %, read 35 %, create 15 % by default) for --warmup then --duration
   seconds, or until --max-requests. Only requests started after the warm-up count.
   Recorded: throughput, p50/p95/p99/max per operation and overall, non-2xx answers,
   and the CPU seconds spent in that window by the client (this process), by gunicorn
   (master and workers, /proc) and by PostgreSQL's backends serving it (found by
   application_name in pg_stat_activity), plus the load average before and after.
4. Rows created are deleted after each point, so every point sees the same table.

Settings and targets are interleaved (targets alternate order per round, settings
rotate per round), so a busy machine hits them alike. The rate limit of the API
(RATELIMIT_API, 600/minute per caller) would answer 429 within seconds: the server
is started with RATELIMIT_API=1000000/minute, and says so in the report.

Results: bench/results/load.json and bench/results/load.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import itertools
import json
import math
import os
import platform
import random
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
HOST = "127.0.0.1"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/load_bench"
APPLICATION_NAME = "monassurance-load"
RATE_LIMIT = "1000000/minute"
# bare: bench/bare.py, a Flask + SQLAlchemy app of its own (no FAB), served by its own gunicorn
PATHS = {"fab": "/api/v1/policy/", "hand": "/bench/policy/", "bare": "/api/v1/policy/"}
BARE_OPERATIONS = ("list", "create")  # what bench/bare.py answers
OPERATIONS = ("list", "read", "create")
DEFAULT_MIX = "list=50,read=35,create=15"
LIST_PAGES = 10  # list requests ask for one of the first pages, page size 20
CREATED_PREFIX = "LOAD-"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- pure parts (tests/test_bench_load.py) ---------------------------------------------------


def parse_mix(text: str) -> dict[str, int]:
    """``"list=50,read=35,create=15"`` -> weights per operation (every one known, sum > 0)."""
    weights: dict[str, int] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in OPERATIONS:
            raise ValueError(f"unknown operation {name!r} (known: {', '.join(OPERATIONS)})")
        if name in weights:
            raise ValueError(f"{name} given twice")
        try:
            weight = int(value)
        except ValueError:
            raise ValueError(f"{name}: weight must be an integer, got {value!r}") from None
        if weight < 0:
            raise ValueError(f"{name}: weight cannot be negative")
        weights[name] = weight
    if sum(weights.values()) <= 0:
        raise ValueError("the mix needs at least one positive weight")
    return weights


@dataclass(frozen=True)
class Mix:
    """Draws operations with the given weights; a deterministic sequence for a given rng."""

    weights: dict[str, int]

    def __post_init__(self) -> None:
        cumulative = list(itertools.accumulate(self.weights.values()))
        object.__setattr__(self, "_names", list(self.weights))
        object.__setattr__(self, "_cumulative", cumulative)

    def choose(self, rng: random.Random) -> str:
        point = rng.randrange(self._cumulative[-1])  # type: ignore[attr-defined]
        for name, bound in zip(self._names, self._cumulative, strict=True):  # type: ignore[attr-defined]
            if point < bound:
                return name
        raise AssertionError("unreachable")


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least ``fraction`` of them at or
    below it (p50 of 1..100 is 50, p99 is 99). NaN when there are no samples."""
    if not 0 < fraction <= 1:
        raise ValueError("fraction must be in (0, 1]")
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(math.ceil(fraction * len(ordered)), 1) - 1]


def summarise(seconds: Sequence[float], window: float) -> dict[str, float]:
    """Count, throughput over ``window`` seconds, and latency percentiles in milliseconds."""
    ms = [value * 1000 for value in seconds]
    return {
        "n": len(ms),
        "rps": round(len(ms) / window, 1) if window > 0 else math.nan,
        "p50": round(percentile(ms, 0.50), 1),
        "p95": round(percentile(ms, 0.95), 1),
        "p99": round(percentile(ms, 0.99), 1),
        "max": round(max(ms), 1) if ms else math.nan,
    }


@dataclass(frozen=True)
class Setting:
    """A server setting: ``conf`` (gunicorn.conf.py as it is) or ``w<workers>[t<threads>]``."""

    name: str
    workers: int | None = None
    threads: int | None = None

    @classmethod
    def parse(cls, text: str) -> Setting:
        text = text.strip()
        if text == "conf":
            return cls("conf")
        if not text.startswith("w"):
            raise ValueError(f"setting {text!r}: use conf, w<N> or w<N>t<M>")
        workers_text, _, threads_text = text[1:].partition("t")
        try:
            workers = int(workers_text)
            threads = int(threads_text) if threads_text else None
        except ValueError:
            raise ValueError(f"setting {text!r}: use conf, w<N> or w<N>t<M>") from None
        if workers < 1 or (threads is not None and threads < 1):
            raise ValueError(f"setting {text!r}: counts must be at least 1")
        return cls(text, workers, threads)

    def arguments(self) -> list[str]:
        """gunicorn command-line options (they override gunicorn.conf.py and its environment)."""
        options = []
        if self.workers is not None:
            options += ["--workers", str(self.workers)]
        if self.threads is not None:
            options += ["--threads", str(self.threads)]
        return options


def schedule(
    settings: Sequence[str], rounds: int, clients: Sequence[int], targets: Sequence[str]
) -> Iterator[tuple[int, str, list[tuple[int, str]]]]:
    """(round, setting, [(clients, target), ...]) in interleaved order.

    Settings rotate by one each round, targets alternate their order each round, so
    no setting or target is always first (or last) while the machine's load drifts.
    """
    for round_index in range(rounds):
        shift = round_index % len(settings)
        ordered = list(settings[shift:]) + list(settings[:shift])
        pair = list(targets) if round_index % 2 == 0 else list(reversed(targets))
        for setting in ordered:
            yield round_index, setting, [(count, target) for count in clients for target in pair]


# --- measuring CPU ------------------------------------------------------------------------


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    # Fields after the command: state is [0], utime [11], stime [12].
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(item) for item in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found


def cpu_by_pid(pids: Sequence[int]) -> dict[int, float]:
    return {pid: process_cpu(pid) for pid in pids}


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two snapshots; a process new in ``after`` counts from zero."""
    return sum(value - before.get(pid, 0.0) for pid, value in after.items())


def load_average() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


# --- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def database_url(base: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}application_name={APPLICATION_NAME}"


def server_environment(args: argparse.Namespace, port: int) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("WEB_CONCURRENCY", "GUNICORN_CMD_ARGS", "PROMETHEUS_MULTIPROC_DIR")
    }
    env.update(
        HOST=HOST,
        PORT=str(port),
        DATABASE_URL=database_url(args.postgres_url),
        DATA_DIR=str(RESULTS / "data-load"),
        RATELIMIT_API=RATE_LIMIT,
        JWT_ACCESS_TOKEN_MINUTES="120",
        LOG_LEVEL=args.log_level,
        # One key for the product and bench/bare.py, so the product's tokens verify in both.
        SECRET_KEY=args.secret_key,
    )
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    else:
        env.pop("REDIS_URL", None)
    return env


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Any

    def pids(self) -> list[int]:
        return [self.process.pid, *children(self.process.pid)]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def start_server(
    setting: Setting,
    args: argparse.Namespace,
    app: str = "load_app:app",
    extra_env: dict[str, str] | None = None,
) -> Server:
    port = free_port()
    log = (RESULTS / "load-server.log").open("ab")
    command = [
        str(Path(sys.executable)),
        "-m",
        "gunicorn",
        "-c",
        "gunicorn.conf.py",
        *setting.arguments(),
        "--pythonpath",
        "bench",
        app,
    ]
    env = {**server_environment(args, port), **(extra_env or {})}
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        command, cwd=ROOT, env=env, stdout=log, stderr=log
    )
    server = Server(process, port, log)
    deadline = time.monotonic() + args.start_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited ({process.returncode}): see {log.name}")
        try:
            status, _body = request_once(port, "GET", "/health", None, {})
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise SystemExit(f"gunicorn did not answer within {args.start_timeout} s")


def request_once(
    port: int, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]
) -> tuple[int, Any]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        payload = json.dumps(body) if body is not None else None
        sent = {**headers, "Content-Type": "application/json"} if payload else headers
        conn.request(method, path, payload, sent)
        response = conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data[:1] in (b"{", b"[") else data
    finally:
        conn.close()


def login(port: int, prepared: dict[str, Any]) -> dict[str, str]:
    status, body = request_once(
        port,
        "POST",
        "/api/v1/security/login",
        {
            "username": prepared["username"],
            "password": prepared["password"],
            "provider": "db",
            "refresh": False,
        },
        {},
    )
    if status != 200:
        raise SystemExit(f"login answered {status}: {body!r}")
    return {"Authorization": f"Bearer {body['access_token']}"}


# --- the requests ---------------------------------------------------------------------------


@dataclass
class Plan:
    """What each operation sends, drawn from the prepared ids."""

    prepared: dict[str, Any]
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))

    def request(
        self, operation: str, target: str, rng: random.Random, serial: str
    ) -> tuple[str, str, bytes | None]:
        base = PATHS[target]
        if operation == "list":
            page = rng.randrange(LIST_PAGES)
            query = urllib.parse.quote(f"(page:{page},page_size:20)", safe="(),:")
            return "GET", f"{base}?q={query}", None
        if operation == "read":
            return "GET", f"{base}{rng.choice(self.prepared['policy_ids'])}", None
        return "POST", base, json.dumps(self.new_policy(rng, serial)).encode()

    def new_policy(self, rng: random.Random, serial: str) -> dict[str, Any]:
        effective = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(180))
        return {
            "number": f"{CREATED_PREFIX}{self.run_id}-{serial}",
            "client_id": rng.choice(self.prepared["client_ids"]),
            "company_id": rng.choice(self.prepared["company_ids"]),
            "line_of_business": rng.choice(("auto", "home", "health")),
            "status": "active",
            "effective_date": effective.isoformat(),
            "expiry_date": (effective + dt.timedelta(days=365)).isoformat(),
            "premium": f"{rng.randrange(5_000, 500_000) / 100:.2f}",
            "currency": "EUR",
            "payment_frequency": "monthly",
        }


@dataclass
class Sample:
    operation: str
    status: int
    started: float
    seconds: float


def client_loop(
    index: int,
    port: int,
    plan: Plan,
    mix: Mix,
    target: str,
    headers: dict[str, str],
    stop_at: float,
    budget: Iterator[int],
    out: list[Sample],
    start: threading.Barrier,
) -> None:
    rng = random.Random(f"{plan.run_id}-{target}-{index}")
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    json_headers = {**headers, "Content-Type": "application/json"}
    start.wait()
    serial = 0
    while time.perf_counter() < stop_at and next(budget) >= 0:
        operation = mix.choose(rng)
        serial += 1
        method, path, body = plan.request(operation, target, rng, f"{target}{index}-{serial}")
        begun = time.perf_counter()
        try:
            conn.request(method, path, body, json_headers if body else headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0  # the connection failed: counted as an error, then reopened
            conn.close()
        out.append(Sample(operation, status, begun, time.perf_counter() - begun))
    conn.close()


def countdown(limit: int) -> Iterator[int]:
    """limit-1, ..., 0, then -1 forever: next() on it is atomic under the GIL."""
    yield from range(limit - 1, -1, -1)
    while True:
        yield -1


class Backends:
    """CPU of PostgreSQL's backends that serve our server (by application_name)."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)

    def pids(self) -> list[int]:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (APPLICATION_NAME,)
        ).fetchall()
        return [row[0] for row in rows]

    def delete_created(self) -> int:
        cursor = self.conn.execute(
            "DELETE FROM policy WHERE number LIKE %s", (CREATED_PREFIX + "%",)
        )
        return cursor.rowcount

    def close(self) -> None:
        self.conn.close()


def run_point(
    server: Server,
    backends: Backends,
    plan: Plan,
    mix: Mix,
    target: str,
    clients: int,
    headers: dict[str, str],
    args: argparse.Namespace,
) -> dict[str, Any]:
    load_before = load_average()
    samples: list[Sample] = []
    start = threading.Barrier(clients + 1)
    begin = time.perf_counter() + 0.2
    measure_from = begin + args.warmup
    stop_at = measure_from + args.duration
    budget = countdown(args.max_requests)
    threads = [
        threading.Thread(
            target=client_loop,
            args=(index, server.port, plan, mix, target, headers, stop_at, budget, samples, start),
            daemon=True,
        )
        for index in range(clients)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    time.sleep(max(measure_from - time.perf_counter(), 0))
    # CPU from here to the end of the window: the warm-up's is not counted.
    client_before = resource.getrusage(resource.RUSAGE_SELF)
    server_before = cpu_by_pid(server.pids())
    database_before = cpu_by_pid(backends.pids())
    window_start = time.perf_counter()
    for thread in threads:
        thread.join()
    window = time.perf_counter() - window_start
    client_after = resource.getrusage(resource.RUSAGE_SELF)
    server_spent = cpu_spent(server_before, cpu_by_pid(server.pids()))
    database_spent = cpu_spent(database_before, cpu_by_pid(backends.pids()))
    client_spent = (client_after.ru_utime - client_before.ru_utime) + (
        client_after.ru_stime - client_before.ru_stime
    )
    counted = [item for item in samples if item.started >= measure_from]
    # Throughput over the time the counted requests took (the last in flight end after stop_at).
    span = max(
        (max(item.started + item.seconds for item in counted) - measure_from) if counted else 0,
        1e-9,
    )
    errors: dict[str, int] = {}
    for item in counted:
        if not 200 <= item.status < 300:
            errors[str(item.status)] = errors.get(str(item.status), 0) + 1
    requests = len(counted)
    result = {
        "target": target,
        "clients": clients,
        "all": summarise([item.seconds for item in counted], span),
        "by_operation": {
            name: summarise([item.seconds for item in counted if item.operation == name], span)
            for name in OPERATIONS
            if any(item.operation == name for item in counted)
        },
        "errors": errors,
        "seconds": round(span, 2),
        "cpu_ms_per_request": {
            "server": round(1000 * server_spent / requests, 2) if requests else None,
            "database": round(1000 * database_spent / requests, 2) if requests else None,
            "client": round(1000 * client_spent / requests, 2) if requests else None,
        },
        "cpu_cores": {
            "server": round(server_spent / window, 2),
            "database": round(database_spent / window, 2),
            "client": round(client_spent / window, 2),
        },
        "load_before": load_before,
        "load_after": load_average(),
        "deleted": backends.delete_created(),
    }
    return result


# --- checks and preparation ----------------------------------------------------------------


def request_raw(
    port: int, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]
) -> tuple[int, bytes]:
    """The status and the body's bytes as sent (for the byte-for-byte comparison)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        payload = json.dumps(body) if body is not None else None
        sent = {**headers, "Content-Type": "application/json"} if payload else headers
        conn.request(method, path, payload, sent)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def list_metadata(port: int, headers: dict[str, str]) -> dict[str, Any]:
    """The list answer's fixed keys (labels, descriptions, titles): bench/bare.py's text."""
    status, body = request_once(port, "GET", PATHS["fab"], None, headers)
    if status != 200:
        raise SystemExit(f"fab list answered {status}: {body!r}")
    return {key: value for key, value in body.items() if key not in ("count", "ids", "result")}


def check_bare(ports: dict[str, int], headers: dict[str, str], plan: Plan) -> dict[str, bool]:
    """FAB and bench/bare.py send the same bytes: every list page of the mix, and a create
    (its id and number aside, which differ by construction)."""
    same = {}
    answers: dict[str, list[bytes]] = {"fab": [], "bare": []}
    for target in answers:
        for page in range(LIST_PAGES):
            path = f"{PATHS[target]}?q=" + urllib.parse.quote(
                f"(page:{page},page_size:20)", safe="(),:"
            )
            status, data = request_raw(ports[target], "GET", path, None, headers)
            if status != 200:
                raise SystemExit(f"{target} list answered {status}: {data[:300]!r}")
            answers[target].append(data)
    same["list"] = answers["fab"] == answers["bare"]
    body = plan.new_policy(random.Random(0), "check")
    created = []
    for target in answers:
        number = f"{body['number']}-{target}"
        status, data = request_raw(
            ports[target], "POST", PATHS[target], {**body, "number": number}, headers
        )
        if status != 201:
            raise SystemExit(f"{target} create answered {status}: {data[:300]!r}")
        created_id = json.loads(data)["id"]
        data = data.replace(f'"id":{created_id},'.encode(), b'"id":0,', 1)
        created.append(data.replace(json.dumps(number).encode(), b'"N"', 1))
    same["create"] = created[0] == created[1]
    for name, equal in same.items():
        if not equal:
            log(f"  WARNING: FAB and bare {name} bodies differ")
    return same


def check_bodies(port: int, headers: dict[str, str], plan: Plan) -> dict[str, bool]:
    """FAB and hand-written answer the same bodies (creates: all but the number and id)."""
    rng = random.Random(0)
    same = {}
    for operation in ("list", "read"):
        answers = []
        for target in ("fab", "hand"):
            method, path, _body = plan.request(operation, target, random.Random(1), "check")
            status, body = request_once(port, method, path, None, headers)
            if status != 200:
                raise SystemExit(f"{target} {operation} answered {status}: {body!r}")
            answers.append(body)
        same[operation] = answers[0] == answers[1]
    created = []
    body = plan.new_policy(rng, "check")
    for target in ("fab", "hand"):
        sent = {**body, "number": f"{body['number']}-{target}"}
        status, answer = request_once(port, "POST", PATHS[target], sent, headers)
        if status != 201:
            raise SystemExit(f"{target} create answered {status}: {answer!r}")
        answer["result"].pop("number")
        answer.pop("id")
        created.append(answer)
    same["create"] = created[0] == created[1]
    for name, equal in same.items():
        if not equal:
            log(f"  WARNING: FAB and hand-written {name} bodies differ")
    return same


def ensure_database(url: str) -> None:
    """Create the benchmark's database when it is missing (``make bench-bare`` as shipped)."""
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    server = urllib.parse.urlunsplit(parts._replace(path="/postgres", query=""))
    with psycopg.connect(server, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            log(f"creating database {name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    """Seed in a child process (the client's process never imports the app)."""
    ensure_database(args.postgres_url)
    command = [sys.executable, str(Path(__file__).resolve()), "--prepare-only", *prepare_args(args)]
    done = subprocess.run(  # noqa: S603 (our own interpreter and script)
        command, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"seeding failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def prepare_args(args: argparse.Namespace) -> list[str]:
    return ["--size", str(args.size), "--postgres-url", args.postgres_url]


def prepare_child(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(BENCH_DIR))
    import seed
    from sqlalchemy import text

    os.environ["DATA_DIR"] = str(RESULTS / "data-load")
    seed.prepare_environment(args.postgres_url)
    app = seed.build_app()
    with app.app_context():
        from sqlalchemy import inspect

        from app.extensions import db

        # A run stopped midway leaves its creations: remove them before counting
        # (a new database has no table yet: seeding creates it).
        if inspect(db.engine).has_table("policy"):
            db.session.execute(
                text("DELETE FROM policy WHERE number LIKE :prefix"),
                {"prefix": CREATED_PREFIX + "%"},
            )
            db.session.commit()
    seeded = seed.seed(app, args.size, quiet=True)
    with app.app_context():
        rng = random.Random(42)

        def ids(table: str) -> list[int]:
            rows = db.session.execute(
                text(f"SELECT id FROM {table} WHERE organisation_id = :org"),  # noqa: S608
                {"org": seeded.organisation_id},
            ).scalars()
            return list(rows)

        policies, clients, companies = ids("policy"), ids("client"), ids("company")
    return {
        "username": seeded.username,
        "password": seeded.password,
        "organisation_id": seeded.organisation_id,
        "policies": len(policies),
        "policy_ids": rng.sample(policies, min(2000, len(policies))),
        "client_ids": rng.sample(clients, min(500, len(clients))),
        "company_ids": companies,
    }


# --- where the CPU goes: one process, no server -------------------------------------------


def profile(args: argparse.Namespace) -> str:
    """CPU per operation and its shares by package, FAB and hand-written, in this process.

    The app is built here with the server's environment and called through Flask's
    test client: no network, no gunicorn, only the CPU of the request's own code
    (time.process_time; PostgreSQL's share is measured by the load points).
    """
    import cProfile
    import pstats

    prepared = prepare(args)
    os.environ.update(server_environment(args, free_port()))
    sys.path.insert(0, str(BENCH_DIR))
    import seed
    from handwritten import create_blueprint

    app = seed.build_app()
    app.register_blueprint(create_blueprint(app, rate_limited=True))
    client = app.test_client()
    answer = client.post(
        "/api/v1/security/login",
        json={
            "username": prepared["username"],
            "password": prepared["password"],
            "provider": "db",
            "refresh": False,
        },
    )
    headers = {"Authorization": f"Bearer {answer.json['access_token']}"}
    plan, mix = Plan(prepared), Mix(parse_mix(args.mix))
    batch = itertools.count()

    def send(target: str, count: int, profiler: Any = None) -> dict[str, list[float]]:
        number = next(batch)
        rng = random.Random(f"{target}-{number}")
        spent: dict[str, list[float]] = {name: [] for name in OPERATIONS}
        for index in range(count):
            operation = mix.choose(rng)
            method, path, body = plan.request(operation, target, rng, f"{target}{number}-{index}")
            sent = {**headers, "Content-Type": "application/json"} if body else headers
            begun = time.process_time()
            if profiler is not None:
                profiler.enable()
            response = client.open(path, method=method, data=body, headers=sent)
            if profiler is not None:
                profiler.disable()
            spent[operation].append(time.process_time() - begun)
            if response.status_code >= 300:
                raise SystemExit(f"{method} {path}: {response.status_code}")
        return spent

    lines = [f"# Where the CPU goes: python bench/load.py {' '.join(args.argv)}", ""]
    lines += [
        f"{args.profile} requests per target, mix {parse_mix(args.mix)}, load average "
        f"{load_average()}. CPU ms per request (median per operation, mean of the mix), "
        "no profiler:",
        "",
    ]
    lines += ["| target | " + " | ".join(OPERATIONS) + " | mix |", "|---|---:|---:|---:|---:|"]
    for target in ("fab", "hand"):
        send(target, 50)  # warm-up
    for target in ("fab", "hand"):
        spent = send(target, args.profile)
        medians = [
            f"{1000 * statistics.median(values):.1f}" if values else "–"
            for values in spent.values()
        ]
        every = [value for values in spent.values() for value in values]
        lines.append(
            f"| {target} | " + " | ".join(medians) + f" | {1000 * statistics.fmean(every):.1f} |"
        )
    for target in ("fab", "hand"):
        profiler = cProfile.Profile(time.process_time)
        send(target, args.profile, profiler)
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        total = sum(entry[2] for entry in stats.values()) or 1e-9
        packages: dict[str, float] = {}
        for (filename, _line, function), entry in stats.items():
            name = _package(filename, function)
            packages[name] = packages.get(name, 0.0) + entry[2]
        lines += ["", f"**{target}**: own CPU by package (share of the profiled CPU):", ""]
        for name, value in sorted(packages.items(), key=lambda item: -item[1])[:15]:
            lines.append(f"- {name}: {100 * value / total:.1f} %")
        lines += ["", f"**{target}**: functions by cumulative CPU (share):", ""]
        rows = sorted(((entry[3], key) for key, entry in stats.items()), key=lambda row: -row[0])
        for value, (filename, line, function) in rows[: args.profile_rows]:
            short = filename.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
            lines.append(f"- {100 * value / total:.1f} % {short}:{line} {function}")
    with contextlib.suppress(Exception):
        Backends(args.postgres_url).delete_created()
    return "\n".join(lines) + "\n"


def _package(filename: str, function: str) -> str:
    if filename == "~":
        return "C: database driver" if "psycopg" in function else "C: builtins"
    if "site-packages/" in filename:
        return filename.split("site-packages/")[1].split("/")[0].removesuffix(".py")
    if filename.startswith(str(ROOT / "app")):
        return "app (ours)"
    if filename.startswith(str(BENCH_DIR)):
        return "bench (hand-written)"
    return "python stdlib"


# --- the run ------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    log(f"seeding {args.size:,} policies (skipped when already there)")
    prepared = prepare(args)
    mix = Mix(parse_mix(args.mix))
    backends = Backends(args.postgres_url)
    backends.delete_created()
    points: list[dict[str, Any]] = []
    checks: dict[str, dict[str, bool]] = {}
    try:
        for round_index, name, items in schedule(
            args.settings, args.rounds, args.clients, args.targets
        ):
            setting = Setting.parse(name)
            log(f"round {round_index + 1}, {name}: starting gunicorn")
            server = start_server(setting, args)
            servers = {"fab": server, "hand": server}
            try:
                headers = login(server.port, prepared)
                plan = Plan(prepared)
                if "hand" in args.targets:
                    checks[name] = check_bodies(server.port, headers, plan)
                if "bare" in args.targets:
                    metadata = RESULTS / "bare-list-metadata.json"
                    metadata.write_text(json.dumps(list_metadata(server.port, headers)))
                    servers["bare"] = start_server(
                        setting, args, "bare_app:app", {"BARE_LIST_METADATA": str(metadata)}
                    )
                    ports = {target: item.port for target, item in servers.items()}
                    checks[f"{name} bare"] = check_bare(ports, headers, plan)
                backends.delete_created()
                for clients, target in items:
                    point = run_point(
                        servers[target], backends, plan, mix, target, clients, headers, args
                    )
                    point.update(setting=name, round=round_index + 1)
                    points.append(point)
                    overall = point["all"]
                    log(
                        f"  {target:4} {clients:3} clients: {overall['rps']:6.1f} req/s, "
                        f"p50 {overall['p50']:7.1f} p95 {overall['p95']:7.1f} "
                        f"p99 {overall['p99']:7.1f} ms, errors {point['errors'] or 0}, "
                        f"cpu/req server {point['cpu_ms_per_request']['server']} "
                        f"db {point['cpu_ms_per_request']['database']} "
                        f"client {point['cpu_ms_per_request']['client']} ms, "
                        f"load {point['load_before']} -> {point['load_after']}"
                    )
            finally:
                for item in {id(item): item for item in servers.values()}.values():
                    item.stop()
    finally:
        backends.close()
    return {
        "command": "python bench/load.py " + " ".join(args.argv),
        "machine": machine(),
        "size": prepared["policies"],
        "mix": parse_mix(args.mix),
        "rate_limit": RATE_LIMIT,
        "redis": bool(args.redis_url),
        "duration": args.duration,
        "warmup": args.warmup,
        "checks": checks,
        "points": points,
        "seconds": round(time.perf_counter() - started),
    }


def machine() -> dict[str, str]:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": f"{os.cpu_count()} × {cpu}",
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def render_markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Load: {report['command']}",
        "",
        f"Machine: {report['machine']['cpu']}, Python {report['machine']['python']}. "
        f"{report['size']:,} policies, mix {report['mix']}, "
        f"{report['warmup']} s warm-up + {report['duration']} s per point, "
        f"RATELIMIT_API={report['rate_limit']}, Redis {'on' if report['redis'] else 'off'}.",
        f"Identical bodies (FAB vs hand-written): {report['checks']}",
        "",
        "| round | setting | target | clients | req/s | p50 | p95 | p99 | max | errors "
        "| CPU ms/req server | db | client | cores server | db | client | load before → after |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for point in report["points"]:
        overall, cpu, cores = point["all"], point["cpu_ms_per_request"], point["cpu_cores"]
        lines.append(
            f"| {point['round']} | {point['setting']} | {point['target']} | {point['clients']} "
            f"| {overall['rps']} | {overall['p50']} | {overall['p95']} | {overall['p99']} "
            f"| {overall['max']} | {point['errors'] or 0} | {cpu['server']} | {cpu['database']} "
            f"| {cpu['client']} | {cores['server']} | {cores['database']} | {cores['client']} "
            f"| {point['load_before']} → {point['load_after']} |"
        )
    lines += ["", *summary_table(report["points"])]
    lines += ["", "Per operation (p50 / p99 ms):", ""]
    for point in report["points"]:
        parts = [
            f"{name} {values['p50']} / {values['p99']} (n={values['n']})"
            for name, values in point["by_operation"].items()
        ]
        lines.append(
            f"- round {point['round']} {point['setting']} {point['target']} "
            f"{point['clients']}: " + ", ".join(parts)
        )
    return "\n".join(lines) + "\n"


def summary(points: Sequence[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    """Per (setting, clients): each target's medians over the rounds, and FAB / hand-written."""
    grouped: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for point in points:
        grouped.setdefault((point["setting"], point["clients"], point["target"]), []).append(point)

    def medians(items: list[dict[str, Any]]) -> dict[str, float]:
        values = {
            key: statistics.median(item["all"][key] for item in items)
            for key in ("rps", "p50", "p95", "p99")
        }
        for part in ("server", "database"):
            values[f"cpu_{part}"] = statistics.median(
                item["cpu_ms_per_request"][part] or 0.0 for item in items
            )
        values["rounds"] = len(items)
        return values

    table: dict[tuple[str, int], dict[str, Any]] = {}
    for (setting, clients, target), items in grouped.items():
        table.setdefault((setting, clients), {})[target] = medians(items)
    for row in table.values():
        if "fab" in row and "hand" in row:
            row["ratio"] = {
                key: round(row["fab"][key] / row["hand"][key], 2) if row["hand"][key] else None
                for key in ("rps", "p50", "p95", "p99", "cpu_server")
            }
        if "fab" in row and "bare" in row:
            fab, bare = row["fab"], row["bare"]
            row["ratio_bare"] = {
                key: round(fab[key] / bare[key], 2) if bare[key] else None
                for key in ("rps", "p50", "p99", "cpu_server")
            }
            both = bare["cpu_server"] + bare["cpu_database"]
            row["ratio_bare"]["cpu_both"] = (
                round((fab["cpu_server"] + fab["cpu_database"]) / both, 2) if both else None
            )
    return table


def summary_table(points: Sequence[dict[str, Any]]) -> list[str]:
    lines = [
        "Medians over the rounds; ratio = FAB / hand-written (throughput: below 1 is slower).",
        "",
        "| setting | clients | FAB req/s | p50 | p95 | p99 | CPU ms/req web + db "
        "| hand req/s | p50 | p95 | p99 | CPU ms/req web + db | ratio req/s | p50 | p99 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (setting, clients), row in sorted(summary(points).items()):
        cells = []
        for target in ("fab", "hand"):
            values = row.get(target)
            if values is None:
                cells += ["–"] * 5
                continue
            cells += [
                f"{values['rps']:.1f}",
                f"{values['p50']:.0f}",
                f"{values['p95']:.0f}",
                f"{values['p99']:.0f}",
                f"{values['cpu_server']:.1f} + {values['cpu_database']:.1f}",
            ]
        ratio = row.get("ratio", {})
        cells += [str(ratio.get(key, "–")) for key in ("rps", "p50", "p99")]
        lines.append(f"| {setting} | {clients} | " + " | ".join(cells) + " |")
    bare_rows = [(key, row) for key, row in sorted(summary(points).items()) if "ratio_bare" in row]
    if bare_rows:
        lines += [
            "",
            "Next to bench/bare.py (ratio = FAB / bare; CPU: below 2 is the goal):",
            "",
            "| setting | clients | FAB req/s | CPU ms/req web + db | bare req/s | CPU ms/req "
            "web + db | ratio req/s | ratio CPU web | ratio CPU web + db | ratio p50 |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for (setting, clients), row in bare_rows:
            fab, bare, ratio = row["fab"], row["bare"], row["ratio_bare"]
            lines.append(
                f"| {setting} | {clients} | {fab['rps']:.1f} "
                f"| {fab['cpu_server']:.1f} + {fab['cpu_database']:.1f} | {bare['rps']:.1f} "
                f"| {bare['cpu_server']:.1f} + {bare['cpu_database']:.1f} | {ratio['rps']} "
                f"| {ratio['cpu_server']} | {ratio['cpu_both']} | {ratio['p50']} |"
            )
    return lines


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", default="1,10,50", help="comma-separated client counts")
    parser.add_argument(
        "--settings",
        default="conf",
        help="comma-separated: conf (gunicorn.conf.py as is), w<N> (N sync workers), "
        "w<N>t<M> (N gthread workers of M threads)",
    )
    parser.add_argument(
        "--targets",
        default="fab,hand",
        help="fab, hand, bare (bench/bare.py, its own app: list and create only)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="repeat the whole schedule")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured per point")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument(
        "--max-requests", type=int, default=20_000, help="requests per point at most"
    )
    parser.add_argument("--mix", default=DEFAULT_MIX, help=f"weights (default {DEFAULT_MIX})")
    parser.add_argument("--size", type=int, default=100_000, help="policies of the agency")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_LOAD_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="a PostgreSQL database of the benchmark's own (env BENCH_LOAD_POSTGRES_URL)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_LOAD_REDIS_URL", ""),
        help="REDIS_URL for the server (rate-limit counters), as in production; empty: memory",
    )
    parser.add_argument("--log-level", default="INFO", help="the server's LOG_LEVEL (INFO)")
    parser.add_argument("--start-timeout", type=float, default=60.0)
    parser.add_argument("--output", default="load", help="bench/results/<name>.json and .md")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        help="instead of the load: N requests per target in this process, CPU and its shares",
    )
    parser.add_argument("--profile-rows", type=int, default=40, help=argparse.SUPPRESS)
    parser.add_argument("--prepare-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        args.clients = [int(item) for item in args.clients.split(",") if item.strip()]
        args.settings = [Setting.parse(item).name for item in args.settings.split(",")]
        parse_mix(args.mix)
    except ValueError as error:
        parser.error(str(error))
    args.targets = [item.strip() for item in args.targets.split(",") if item.strip()]
    if set(args.targets) - set(PATHS) or not args.targets:
        parser.error("--targets: fab, hand, bare")
    if "bare" in args.targets and set(parse_mix(args.mix)) - set(BARE_OPERATIONS):
        weights = parse_mix(args.mix)
        if any(weights[name] for name in weights if name not in BARE_OPERATIONS):
            parser.error("--targets bare: bench/bare.py answers list and create only (--mix)")
    args.secret_key = secrets.token_urlsafe(32)
    if not args.clients or min(args.clients) < 1 or max(args.clients) > 200:
        parser.error("--clients: from 1 to 200 each")
    if not 1 <= args.duration <= 300 or not 0 <= args.warmup <= 60:
        parser.error("--duration: 1 to 300 s; --warmup: 0 to 60 s")
    if not 0 <= args.profile <= 5000:
        parser.error("--profile: 0 to 5,000 requests")
    if args.rounds < 1 or args.max_requests < 1:
        parser.error("--rounds and --max-requests: at least 1")
    for option, url in (("--postgres-url", args.postgres_url), ("--redis-url", args.redis_url)):
        if url and urllib.parse.urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            parser.error(f"{option}: loopback only (127.0.0.1, localhost, ::1)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.prepare_only:
        print(json.dumps(prepare_child(args)))
        return 0
    if args.profile:
        text = profile(args)
        (RESULTS / f"{args.output}-profile.md").write_text(text)
        print(text)
        return 0
    report = run(args)
    (RESULTS / f"{args.output}.json").write_text(json.dumps(report, indent=2))
    text = render_markdown(report)
    (RESULTS / f"{args.output}.md").write_text(text)
    print(text)
    failed = sum(sum(point["errors"].values()) for point in report["points"])
    log(f"total {report['seconds']} s; {failed} errors; bench/results/{args.output}.md")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
