"""Benchmark document generation: each PDF engine, the real queue, a 100,000-row XLSX.

Usage:
    python bench/documents.py                          # everything: about 12 min, 2 quiet cores
    python bench/documents.py --parts engines,xlsx     # some parts: engines, queue, xlsx
    python bench/documents.py --documents 100 --renders 10 --rows 10000   # a quick look
    python bench/documents.py --parts queue --template contract --engines weasyprint \
        --workers 2 --sheets on,off --repeat 2   # parsed <style> sheets shared or not

All in a temporary folder (--workdir to choose it, --keep to keep it): a SQLite database
migrated and seeded by bench/seed.py (fixed random seeds), a SQLite Huey queue, stored files
in a local folder. The built-in templates are loaded as on a first start.

1. engines: one policy's built-in documents (the contract, conditions particulières, and the
   one-page attestation d'assurance) rendered in this process through
   app.services.rendering.render with each PDF engine, --renders times each after a warm-up,
   engines interleaved; median and p95 (nearest rank) per render.
2. queue: for each engine, for 1 and 2 workers, a real `huey_consumer app.tasks.huey
   --worker-type process` (--worker-type thread to compare) with a max delay of 1 s as run.py,
   started and warmed up with a small batch; then the timer starts, one batch of --documents
   documents (--template, one per policy) is requested through
   app.services.documents.request_batch, and it stops when every document is ready or failed.
   Each run checks that all are ready with one stored file each. --sheets on,off runs each
   case with WeasyPrint's parsed <style> sheets shared between renders (PDF_STYLESHEET_CACHE=1,
   the default) and without (0), in turn; --repeat runs every case again, in reverse order
   every other time (A B B A), so that drift on a busy machine hits both alike.
3. xlsx: a child process renders a sheet description whose rows come from a generator of
   --rows rows, through render() (xlsxwriter, constant memory); time, the child's peak RSS
   (VmHWM) next to a child that renders 1,000 rows, and the file read back.

Results: bench/results/documents.json and bench/results/documents.md (printed as well).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from documents_report import markdown
from probes import percentile

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
BIN = Path(sys.executable).parent
ENGINES = ("weasyprint", "pdfkit")
PARTS = ("engines", "queue", "xlsx")
DOCUMENTS = {"contract": "conditions_particulieres", "attestation": "attestation_assurance"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", default=",".join(PARTS), help="engines,queue,xlsx")
    parser.add_argument("--renders", type=int, default=50, help="timed renders per engine")
    parser.add_argument("--documents", type=int, default=1000, help="documents per queue run")
    parser.add_argument("--template", choices=sorted(DOCUMENTS), default="attestation")
    parser.add_argument("--engines", default=",".join(ENGINES), help="queue runs' PDF engines")
    parser.add_argument("--worker-type", choices=("process", "thread"), default="process")
    parser.add_argument("--workers", default="1,2", help="queue runs' worker counts")
    parser.add_argument("--sheets", default="on", help="on,off: PDF_STYLESHEET_CACHE per run")
    parser.add_argument("--repeat", type=int, default=1, help="queue runs of each case")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the XLSX")
    parser.add_argument("--workdir", help="folder for the database, queue and files")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--xlsx-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--xlsx-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.xlsx_child is not None:
        return xlsx_child(args.xlsx_child, Path(args.xlsx_out))
    parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    engines = {engine.strip() for engine in args.engines.split(",")}
    if set(parts) - set(PARTS) or engines - set(ENGINES):
        parser.error("parts among engines,queue,xlsx; engines among weasyprint,pdfkit")
    try:
        args.workers = [int(count) for count in args.workers.split(",")]
    except ValueError:
        parser.error("--workers: counts such as 1,2")
    args.sheets = [value.strip() for value in args.sheets.split(",")]
    if set(args.sheets) - {"on", "off"}:
        parser.error("--sheets among on,off")
    if min(args.workers) < 1 or args.repeat < 1:
        parser.error("--workers and --repeat of at least 1")
    if args.renders < 1 or args.documents < 1 or args.rows < 1:
        parser.error("counts of at least 1")

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="monassurance-bench-documents-"))
    workdir.mkdir(parents=True, exist_ok=True)
    environment = bench_environment(workdir)
    os.environ.update(environment)  # before the app (and its Huey queue) is imported
    report: dict[str, Any] = {
        "command": " ".join(["python", "bench/documents.py", *(argv or sys.argv[1:])]),
        "machine": machine(),
        "load_before": os.getloadavg(),
    }
    started = time.perf_counter()
    try:
        app, user, policy_ids = prepare(args.documents)
        if "engines" in parts:
            report["engines"] = engines_part(app, policy_ids[0], args.renders)
        if "queue" in parts:
            report["queue"] = queue_part(app, user, policy_ids, args, environment)
        if "xlsx" in parts:
            report["xlsx"] = xlsx_part(args.rows, environment, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report["load_after"] = os.getloadavg()
    report["seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "documents.json").write_text(json.dumps(report, indent=2, default=str))
    text = markdown(report)
    (RESULTS / "documents.md").write_text(text)
    print(text)
    return 0


# --- set-up ---------------------------------------------------------------------------


def bench_environment(workdir: Path) -> dict[str, str]:
    """One data folder for this process and the consumers it starts."""
    for name in (
        "REDIS_URL",
        "HUEY_IMMEDIATE",
        "HUEY_NAME",
        "STORAGE_URL",
        "PDF_ENGINE",
        "PDF_STYLESHEET_CACHE",
    ):
        os.environ.pop(name, None)
    return {
        "DATA_DIR": str(workdir / "data"),
        "DATABASE_URL": f"sqlite:///{workdir / 'monassurance.db'}",
        "HUEY_SQLITE_PATH": str(workdir / "huey.db"),
        "STORAGE_URL": f"osfs://{workdir / 'files'}",
        "LOG_LEVEL": "WARNING",  # the benchmark measures documents, not log lines
        "PYTHONPATH": str(ROOT),
    }


def prepare(documents: int) -> tuple[Any, Any, list[int]]:
    """Migrated, seeded database with the built-in templates; the benchmark user."""
    sys.path.insert(0, str(BENCH_DIR))
    sys.path.insert(0, str(ROOT))
    import seed

    app = seed.build_app()
    seeded = seed.seed(app, documents, quiet=True)
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Policy
    from app.services.templates import load_builtin_templates

    with app.app_context():
        load_builtin_templates(db.session)
        db.session.commit()
        policy_ids = list(
            db.session.scalars(
                select(Policy.id)
                .where(Policy.organisation_id == seeded.organisation_id)
                .order_by(Policy.id)
            )
        )
    return app, seeded.username, policy_ids


def template_body(key: str) -> tuple[int, str]:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Template, TemplateVersion

    template = db.session.scalars(select(Template).where(Template.builtin_key == key)).one()
    return template.id, db.session.get(TemplateVersion, template.published_version_id).body


# --- 1. engines -------------------------------------------------------------------------


def engines_part(app: Any, policy_id: int, renders: int) -> list[dict[str, Any]]:
    import io

    from pypdf import PdfReader

    from app.extensions import db
    from app.models import OutputFormat
    from app.services.rendering import load_policy_for_render, policy_context, render

    results = []
    with app.app_context():
        policy = load_policy_for_render(db.session, policy_id, None)
        context = policy_context(policy)
        for label, key in DOCUMENTS.items():
            _, body = template_body(key)
            samples: dict[str, list[float]] = {engine: [] for engine in ENGINES}
            files = {}
            for engine in ENGINES:  # warm-up: imports, fonts, caches
                for _ in range(3):
                    files[engine] = render(body, OutputFormat.pdf, context, engine=engine)
            html_ms = []
            for index in range(renders):
                # Interleaved, in turn first, so drift hits both engines alike.
                for engine in ENGINES if index % 2 == 0 else ENGINES[::-1]:
                    began = time.perf_counter()
                    render(body, OutputFormat.pdf, context, engine=engine)
                    samples[engine].append(1000 * (time.perf_counter() - began))
                began = time.perf_counter()
                render(body, OutputFormat.html, context)
                html_ms.append(1000 * (time.perf_counter() - began))
            for engine in ENGINES:
                results.append(
                    {
                        "document": label,
                        "engine": engine,
                        "pages": len(PdfReader(io.BytesIO(files[engine].data)).pages),
                        "bytes": len(files[engine].data),
                        "renders": renders,
                        "median_ms": statistics.median(samples[engine]),
                        "p95_ms": percentile(samples[engine], 0.95),
                        "html_median_ms": statistics.median(html_ms),
                    }
                )
    return results


# --- 2. the queue -----------------------------------------------------------------------


def queue_part(
    app: Any,
    username: str,
    policy_ids: list[int],
    args: argparse.Namespace,
    environment: dict[str, str],
) -> list[dict[str, Any]]:
    results = []
    cases = [
        Run(args.template, engine.strip(), workers, args.worker_type, sheets)
        for engine in args.engines.split(",")
        for workers in args.workers
        for sheets in args.sheets
    ]
    for repetition in range(args.repeat):
        for run in cases if repetition % 2 == 0 else cases[::-1]:
            results.append(queue_run(app, username, policy_ids, run, environment))
            print(f"queue: {run}: {results[-1]['seconds']} s", flush=True)
    return results


@dataclass(frozen=True)
class Run:
    template: str
    engine: str
    workers: int
    worker_type: str
    sheets: str = "on"  # WeasyPrint's parsed <style> sheets shared between renders


def queue_run(
    app: Any, username: str, policy_ids: list[int], run: Run, environment: dict[str, str]
) -> dict[str, Any]:
    from app.extensions import db
    from app.services.documents import request_batch

    env = dict(os.environ) | environment | {"PDF_ENGINE": run.engine}
    env["PDF_STYLESHEET_CACHE"] = "1" if run.sheets == "on" else "0"
    name = f"consumer-{run.engine}-{run.workers}-{run.worker_type}-{run.sheets}.log"
    log = open(Path(environment["DATA_DIR"]).parent / name, "w")  # noqa: SIM115
    command = [str(BIN / "huey_consumer"), "app.tasks.huey", "--workers", str(run.workers)]
    command += ["--worker-type", run.worker_type, "--max-delay", "1"]
    consumer = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)  # noqa: S603
    try:
        with app.test_request_context():
            user = app.appbuilder.sm.find_user(username=username)
            template_id, _ = template_body(DOCUMENTS[run.template])
            workers = run.workers
            # Warm-up: every worker process builds its app and loads its engine once.
            warm = request_batch(
                db.session, user, template_id=template_id, policy_ids=policy_ids[: 4 * workers]
            )
            warm_seconds = wait_for_job(warm.id, 4 * workers, consumer, timeout=300)
            cpu_began, began = tree_cpu_seconds(consumer.pid), time.perf_counter()
            job = request_batch(db.session, user, template_id=template_id, policy_ids=policy_ids)
            requested = time.perf_counter() - began
            wait_for_job(job.id, len(policy_ids), consumer, timeout=3600)
            seconds = time.perf_counter() - began
            cpu_seconds = tree_cpu_seconds(consumer.pid) - cpu_began
            check = check_job(app, job.id, len(policy_ids))
    except Exception:
        log.flush()
        print(Path(log.name).read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        consumer.send_signal(signal.SIGINT)  # finish running tasks, then stop
        try:
            consumer.wait(timeout=60)
        except subprocess.TimeoutExpired:
            consumer.kill()
            consumer.wait()
        log.close()
    return {
        "engine": run.engine,
        "workers": run.workers,
        "worker_type": run.worker_type,
        "sheets": run.sheets,
        "load_average": os.getloadavg()[0],
        "documents": len(policy_ids),
        "template": run.template,
        "warm_up_seconds": round(warm_seconds, 2),
        "request_seconds": round(requested, 2),
        "seconds": round(seconds, 2),
        "per_second": round(len(policy_ids) / seconds, 1),
        # The consumer's own CPU (its worker processes included): on a busy machine the
        # wall time says how much CPU the others left us, this what the documents cost.
        "cpu_seconds": round(cpu_seconds, 2),
        "cpu_ms_per_document": round(1000 * cpu_seconds / len(policy_ids), 1),
        **check,
    }


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds of process ``root``, its live descendants and the children they waited for."""
    children: dict[int, list[int]] = {}
    spent: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process ended meanwhile
            children.setdefault(int(fields[1]), []).append(int(entry))
            # utime, stime and the waited-for children's (wkhtmltopdf): fields 14 to 17.
            spent[int(entry)] = sum(int(value) for value in fields[11:15]) / ticks
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += spent.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total


