"""Benchmark the outbox: N avis d'échéance e-mailed with their PDFs, drained by 2 workers.

Usage:
    python bench/mail.py                      # 1,000 messages, 2 workers
    python bench/mail.py --messages 100       # a quick look

All in a temporary folder: a SQLite database migrated and seeded by bench/seed.py, a SQLite
Huey queue, stored files in a local folder, and a real SMTP server (aiosmtpd) on a free
loopback port that keeps every message it accepts (MAIL_URL points at it).

1. The avis d'échéance of N contracts are rendered as PDFs by the consumer (one batch,
   app.services.documents.request_batch), not timed with the e-mail: they exist before.
2. The consumer is stopped; N messages (the built-in "Envoi de l'avis d'échéance", each
   with its contract's avis attached) are written through app.services.mail.queue_messages
   and their tasks queued: the time to write them is reported.
3. A `huey_consumer app.tasks.huey --workers 2 --worker-type process` starts; the timer runs
   until every message is sent or failed. Checks: all sent, the server received N messages
   with N distinct Message-IDs, each with one PDF attachment of the recorded sha256.

Results: bench/results/mail.json (printed).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import hashlib
import json
import os
import shutil
import signal
import socket
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


class Keeper:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append(envelope.original_content)
        return f"250 2.0.0 Ok: queued as B{len(self.received)}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)

    from aiosmtpd.controller import Controller

    keeper = Keeper()
    port = free_port()
    smtp = Controller(keeper, hostname="127.0.0.1", port=port)
    smtp.start()
    workdir = Path(tempfile.mkdtemp(prefix="monassurance-mail-bench-"))
    environment = {
        "DATA_DIR": str(workdir / "data"),
        "DATABASE_URL": f"sqlite:///{workdir / 'monassurance.db'}",
        "HUEY_SQLITE_PATH": str(workdir / "huey.db"),
        "STORAGE_URL": f"osfs://{workdir / 'files'}",
        "MAIL_URL": f"smtp://127.0.0.1:{port}?timeout=30",
        "MAIL_RATE_PER_MINUTE": "0",  # no limit: the bench measures the drain itself
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    for name in ("REDIS_URL", "HUEY_IMMEDIATE", "HUEY_NAME"):
        os.environ.pop(name, None)
    os.environ.update(environment)
    (workdir / "files").mkdir(parents=True, exist_ok=True)
    try:
        report = run(args, environment, workdir, keeper)
    finally:
        smtp.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "mail.json").write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps(report, indent=2, default=str))
    return 0


def consumer(environment: dict[str, str], workers: int, log: Any) -> subprocess.Popen:
    command = [str(BIN / "huey_consumer"), "app.tasks.huey", "--workers", str(workers)]
    command += ["--worker-type", "process", "--max-delay", "1"]
    env = dict(os.environ) | environment
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)  # noqa: S603


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until(query: Any, expected: int, process: subprocess.Popen, timeout: float) -> float:
    from app.extensions import db

    began = time.perf_counter()
    while True:
        with db.engine.connect() as connection:
            if connection.execute(query).scalar_one() >= expected:
                return time.perf_counter() - began
        if process.poll() is not None:
            raise RuntimeError(f"the consumer stopped (exit code {process.returncode})")
        if time.perf_counter() - began > timeout:
            raise RuntimeError(f"not done after {timeout:.0f} s")
        time.sleep(0.05)


def run(args: Any, environment: dict[str, str], workdir: Path, keeper: Keeper) -> dict[str, Any]:
    sys.path.insert(0, str(BENCH_DIR))
    sys.path.insert(0, str(ROOT))
    import seed
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Document, DocumentStatus, Message, MessageStatus, Policy, Template
    from app.services.documents import request_batch
    from app.services.mail import Draft, queue_messages
    from app.services.mail.compose import draft_for, email_template, load_record
    from app.services.templates import load_builtin_templates

    app = seed.build_app()
    seeded = seed.seed(app, args.messages, quiet=True)
    log = open(workdir / "consumer.log", "w")  # noqa: SIM115
    with app.test_request_context():
        load_builtin_templates(db.session)
        db.session.commit()
        user = app.appbuilder.sm.find_user(username=seeded.username)
        policy_ids = list(
            db.session.scalars(
                select(Policy.id)
                .where(Policy.organisation_id == seeded.organisation_id)
                .order_by(Policy.id)
                .limit(args.messages)
            )
        )
        avis_id = db.session.scalar(
            select(Template.id).where(Template.builtin_key == "avis_echeance")
        )
        # 1. the PDFs, rendered before the e-mail is timed.
        renderer = consumer(environment, args.workers, log)
        try:
            began = time.perf_counter()
            job = request_batch(db.session, user, template_id=avis_id, policy_ids=policy_ids)
            done = select(func.count()).where(
                Document.job_id == job.id,
                Document.status.in_((DocumentStatus.ready, DocumentStatus.failed)),
            )
            render_seconds = wait_until(done, len(policy_ids), renderer, 3600)
        finally:
            stop(renderer)
        documents = dict(
            db.session.execute(
                select(Document.policy_id, Document.id).where(
                    Document.job_id == job.id, Document.status == DocumentStatus.ready
                )
            ).all()
        )
        # 2. the messages, written and queued while no worker runs.
        template, version = email_template(
            db.session,
            user,
            db.session.scalar(
                select(Template.id).where(Template.builtin_key == "email_avis_echeance")
            ),
        )
        began = time.perf_counter()
        drafts: list[Draft] = []
        for policy_id in policy_ids:
            draft = draft_for(template, version, load_record(db.session, user, "policy", policy_id))
            draft.document_ids = [documents[policy_id]]
            drafts.append(draft)
        db.session.rollback()
        ids = queue_messages(db.session, seeded.organisation_id, drafts, created_by_id=user.id)
        write_seconds = time.perf_counter() - began
    # 3. the drain.
    sender = consumer(environment, args.workers, log)
    try:
        finished = select(func.count()).where(
            Message.status.in_((MessageStatus.sent, MessageStatus.failed))
        )
        began = time.perf_counter()
        with app.app_context():
            drain_seconds = wait_until(finished, len(ids), sender, 3600)
    finally:
        stop(sender)
        log.close()
    with app.app_context():
        statuses = dict(
            db.session.execute(select(Message.status, func.count()).group_by(Message.status)).all()
        )
        recorded = {
            message_id: attachments[0]["sha256"]
            for message_id, attachments in db.session.execute(
                select(Message.message_id, Message.attachments)
            ).all()
        }
    parsed = [email.message_from_bytes(raw, policy=email.policy.default) for raw in keeper.received]
    matching = sum(
        1
        for message in parsed
        if [hashlib.sha256(part.get_content()).hexdigest() for part in message.iter_attachments()]
        == [recorded.get(message["Message-ID"])]
    )
    return {
        "messages": len(ids),
        "workers": args.workers,
        "render_pdfs_seconds": round(render_seconds, 2),
        "write_and_queue_seconds": round(write_seconds, 2),
        "drain_seconds": round(drain_seconds, 2),
        "messages_per_second": round(len(ids) / drain_seconds, 1),
        "statuses": {status.value: count for status, count in statuses.items()},
        "server_received": len(parsed),
        "distinct_message_ids": len({message["Message-ID"] for message in parsed}),
        "attachments_matching_sha256": matching,
        "cpus": os.cpu_count(),
        "load_after": os.getloadavg(),
    }


if __name__ == "__main__":
    raise SystemExit(main())
