"""Nothing lost: Redis stopped during generation, a consumer killed mid-render, a
consumer stopped with SIGINT. Real processes: a redis-server of our own, and
`huey_consumer` on the test database (SQLite, or the PostgreSQL leg's schema)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Document, DocumentStatus
from app.models.base import utcnow
from app.services import documents
from tests.conftest import user_organisation
from tests.documents_support import (
    create_template,
    document_row,
    fresh_store,
    load_user,
    stored_files,
)
from tests.processes import Proc, clean_env, free_port
from tests.test_ops_metrics import sample

# About 2-3 s of template work on this machine (12M empty loop turns): long enough to
# catch the row running and kill the worker, short enough for a quick test.
SLOW_BODY = (
    "<h1>Contrat {{ policy.number }}</h1>"
    "{% for i in range(12000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}"
)
REQUIRE_SERVICES = os.environ.get("MONASSURANCE_REQUIRE_SERVICES") == "1"


@pytest.fixture
def agency(app, make_user, portfolio):
    username = make_user("USER")
    organisation_id = user_organisation(app, username)
    return {
        "user": username,
        "organisation": organisation_id,
        "policy": portfolio(organisation_id, "D1")["policy"],
    }


def ask(app, username: str, template_id: int, policy_id: int) -> int:
    with app.test_request_context():
        user = load_user(username)
        return documents.request_document(
            db.session, user, template_id=template_id, policy_id=policy_id
        ).id


def queue_on(monkeypatch, storage) -> None:
    """Send this process's tasks to ``storage`` instead of running them inline."""
    from app.tasks.queue import huey

    monkeypatch.setattr(huey, "storage", storage)
    monkeypatch.setattr(huey, "_immediate", False)


def wait_for(app, document_id: int, statuses: set[DocumentStatus], timeout: float, *procs):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = document_row(app, document_id)
        if row.status in statuses:
            return row
        for proc in procs:
            assert proc.process.poll() is None, f"consumer exited:\n{proc.stderr[-3000:]}"
        time.sleep(0.05)
    logs = "\n".join(proc.stderr[-3000:] for proc in procs)
    raise AssertionError(f"document {document_id} still {row.status} after {timeout} s\n{logs}")


# --- Redis stopped during generation ---------------------------------------------