def wait_for_job(job_id: int, expected: int, consumer: subprocess.Popen, timeout: float) -> float:
    """Seconds until every document of the job is ready or failed."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Document, DocumentStatus

    began = time.perf_counter()
    finished = (DocumentStatus.ready, DocumentStatus.failed)
    query = select(func.count()).where(Document.job_id == job_id, Document.status.in_(finished))
    while True:
        with db.engine.connect() as connection:
            if connection.execute(query).scalar_one() >= expected:
                return time.perf_counter() - began
        if consumer.poll() is not None:
            raise RuntimeError(f"the consumer stopped (exit code {consumer.returncode})")
        if time.perf_counter() - began > timeout:
            raise RuntimeError(f"job {job_id}: not done after {timeout:.0f} s")
        time.sleep(0.05)


def check_job(app: Any, job_id: int, expected: int) -> dict[str, Any]:
    """Every document ready with its one stored file; render durations as the rows say."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Document, DocumentStatus
    from app.services.storage import file_store

    rows = db.session.execute(
        select(Document.status, Document.duration_ms, Document.storage_key, Document.engine).where(
            Document.job_id == job_id
        )
    ).all()
    ready = [row for row in rows if row.status == DocumentStatus.ready]
    store = file_store(app)
    stored = sum(1 for row in ready if row.storage_key and store.exists(row.storage_key))
    durations = [row.duration_ms for row in ready if row.duration_ms is not None]
    if len(ready) != expected or stored != expected:
        raise RuntimeError(f"job {job_id}: {len(ready)} ready, {stored} stored of {expected}")
    return {
        "ready": len(ready),
        "stored": stored,
        "engines": sorted({row.engine for row in ready}),
        "render_median_ms": statistics.median(durations) if durations else None,
        "render_p95_ms": percentile(durations, 0.95) if durations else None,
    }


