"""Benchmark the échéances at scale: opening the renewal cycles of a whole book, then
generating 1,000 avis d'échéance as one batch through the real queue.

Usage:
    python bench/renewals.py                            # 100,000 policies on PostgreSQL
    python bench/renewals.py --size 10000 --documents 100 --workers 1     # a quick look
    BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test python bench/renewals.py

In a PostgreSQL schema of its own (created, then dropped unless --keep), bench/seed.py
migrates and loads the book (N policies with their first terms, a neighbour agency of
N/20), and the built-in templates are loaded as on a first start. Then:

1. open: ``open_due_cycles`` over every agency, in a child process (time, the child's
   peak RSS, cycles opened), run twice: the second run must open nothing. The reference,
   measured first in the same run: one INSERT … SELECT … ON CONFLICT DO NOTHING of the
   same rows in a transaction rolled back (what the database alone needs).
2. avis: a real ``huey_consumer app.tasks.huey --workers W --worker-type process`` (as
   bench/documents.py), warmed up with a small batch; then the timer starts,
   ``app.services.renewals.notices.send_avis_batch`` records --documents open cycles sent
   and queues their avis as one batch job, and it stops when every document is ready or
   failed (each checked ready with its stored file). Memory: this process's peak RSS
   while requesting the batch, and each worker's peak RSS. The reference: one avis
   rendered in this process by the same renderer (median of --renders after a warm-up),
   times the documents divided by the workers: the batch if the queue cost nothing.

Results: bench/results/renewals-<size>.json and a Markdown summary on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
BIN = Path(sys.executable).parent
for path in (str(ROOT), str(BENCH_DIR)):
    if path not in sys.path:
        sys.path.insert(0, path)

from portfolio_schema import DEFAULT_POSTGRES_URL, fresh_schema, schema_url  # noqa: E402

DEFAULT_SCHEMA = "bench_renewals"
AVIS_KEY = "avis_echeance"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000, help="policies of the agency")
    parser.add_argument("--documents", type=int, default=1000, help="avis in the batch")
    parser.add_argument("--workers", type=int, default=2, help="queue worker processes")
    parser.add_argument("--renders", type=int, default=10, help="in-process reference renders")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    )
    parser.add_argument("--schema", default=DEFAULT_SCHEMA)
    parser.add_argument("--keep", action="store_true", help="keep the schema and work folder")
    parser.add_argument("--open-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--reference-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.open_child:
        return open_child()
    if args.reference_child:
        return reference_child()
    if not args.schema.isidentifier():
        parser.error("--schema must be a plain identifier")
    if min(args.size, args.documents, args.workers, args.renders) < 1:
        parser.error("counts of at least 1")

    workdir = Path(tempfile.mkdtemp(prefix="monassurance-bench-renewals-"))
    report: dict[str, Any] = {
        "command": " ".join(["python", "bench/renewals.py", *(argv or sys.argv[1:])]),
        "size": args.size,
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }
    started = time.perf_counter()
    try:
        with fresh_schema(args.postgres_url, args.schema, keep=args.keep) as postgres:
            environment = bench_environment(workdir, schema_url(args.postgres_url, args.schema))
            os.environ.update(environment)  # before the app (and its Huey queue) is imported
            report["postgres"] = postgres
            report["machine"] = machine()
            app, username, seeded = prepare(args.size)
            report["seed_seconds"] = round(seeded, 1)
            report["open"] = open_part(environment)
            print(f"open: {report['open']}", flush=True)
            report["avis"] = avis_part(app, username, args, environment)
            print(f"avis: {report['avis']}", flush=True)
            with app.app_context():
                from app.extensions import db

                db.session.remove()
                db.engine.dispose()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    report["seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"renewals-{args.size}.json").write_text(json.dumps(report, indent=2, default=str))
    print(summary(report))
    return 0


# --- set-up ---------------------------------------------------------------------------


def bench_environment(workdir: Path, database_url: str) -> dict[str, str]:
    """One data folder and database for this process and the processes it starts."""
    for name in ("REDIS_URL", "HUEY_IMMEDIATE", "HUEY_NAME", "STORAGE_URL", "PDF_ENGINE"):
        os.environ.pop(name, None)
    return {
        "DATA_DIR": str(workdir / "data"),
        "DATABASE_URL": database_url,
        "HUEY_SQLITE_PATH": str(workdir / "huey.db"),
        "STORAGE_URL": f"osfs://{workdir / 'files'}",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def prepare(size: int) -> tuple[Any, str, float]:
    """The migrated, seeded book with the built-in templates; the benchmark user."""
    import seed

    app = seed.build_app()
    seeded = seed.seed(app, size, quiet=True)
    from app.extensions import db
    from app.services.templates import load_builtin_templates

    with app.app_context():
        load_builtin_templates(db.session)
        db.session.commit()
    return app, seeded.username, seeded.seconds


# --- 1. opening the cycles --------------------------------------------------------------


def open_part(environment: dict[str, str]) -> dict[str, Any]:
    reference = child("--reference-child", environment)
    first = child("--open-child", environment)
    second = child("--open-child", environment)
    if second["opened"] != 0:
        raise RuntimeError(f"a second run opened {second['opened']} cycles")
    # The reference reads "today" from the database's clock, the service from each
    # agency's zone: they agree but for a run across midnight, which the JSON would show.
    return {
        "reference": reference,
        "first": first,
        "second": second,
        "ratio": round(first["seconds"] / reference["seconds"], 1),
    }


def child(flag: str, environment: dict[str, str]) -> dict[str, Any]:
    """Run this script with ``flag`` in a fresh interpreter; its JSON answer."""
    done = subprocess.run(  # noqa: S603
        [sys.executable, __file__, flag],
        env=dict(os.environ) | environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{flag} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def open_child() -> int:
    """open_due_cycles over every agency, committed; time and peak RSS of this process."""
    import seed
    from sqlalchemy import text

    app = seed.build_app()
    from app.extensions import db
    from app.services.renewals.cycles import open_due_cycles

    with app.app_context():
        db.session.execute(text("SELECT 1"))  # connect before the clock starts
        before = memory_kib("VmRSS")
        began = time.perf_counter()
        opened = open_due_cycles(db.session)
        db.session.commit()
        seconds = time.perf_counter() - began
    answer = {
        "opened": sum(opened.values()),
        "agencies": len(opened),
        "seconds": round(seconds, 3),
        "rss_before_mib": round(before / 1024, 1),
        "peak_rss_mib": round(memory_kib("VmHWM") / 1024, 1),
    }
    print(json.dumps(answer))
    return 0


def reference_child() -> int:
    """The same cycles inserted by one statement (the last day to refuse computed by the
    database), in a transaction rolled back: what the database alone needs."""
    import seed
    from sqlalchemy import text

    app = seed.build_app()
    from app.extensions import db

    statement = text(
        "INSERT INTO renewal_cycle (organisation_id, policy_id, echeance, last_day_to_refuse, "
        "previous_premium, status) "
        "SELECT p.organisation_id, p.id, p.expiry_date, "
        "(p.expiry_date - make_interval(months => p.notice_months))::date, p.premium, 'open' "
        "FROM policy p JOIN organisation o ON o.id = p.organisation_id "
        "WHERE p.status IN ('active', 'suspended') AND p.tacit_renewal "
        "AND p.expiry_date BETWEEN (now() AT TIME ZONE o.timezone)::date "
        "AND (now() AT TIME ZONE o.timezone)::date + o.renewal_lead_days "
        "AND NOT EXISTS (SELECT 1 FROM renewal_cycle c "
        "WHERE c.policy_id = p.id AND c.echeance = p.expiry_date) "
        "ON CONFLICT (policy_id, echeance) DO NOTHING"
    )
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        began = time.perf_counter()
        rows = db.session.execute(statement).rowcount
        seconds = time.perf_counter() - began
        db.session.rollback()
    print(json.dumps({"rows": rows, "seconds": round(seconds, 3)}))
    return 0


# --- 2. 1,000 avis as one batch ---------------------------------------------------------


def avis_part(
    app: Any, username: str, args: argparse.Namespace, environment: dict[str, str]
) -> dict[str, Any]:
    from documents import check_job, wait_for_job

    from app.extensions import db
    from app.services.documents import request_batch
    from app.services.renewals.notices import avis_template_id, send_avis_batch

    warm_count = 4 * args.workers
    with app.app_context():
        cycle_ids, policy_ids = open_cycles(args.documents + warm_count)
        template_id = avis_template_id(db.session)
        reference_ms = reference_render(policy_ids[0], template_id, args.renders)
    if len(cycle_ids) < args.documents + warm_count:
        raise RuntimeError(f"only {len(cycle_ids)} open cycles for {args.documents} avis")
    batch, warm_policies = cycle_ids[: args.documents], policy_ids[args.documents :]

    log = open(Path(environment["DATA_DIR"]).parent / "consumer.log", "w")  # noqa: SIM115
    command = [str(BIN / "huey_consumer"), "app.tasks.huey", "--workers", str(args.workers)]
    command += ["--worker-type", "process", "--max-delay", "1"]
    env = dict(os.environ) | environment
    consumer = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)  # noqa: S603
    try:
        with app.test_request_context():
            user = app.appbuilder.sm.find_user(username=username)
            # Warm-up: every worker builds its app and renders once (other contracts).
            warm = request_batch(
                db.session, user, template_id=template_id, policy_ids=warm_policies
            )
            warm_seconds = wait_for_job(warm.id, len(warm_policies), consumer, timeout=600)
            reset_peak_rss()
            rss_before = memory_kib("VmRSS")
            began = time.perf_counter()
            job = send_avis_batch(db.session, user, batch)
            requested = time.perf_counter() - began
            request_peak = memory_kib("VmHWM")
            wait_for_job(job.id, len(batch), consumer, timeout=7200)
            seconds = time.perf_counter() - began
            workers_peak = [round(kib / 1024, 1) for kib in worker_peaks(consumer.pid)]
            check = check_job(app, job.id, len(batch))
            recorded = sent_count(batch)
    except Exception:
        log.flush()
        print(Path(log.name).read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        consumer.send_signal(signal.SIGINT)  # finish running tasks, then stop
        try:
            consumer.wait(timeout=120)
        except subprocess.TimeoutExpired:
            consumer.kill()
            consumer.wait()
        log.close()
    if recorded != len(batch):
        raise RuntimeError(f"{recorded} of {len(batch)} cycles recorded sent")
    floor = reference_ms / 1000 * len(batch) / args.workers
    return {
        "documents": len(batch),
        "workers": args.workers,
        "warm_up_seconds": round(warm_seconds, 1),
        "request_seconds": round(requested, 2),
        "seconds": round(seconds, 1),
        "per_second": round(len(batch) / seconds, 2),
        "request_rss_before_mib": round(rss_before / 1024, 1),
        "request_peak_rss_mib": round(request_peak / 1024, 1),
        "worker_peak_rss_mib": workers_peak,
        "reference_render_ms": round(reference_ms, 1),
        "reference_seconds": round(floor, 1),
        "ratio": round(seconds / floor, 2),
        "cycles_recorded_sent": recorded,
        **check,
    }


def open_cycles(count: int) -> tuple[list[int], list[int]]:
    """The benchmark agency's open cycles, soonest échéance first: ids and their policies."""
    from seed import BENCH_ORGANISATION
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Organisation, RenewalCycle, RenewalStatus

    organisation_id = db.session.scalar(
        select(Organisation.id).where(Organisation.name == BENCH_ORGANISATION[0])
    )
    rows = db.session.execute(
        select(RenewalCycle.id, RenewalCycle.policy_id)
        .where(
            RenewalCycle.organisation_id == organisation_id,
            RenewalCycle.status == RenewalStatus.open,
            RenewalCycle.avis_sent_on.is_(None),
        )
        .order_by(RenewalCycle.echeance, RenewalCycle.id)
        .limit(count)
    ).all()
    return [row.id for row in rows], [row.policy_id for row in rows]


