"""Instruments for the benchmark: SQL recorder, query plans, profile summary, percentiles."""

from __future__ import annotations

import cProfile
import math
import pstats
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

# Frames worth naming when we say who sent a query (the rest is plumbing).
CALLER_MARKERS = ("flask_appbuilder/", "/app/", "/bench/", "flask_jwt_extended/")
CALLER_SKIP = ("/bench/probes.py", "/bench/api_list.py", "/bench/tuned.py")


@dataclass
class Statement:
    sql: str
    parameters: Any
    callers: list[str]
    seconds: float = 0.0

    @property
    def caller(self) -> str:
        """Who sent it: the innermost named frame, then the function names above it."""
        if not self.callers:
            return ""
        names = [self.callers[0]] + [name.rsplit(":", 1)[-1] for name in self.callers[1:]]
        return " ← ".join(names)

    @property
    def kind(self) -> str:
        """A short name for what the query is for, read from the SQL and its caller."""
        text = self.sql.lower()
        chain = " ".join(self.callers)
        if "ab_" in text:
            if "bench/handwritten" in chain:
                return "security: permission + SUPERADMIN check (one query)"
            if "app/api/access.py" in chain:
                if "ab_role.name" in text:
                    return "security: does the Public role hold it? (one query)"
                return "security: do the user's roles hold it? (one query)"
            if "load_user" in chain and "ab_user_role" in text:
                return "security: load user from JWT, with its roles"
            if "get_public_permissions" in chain.split(" ")[0]:
                return "security: Public role's permissions (anonymous access check)"
            if "get_public_role" in chain or "is_item_public" in chain:
                return "security: Public role (anonymous access check)"
            if "load_user" in chain:
                return "security: load user from JWT"
            if "ab_group" in text and "ab_user_group" in text:
                return "security: user's groups (lazy load)"
            if "ab_user_role" in text and "exists" not in text:
                return "security: user's roles (lazy load)"
            if "permission" in text and "ab_role.id in" in text:
                return "security: permission check (exist_permission_on_roles)"
            return "security: other"
        if text.lstrip().startswith("select count("):
            return "count"
        if "from policy" in text:
            return "page"
        return "other"


@dataclass
class QueryRecorder:
    """Collects every statement sent to the database while active (before_cursor_execute)."""

    engine: Engine
    with_callers: bool = True
    statements: list[Statement] = field(default_factory=list)
    _started: dict[int, float] = field(default_factory=dict)

    def __enter__(self) -> QueryRecorder:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def clear(self) -> None:
        self.statements.clear()

    def _before(self, _conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        callers = _callers() if self.with_callers else []
        self.statements.append(Statement(statement, parameters, callers))
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, _conn: Any, cursor: Any, *_: Any) -> None:
        started = self._started.pop(id(cursor), None)
        if started is not None and self.statements:
            self.statements[-1].seconds = time.perf_counter() - started


def _callers(limit: int = 4) -> list[str]:
    frame = sys._getframe(2)
    names: list[str] = []
    while frame is not None and len(names) < limit:
        filename = frame.f_code.co_filename.replace("\\", "/")
        if any(marker in filename for marker in CALLER_MARKERS) and not filename.endswith(
            CALLER_SKIP
        ):
            short = filename.split("site-packages/")[-1].split("/main/")[-1]
            names.append(f"{short}:{frame.f_code.co_name}")
        frame = frame.f_back
    return names