class RedisServer:
    """A redis-server of this test's own, on a free port, with nothing written to disk."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (a fixed command line)
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + 30  # a bound on the wait: it starts in milliseconds
        while True:
            try:
                if client.ping():
                    client.close()
                    return
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError("our redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (Debian package redis-server)"
        if REQUIRE_SERVICES:
            pytest.fail(message + " and MONASSURANCE_REQUIRE_SERVICES=1")
        pytest.skip(message)
    server = RedisServer(binary, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_redis_down_when_asked_then_the_sweeper_gets_the_document_done(
    app, agency, own_redis, monkeypatch
):
    from huey import RedisHuey

    from app.tasks.queue import huey

    queue_on(monkeypatch, RedisHuey(huey.name, url=own_redis.url).storage)
    template_id = create_template(app, agency["organisation"])
    with fresh_store(app, monkeypatch):
        own_redis.stop()
        document_id = ask(app, agency["user"], template_id, agency["policy"])  # no exception
        row = document_row(app, document_id)
        assert (row.status, row.enqueued_at) == (DocumentStatus.queued, None)

        own_redis.start()
        with app.app_context():
            result = documents.sweep(utcnow() + dt.timedelta(minutes=2))
        assert (result.requeued, result.not_sent) == (1, 0)
        assert huey.pending_count() == 1

        task = huey.dequeue()  # what a consumer does with it
        assert task.args == (document_id,)
        with app.app_context():
            huey.execute(task)
        row = document_row(app, document_id)
        assert row.status is DocumentStatus.ready, row.error
        assert row.attempts == 1


# --- real consumers ----------------------------------------------------------------


@pytest.fixture
def consumer_env(app, database_url, tmp_path, monkeypatch):
    """The environment of a consumer on the test database, with its own queue and store."""
    from huey.storage import SqliteStorage

    from app.tasks.queue import huey

    queue_path = tmp_path / "queue.db"
    store = tmp_path / "files"
    env = clean_env(
        tmp_path / "data",
        DATABASE_URL=database_url,
        STORAGE_URL=f"osfs://{store}",
        HUEY_SQLITE_PATH=str(queue_path),
        HUEY_NAME=huey.name,
        DOCUMENT_LEASE_SECONDS="2",
        RENDER_TIMEOUT_SECONDS="120",
    )
    queue_on(monkeypatch, SqliteStorage(huey.name, filename=str(queue_path)))
    return {"env": env, "store": store, "logs": tmp_path / "logs"}


READY = {"format": "html", "status": "ready"}
RENDER_STARTED = "Executing app.tasks.documents.render_document"


def worker_metrics(port: int, until, timeout: float = 30) -> str:
    """The consumer's /metrics, read again until ``until(body)`` holds (or the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        url = f"http://127.0.0.1:{port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (local)
            body = response.read().decode()
        if until(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def start_consumer(setup: dict, name: str, **extra: str) -> Proc:
    command = [sys.executable, "-m", "huey.bin.huey_consumer", "app.tasks.huey"]
    command += ["--workers", "1", "--max-delay", "0.2"]
    return Proc(command, {**setup["env"], **extra}, setup["logs"], name)


def test_a_consumer_killed_mid_render_loses_nothing_and_makes_one_file(app, agency, consumer_env):
    template_id = create_template(app, agency["organisation"], SLOW_BODY)
    # Two consumers from the start: the one that takes the render is killed, the other
    # (already up, as in a real deployment) finishes the document.
    consumers = [start_consumer(consumer_env, name) for name in ("first", "second")]
    try:
        document_id = ask(app, agency["user"], template_id, agency["policy"])
        running = wait_for(app, document_id, {DocumentStatus.running}, 60, *consumers)
        assert running.attempts == 1
        holder = next(c for c in consumers if RENDER_STARTED in c.stderr)
        survivor = next(c for c in consumers if c is not holder)
        holder.process.send_signal(signal.SIGKILL)
        holder.wait(10)

        # The dead worker's lease runs out (nobody renews it); then the sweeper sends it on.
        deadline = time.monotonic() + 30
        with app.app_context():
            while documents.sweep().requeued == 0:
                assert time.monotonic() < deadline, "the sweeper never re-enqueued the document"
                time.sleep(0.2)
        done = wait_for(
            app, document_id, {DocumentStatus.ready, DocumentStatus.failed}, 60, survivor
        )
        assert done.status is DocumentStatus.ready, done.error
        assert done.attempts == 2
        assert survivor.stderr.count(RENDER_STARTED) == 1
        files = stored_files(consumer_env["store"])
        assert [path.relative_to(consumer_env["store"]).as_posix() for path in files] == [
            done.storage_key
        ]
        assert b"Contrat POL-D1" in files[0].read_bytes()
    finally:
        for consumer in consumers:
            if consumer.process.poll() is None:
                consumer.send(signal.SIGINT)
                consumer.wait(30)


def test_a_consumer_stopped_with_sigint_finishes_its_render_and_serves_metrics(
    app, agency, consumer_env
):
    quick = create_template(app, agency["organisation"], name="Rapide")
    slow = create_template(app, agency["organisation"], SLOW_BODY, name="Lent")
    port = free_port()
    consumer = start_consumer(consumer_env, "graceful", WORKER_METRICS_PORT=str(port))
    try:
        first = ask(app, agency["user"], quick, agency["policy"])
        assert wait_for(app, first, {DocumentStatus.ready}, 60, consumer).attempts == 1
        # Renders happen in the worker: its own /metrics counts them (just after the commit).
        body = worker_metrics(port, lambda text: sample(text, "documents_generated_total", **READY))
        assert sample(body, "documents_generated_total", **READY) == 1
        assert sample(body, "document_render_seconds_count", format="html", engine="jinja") == 1
        assert "# TYPE queue_depth gauge" in body and "# TYPE jobs_in_flight gauge" in body

        second = ask(app, agency["user"], slow, agency["policy"])
        wait_for(app, second, {DocumentStatus.running}, 60, consumer)
        consumer.send(signal.SIGINT)
        assert consumer.wait(60) == 0, consumer.stderr[-3000:]
    finally:
        consumer.kill()
    row = document_row(app, second)
    assert (row.status, row.attempts) == (DocumentStatus.ready, 1), row.error
    assert "did not finish" not in consumer.stderr
    with app.app_context():
        statuses = db.session.execute(select(Document.status)).scalars().all()
    assert statuses == [DocumentStatus.ready, DocumentStatus.ready]