def reference_render(policy_id: int, template_id: int, renders: int) -> float:
    """Median ms of one avis rendered in this process, as a worker renders it."""
    from app.extensions import db
    from app.models import OutputFormat, Template, TemplateVersion
    from app.services.rendering import load_policy_for_render, policy_context, render

    template = db.session.get(Template, template_id)
    body = db.session.get(TemplateVersion, template.published_version_id).body
    policy = load_policy_for_render(db.session, policy_id, None)
    context = policy_context(policy)
    for _ in range(3):  # warm-up: imports, fonts, caches
        render(body, OutputFormat.pdf, context)
    samples = []
    for _ in range(renders):
        began = time.perf_counter()
        render(body, OutputFormat.pdf, context)
        samples.append((time.perf_counter() - began) * 1000)
    db.session.rollback()
    return statistics.median(samples)


def sent_count(cycle_ids: list[int]) -> int:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import RenewalCycle

    return db.session.scalar(
        select(func.count()).where(
            RenewalCycle.id.in_(cycle_ids),
            RenewalCycle.avis_sent_on.is_not(None),
            RenewalCycle.avis_document_id.is_not(None),
        )
    )


# --- memory and the machine --------------------------------------------------------------


def memory_kib(field: str, pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def reset_peak_rss() -> None:
    """Linux: writing 5 to clear_refs resets this process's VmHWM to its current RSS."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def worker_peaks(consumer_pid: int) -> list[int]:
    """Peak RSS (KiB) of each worker process the consumer started."""
    peaks = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(consumer_pid):
            peaks.append(int(fields.get("VmHWM", "0 kB").split()[0]))
    return sorted(peaks)


def machine() -> dict[str, Any]:
    from documents import machine as documents_machine

    return documents_machine()


def summary(report: dict[str, Any]) -> str:
    opened, avis = report["open"], report["avis"]
    first, second, reference = opened["first"], opened["second"], opened["reference"]
    lines = [
        f"## Renewals at {report['size']:,} policies (PostgreSQL {report['postgres']})",
        "",
        f"{report['machine']['nproc']} CPUs; load average (1, 5, 15 min) "
        f"{report['load_before']} before, {report['load_after']} after; "
        f"seeded in {report['seed_seconds']} s; {report['seconds']} s in all.",
        "",
        "| step | time | peak RSS | result | reference | ratio |",
        "|---|---:|---:|---|---:|---:|",
        f"| open_due_cycles, first run | {first['seconds']} s | {first['peak_rss_mib']} MiB "
        f"| {first['opened']:,} cycles opened | {reference['seconds']} s "
        f"| {opened['ratio']}× |",
        f"| open_due_cycles, second run | {second['seconds']} s | {second['peak_rss_mib']} MiB "
        f"| {second['opened']} opened | | |",
        f"| send_avis_batch (request) | {avis['request_seconds']} s "
        f"| {avis['request_peak_rss_mib']} MiB | {avis['documents']:,} cycles recorded, "
        "1 job | | |",
        f"| {avis['documents']:,} avis rendered, {avis['workers']} worker processes "
        f"| {avis['seconds']} s | {', '.join(map(str, avis['worker_peak_rss_mib']))} MiB "
        f"| {avis['ready']:,} ready, {avis['stored']:,} stored "
        f"| {avis['reference_seconds']} s | {avis['ratio']}× |",
        "",
        f"One avis in process: {avis['reference_render_ms']} ms (median); in the workers: "
        f"{avis['render_median_ms']} ms median, {avis['render_p95_ms']} ms p95.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