def explain(engine: Engine, statement: Statement) -> list[str]:
    """The plan the database chooses for this exact statement and parameters."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            prefix = "EXPLAIN (ANALYZE, BUFFERS) "
            return [row[0] for row in _run(conn, prefix + statement.sql, statement.parameters)]
        rows = _run(conn, "EXPLAIN QUERY PLAN " + statement.sql, statement.parameters)
        return [row[-1] for row in rows]


def _run(conn: Any, sql: str, parameters: Any) -> Any:
    # Statements compiled with literal values carry no parameters at all.
    if parameters is None:
        return conn.exec_driver_sql(sql)
    return conn.exec_driver_sql(sql, parameters)


def time_statement(engine: Engine, statement: Statement, repeat: int = 15) -> float:
    """Median seconds to run one statement and fetch its rows, outside any web request."""
    samples = []
    with engine.connect() as conn:
        for _ in range(repeat):
            started = time.perf_counter()
            _run(conn, statement.sql, statement.parameters).fetchall()
            samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def without_index(engine: Engine, statement: Statement, index: str, repeat: int) -> dict[str, Any]:
    """Time and plan of a statement with one index dropped inside a rolled-back transaction.

    Shows what an index buys without keeping two databases. PostgreSQL and SQLite
    both roll DDL back; SQLite goes through its own connection because Python's
    sqlite3 module would otherwise commit the DROP INDEX at once.
    """
    if not index.replace("_", "").isalnum():
        raise ValueError(f"not an index name: {index!r}")
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            transaction = conn.begin()
            try:
                conn.exec_driver_sql(f"DROP INDEX {index}")
                return _timed_plan(
                    lambda sql: _run(conn, sql, statement.parameters), statement, repeat, True
                )
            finally:
                transaction.rollback()
    import sqlite3

    raw = sqlite3.connect(engine.url.database, isolation_level=None)
    try:
        raw.execute("BEGIN")
        raw.execute(f"DROP INDEX {index}")
        try:
            return _timed_plan(
                lambda sql: raw.execute(sql, statement.parameters or ()), statement, repeat, False
            )
        finally:
            raw.execute("ROLLBACK")
    finally:
        raw.close()


def _timed_plan(
    run: Callable[[str], Any], statement: Statement, repeat: int, postgresql: bool
) -> dict[str, Any]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run(statement.sql).fetchall()
        samples.append(time.perf_counter() - started)
    if postgresql:
        plan = [row[0] for row in run("EXPLAIN (ANALYZE, BUFFERS) " + statement.sql).fetchall()]
    else:
        plan = [row[-1] for row in run("EXPLAIN QUERY PLAN " + statement.sql).fetchall()]
    return {"db_ms": round(1000 * statistics.median(samples), 2), "plan": plan}


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the value at or below which `fraction` of samples lie."""
    ordered = sorted(samples)
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[rank - 1]


@contextmanager
def profiled() -> Iterator[cProfile.Profile]:
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield profile
    finally:
        profile.disable()


def package_of(filename: str, function: str) -> str:
    """Group profile entries by the library that spends the time."""
    if filename == "~":  # C functions: name the database drivers, lump the rest
        if "sqlite3" in function or "psycopg" in function:
            return "database driver (C)"
        return "builtins (C)"
    path = filename.replace("\\", "/")
    if "site-packages/" in path:
        package = path.split("site-packages/")[1].split("/")[0]
        return package.removesuffix(".py")
    if "/main/app/" in path:
        return "app (ours)"
    if "/bench/" in path:
        return "bench"
    return "python stdlib"


def self_time_by_package(profile: cProfile.Profile, requests: int) -> dict[str, float]:
    """Milliseconds per request spent in each package's own code (cProfile tottime)."""
    totals: dict[str, float] = defaultdict(float)
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in stats.items():
        totals[package_of(filename, function)] += tottime
    per_request = {name: 1000 * value / requests for name, value in totals.items()}
    return dict(sorted(per_request.items(), key=lambda item: -item[1]))


def cumulative_hotspots(
    profile: cProfile.Profile,
    requests: int,
    keep: Callable[[str, str], bool],
    limit: int = 20,
) -> list[tuple[str, float]]:
    """Functions (kept by `keep(filename, name)`) with the most cumulative ms per request."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    rows = []
    for (filename, line, function), (_cc, _nc, _tt, cumtime, _callers) in stats.items():
        if keep(filename, function):
            short = filename.replace("\\", "/").split("site-packages/")[-1].split("/main/")[-1]
            rows.append((f"{short}:{line}:{function}", 1000 * cumtime / requests))
    rows.sort(key=lambda row: -row[1])
    return rows[:limit]
