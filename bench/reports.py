"""Benchmark the portfolio report (XLSX, as a job) on PostgreSQL at N policies.

Usage:
    python bench/reports.py                          # 1,000,000 policies (about 4 min)
    python bench/reports.py --size 200000
    BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test python bench/reports.py

In a dedicated PostgreSQL schema (created, then dropped unless --keep): migrate, and
load with COPY the dashboard benchmark's data set (bench/portfolio_schema.py: an agency of N
policies, N/2 clients, 24 insurers, a neighbour agency of N/20 policies). A queued
portfolio-report job is written for the agency, then a fresh child process (so the
loader's memory does not count) builds the app and runs the job as the Huey task
does (app.services.reports.run_tabular_job): policies streamed with a server-side
cursor, xlsxwriter constant memory, the summary from SQL aggregates, the file stored in a
local folder. Measured in the child: wall time of the run; the RSS once the app
was built and the start-up peak; then the peak is reset (/proc/self/clear_refs) and the
peak RSS (VmHWM) of the run itself is read at the end. Checked afterwards: the job
succeeded with one document, progress done == total, and the summary sheet's totals
equal SQL's count and sum.
Results: bench/results/reports-<size>.json and a Markdown summary on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
for folder in (ROOT, BENCH_DIR):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from portfolio_schema import (  # noqa: E402
    DEFAULT_POSTGRES_URL,
    fresh_schema,
    load,
    migrated_app,
    schema_connection,
    schema_url,
)

DEFAULT_SCHEMA = "bench_reports"
GOAL_RSS_MB = 150


def rss_mb(field: str) -> float:
    """VmHWM (peak) or VmRSS (now) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def child(url: str, job_id: int) -> int:
    """Run the job in this (fresh) process; print what was measured as JSON."""
    os.environ["DATABASE_URL"] = url
    from portfolio_schema import build_app

    app = build_app(url)
    from app.extensions import db
    from app.models import Document, Job
    from app.services.reports import run_tabular_job

    with app.app_context():
        db.session.execute(db.text("SELECT 1"))
        startup_peak = rss_mb("VmHWM")
        before = rss_mb("VmRSS")
        # Reset the peak (Linux >= 4.0): what follows is the report's own high-water mark,
        # not create_app's start-up spike.
        Path("/proc/self/clear_refs").write_text("5")
        started = time.perf_counter()
        run_tabular_job(job_id)
        seconds = time.perf_counter() - started
        job = db.session.get(Job, job_id)
        document = db.session.get(Document, job.document_id) if job.document_id else None
        print(
            json.dumps(
                {
                    "seconds": round(seconds, 1),
                    "rss_after_app_mb": round(before, 1),
                    "startup_peak_rss_mb": round(startup_peak, 1),
                    "peak_rss_mb": round(rss_mb("VmHWM"), 1),
                    "status": job.status.value,
                    "error": job.error,
                    "progress": [job.progress_done, job.progress_total],
                    "document_id": job.document_id,
                    "file_name": document.file_name if document else None,
                    "size_mb": round(document.size / 1e6, 1) if document else None,
                    "storage_key": document.storage_key if document else None,
                }
            )
        )
    return 0


def queue_job(conn: Any, organisation_id: int) -> int:
    params = {"producer": "portfolio", "format": "xlsx", "locale": "fr", "params": {}}
    row = conn.execute(
        "INSERT INTO job (organisation_id, kind, status, progress_done, progress_total, params,"
        " attempts, created_at, updated_at) VALUES (%s, 'report', 'queued', 0, 0, %s, 0,"
        " now(), now()) RETURNING id",
        (organisation_id, json.dumps(params)),
    ).fetchone()
    return row[0]