# --- 3. XLSX --------------------------------------------------------------------------


XLSX_DESCRIPTION = {
    "sheets": [
        {
            "title": "Portefeuille",
            "header": [["Cabinet", "organisation.name"], ["Édité le", "today", "date"]],
            "rows": "rows",
            "columns": [
                {"title": "Contrat", "value": "row.number", "format": "text"},
                {"title": "Client", "value": "row.client"},
                {"title": "Assureur", "value": "row.insurer"},
                {"title": "Effet", "value": "row.effective_date", "format": "date"},
                {"title": "Échéance", "value": "row.expiry_date", "format": "date"},
                {"title": "Cotisation", "value": "row.premium", "format": "money", "total": "sum"},
            ],
        }
    ]
}


def xlsx_part(rows: int, environment: dict[str, str], workdir: Path) -> list[dict[str, Any]]:
    results = []
    for count in sorted({1000, rows}):
        out = workdir / f"{count}.xlsx"
        command = [sys.executable, str(Path(__file__).resolve()), "--xlsx-child", str(count)]
        command += ["--xlsx-out", str(out)]
        env = dict(os.environ) | environment
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise RuntimeError(f"XLSX child failed: {done.stderr[-2000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["rows_read_back"] = rows_read_back(out)
        results.append(result)
    return results


def xlsx_child(rows: int, out: Path) -> int:
    """Runs in a fresh process, so its peak memory is this render's and nothing else's."""
    import datetime as dt
    import random
    from decimal import Decimal

    sys.path.insert(0, str(ROOT))
    from app.models import OutputFormat
    from app.services.rendering import render

    rng = random.Random(7)
    day = dt.date(2026, 1, 1)

    def portfolio():
        for number in range(1, rows + 1):
            effective = day + dt.timedelta(days=rng.randrange(365))
            yield {
                "number": f"POL-2026-{number:06d}",
                "client": f"Client {rng.randrange(50_000):05d}",
                "insurer": f"Assureur {rng.randrange(24):02d}",
                "effective_date": effective,
                "expiry_date": effective + dt.timedelta(days=364),
                "premium": Decimal(rng.randrange(15_000, 450_000)) / 100,
            }

    context = {
        "organisation": {"name": "Cabinet Benchmark", "orias_number": "99000001"},
        "today": day,
        "rows": portfolio(),
    }
    baseline = _memory_kib("VmRSS")
    began = time.perf_counter()
    result = render(json.dumps(XLSX_DESCRIPTION), OutputFormat.xlsx, context, timeout=600)
    seconds = time.perf_counter() - began
    out.write_bytes(result.data)
    # The peak of this process's own memory: VmHWM starts afresh at exec, while
    # ru_maxrss would carry the parent's peak over (getrusage(2)).
    peak = _memory_kib("VmHWM")
    answer = {
        "rows": rows,
        "seconds": round(seconds, 2),
        "bytes": len(result.data),
        "rss_before_mib": round(baseline / 1024, 1),
        "peak_rss_mib": round(peak / 1024, 1),
    }
    print(json.dumps(answer))
    return 0


def _memory_kib(field: str) -> int:
    return int(_first("/proc/self/status", field).split()[0])


def rows_read_back(path: Path) -> int:
    """Policy rows in the saved workbook (header, totals and ORIAS lines left out)."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        return sum(1 for row in rows if row and str(row[0] or "").startswith("POL-"))
    finally:
        workbook.close()


# --- the machine -------------------------------------------------------------------


def _first(path: str, prefix: str) -> str:
    """The value of the first ``prefix: value`` line of a /proc file ("" if none)."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return ""
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(prefix)), "")


def _output(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    return done.stdout.strip()


def machine() -> dict[str, Any]:
    import weasyprint

    memory_kib = int((_first("/proc/meminfo", "MemTotal") or "0 kB").split()[0])
    wkhtmltopdf = shutil.which("wkhtmltopdf")
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": _first("/proc/cpuinfo", "model name") or platform.processor(),
        "ram_gib": round(memory_kib / 1024 / 1024, 1),
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "weasyprint": weasyprint.__version__,
        "wkhtmltopdf": _output(wkhtmltopdf, "--version") if wkhtmltopdf else "no wkhtmltopdf",
        "commit": _output("git", "-C", str(ROOT), "describe", "--always", "--dirty"),
    }


if __name__ == "__main__":
    raise SystemExit(main())