def check_workbook(path: Path, conn: Any, organisation_id: int) -> dict[str, Any]:
    """The summary sheet's totals against SQL (sheet 2 only: sheet 1 is not parsed)."""
    from openpyxl import load_workbook

    with path.open("rb") as handle:  # stored as doc-<id>.bin: openpyxl goes by the suffix
        workbook = load_workbook(io.BytesIO(handle.read()), read_only=True)
    summary = list(workbook.worksheets[1].iter_rows(values_only=True))[1:]
    total_rows = [row for row in summary if row[1] is None]
    count, premium = conn.execute(
        "SELECT count(*), sum(premium) FROM policy WHERE organisation_id = %s", (organisation_id,)
    ).fetchone()
    return {
        "sheets": workbook.sheetnames,
        "summary_rows": len(summary),
        "total_count": sum(row[3] for row in total_rows),
        "total_premium": round(sum(float(row[4]) for row in total_rows), 2),
        "sql_count": count,
        "sql_premium": round(float(premium), 2),
    }


def summary(result: dict[str, Any]) -> str:
    run, check = result["run"], result["check"]
    met = "met" if run["peak_rss_mb"] <= GOAL_RSS_MB else "missed"
    return "\n".join(
        [
            f"## Portfolio report at {result['size']:,} policies (PostgreSQL {result['postgres']})",
            "",
            "| measure | value |",
            "|---|---|",
            f"| load (COPY, {result['load']['rows']['policies']:,} policies) | "
            f"{result['load']['seconds']} s |",
            f"| report run (job claimed → document stored) | {run['seconds']} s |",
            f"| rows per second | {round(result['size'] / run['seconds']):,} |",
            f"| RSS once the app is built | {run['rss_after_app_mb']} MB "
            f"(start-up peak {run['startup_peak_rss_mb']} MB) |",
            f"| peak RSS during the report (VmHWM, reset after start-up) | "
            f"{run['peak_rss_mb']} MB (goal ≤ {GOAL_RSS_MB} MB: {met}) |",
            f"| file | {run['file_name']}, {run['size_mb']} MB |",
            f"| progress | {run['progress'][0]:,} / {run['progress'][1]:,} |",
            f"| summary totals vs SQL | {check['total_count']:,} = {check['sql_count']:,}; "
            f"{check['total_premium']:,} = {check['sql_premium']:,} |",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="policies of the agency")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    )
    parser.add_argument("--schema", default=DEFAULT_SCHEMA)
    parser.add_argument("--keep", action="store_true", help="keep the schema and the file")
    parser.add_argument("--child-job", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_job is not None:
        return child(args.child_url, args.child_job)
    if not args.schema.isidentifier():
        parser.error("--schema must be a plain identifier")

    RESULTS.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    os.environ["DATA_DIR"] = str(data_dir)  # the stored file goes there (osfs)
    try:
        with fresh_schema(args.postgres_url, args.schema, keep=args.keep) as postgres:
            return _run(args, data_dir, postgres)
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def _run(args: argparse.Namespace, data_dir: Path, postgres: str) -> int:
    url = schema_url(args.postgres_url, args.schema)
    migrated_app(url)
    with schema_connection(args.postgres_url, args.schema) as conn:
        print(f"loading {args.size:,} policies…", flush=True)
        loaded = load(conn, args.size, dt.date.today(), random.Random(7))
        print(f"loaded in {loaded['seconds']} s; running the report…", flush=True)
        job_id = queue_job(conn, loaded["organisation_id"])
        ran = subprocess.run(
            [sys.executable, __file__, "--child-job", str(job_id), "--child-url", url],
            capture_output=True,
            text=True,
            env={**os.environ, "LOG_LEVEL": "WARNING"},
            check=False,
        )
        if ran.returncode != 0:
            print(ran.stderr[-3000:], file=sys.stderr)
            return 1
        run = json.loads(ran.stdout.strip().splitlines()[-1])
        if run["status"] != "succeeded":
            print(f"the job did not succeed: {run}", file=sys.stderr)
            return 1
        stored = data_dir / "files" / run["storage_key"]
        if not stored.exists():
            stored = next(data_dir.rglob(Path(run["storage_key"]).name))
        check = check_workbook(stored, conn, loaded["organisation_id"])
    result = {
        "size": args.size,
        "postgres": postgres,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load": loaded,
        "run": run,
        "check": check,
        "goal_rss_mb": GOAL_RSS_MB,
    }
    (RESULTS / f"reports-{args.size}.json").write_text(json.dumps(result, indent=2))
    print(summary(result))
    ok = check["total_count"] == check["sql_count"] and run["progress"][0] == run["progress"][1]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
