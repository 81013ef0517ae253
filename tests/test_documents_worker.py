"""The worker side in process: claims, leases, idempotent re-runs, outcomes, the sweeper,
job progress under concurrency, the CLI and the metrics."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import AuditLog, Document, DocumentStatus, JobStatus
from app.models.base import utcnow
from app.services import documents
from app.services.documents import progress, worker
from app.services.storage import StorageError, file_store
from tests.conftest import user_organisation
from tests.documents_support import (
    create_template,
    document_row,
    fresh_store,
    job_row,
    load_user,
    recording_queue,
)
from tests.test_ops_metrics import sample


@pytest.fixture
def queued(app, make_user, portfolio, monkeypatch):
    """queued(n=1, body=None) -> document ids asked for but not rendered (the task recorded)."""
    with fresh_store(app, monkeypatch):
        yield _queued(app, make_user, portfolio, monkeypatch)


def _queued(app, make_user, portfolio, monkeypatch):
    username = make_user("USER")
    organisation_id = user_organisation(app, username)
    template_id = create_template(app, organisation_id)
    counter = iter(range(1, 1000))

    def make(n: int = 1, body: str | None = None) -> list[int]:
        chosen = create_template(app, organisation_id, body) if body else template_id
        policies = [portfolio(organisation_id, f"W{next(counter)}")["policy"] for _ in range(n)]
        with recording_queue(monkeypatch) as queue, app.test_request_context():
            user = load_user(username)
            if n == 1:
                documents.request_document(
                    db.session, user, template_id=chosen, policy_id=policies[0]
                )
            else:
                documents.request_batch(db.session, user, template_id=chosen, policy_ids=policies)
        return queue.ids

    return make


def render(app, document_id: int) -> None:
    with app.app_context():
        documents.run_render(document_id)


def store_keys(app) -> list[str]:
    with app.app_context():
        return list(file_store().keys())


def set_row(app, document_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(update(Document).where(Document.id == document_id).values(**values))
        db.session.commit()


def test_run_render_twice_makes_one_file_and_counts_one_attempt(app, queued):
    (document_id,) = queued()
    render(app, document_id)
    first = document_row(app, document_id)
    assert first.status is DocumentStatus.ready, first.error
    assert first.attempts == 1 and first.lease_token is None
    assert (first.size, first.engine, first.sha256 is not None) == (first.size, "jinja", True)
    assert first.data_sha256 and first.duration_ms is not None

    render(app, document_id)  # a second message for the same row: nothing to do
    again = document_row(app, document_id)
    assert (again.attempts, again.sha256, again.finished_at) == (1, first.sha256, first.finished_at)
    assert store_keys(app) == [first.storage_key]


def test_a_worker_killed_before_finishing_is_replaced_without_a_second_file(app, queued):
    (document_id,) = queued()
    render(app, document_id)
    first = document_row(app, document_id)
    # As if the worker had died after storing the file, before writing "ready".
    set_row(
        app,
        document_id,
        status=DocumentStatus.running,
        lease_token="dead-worker",
        lease_expires_at=utcnow() - dt.timedelta(seconds=1),
        sha256=None,
    )
    render(app, document_id)
    again = document_row(app, document_id)
    assert again.status is DocumentStatus.ready
    assert again.attempts == 2
    assert again.sha256 == first.sha256  # same input, same HTML, same key
    assert store_keys(app) == [first.storage_key]


def test_a_running_row_under_a_live_lease_is_left_alone(app, queued):
    (document_id,) = queued()
    set_row(
        app,
        document_id,
        status=DocumentStatus.running,
        attempts=1,
        lease_token="busy-worker",
        lease_expires_at=utcnow() + dt.timedelta(minutes=5),
    )
    render(app, document_id)
    row = document_row(app, document_id)
    assert (row.status, row.attempts, row.lease_token) == (DocumentStatus.running, 1, "busy-worker")
    assert store_keys(app) == []


def test_a_render_error_fails_at_once_with_its_message(app, queued):
    (document_id,) = queued(body="<p>{{ policy.number }} {{ nowhere.to_be_found }}</p>")
    render(app, document_id)
    row = document_row(app, document_id)
    assert row.status is DocumentStatus.failed
    assert row.attempts == 1
    assert "nowhere" in row.error
    assert row.lease_token is None and row.finished_at is not None
    job = job_row(app, row.job_id)
    assert (job.status, job.error, job.progress_done) == (
        JobStatus.failed,
        "the document failed",
        1,
    )
    with app.app_context():
        entry = db.session.execute(
            select(AuditLog).where(AuditLog.action == "document.failed")
        ).scalar_one()
        assert entry.username == "worker" and entry.object_id == str(document_id)
    assert store_keys(app) == []


def test_storage_trouble_is_retried_then_given_up_with_the_reason(app, queued, monkeypatch):
    monkeypatch.setitem(app.config, "DOCUMENT_MAX_ATTEMPTS", 2)
    (document_id,) = queued()
    with app.app_context():
        store = file_store()

    def unreachable(*_args, **_kwargs):
        raise StorageError("could not store: bucket unreachable")

    monkeypatch.setattr(store, "put", unreachable)
    render(app, document_id)
    row = document_row(app, document_id)
    assert (row.status, row.attempts) == (DocumentStatus.queued, 1)
    assert row.error == "attempt 1 failed: storage: could not store: bucket unreachable"
    assert row.enqueued_at is None and row.lease_token is None  # the sweeper sends it again

    render(app, document_id)
    row = document_row(app, document_id)
    assert (row.status, row.attempts) == (DocumentStatus.failed, 2)
    assert row.error == "gave up after 2 attempts: storage: could not store: bucket unreachable"


def test_the_lease_is_renewed_while_a_long_render_runs(app, queued, monkeypatch):
    monkeypatch.setitem(app.config, "DOCUMENT_LEASE_SECONDS", 1)
    (document_id,) = queued()
    real_render = worker.render
    competitor: list = []

    def slow_render(*args, **kwargs):
        time.sleep(1.6)  # longer than the lease
        with Session(db.engine) as other:
            competitor.append(worker.claim_document(other, document_id))
        return real_render(*args, **kwargs)

    monkeypatch.setattr(worker, "render", slow_render)
    render(app, document_id)
    assert competitor == [None]  # another worker found the lease alive
    row = document_row(app, document_id)
    assert (row.status, row.attempts) == (DocumentStatus.ready, 1)


def test_a_worker_that_lost_its_lease_writes_nothing(app, queued, monkeypatch):
    (document_id,) = queued()
    real_render = worker.render

    def overtaken(*args, **kwargs):
        # Another worker took the row over meanwhile (this one was stalled).
        set_row(app, document_id, lease_token="the-other-worker")
        return real_render(*args, **kwargs)

    monkeypatch.setattr(worker, "render", overtaken)
    render(app, document_id)
    row = document_row(app, document_id)
    assert (row.status, row.lease_token) == (DocumentStatus.running, "the-other-worker")
    assert store_keys(app) == []


# --- the sweeper -----------------------------------------------------------------


def test_sweeper_sends_unsent_and_abandoned_rows_and_gives_up_on_spent_ones(
    app, queued, monkeypatch
):
    never_sent, recent, running_dead, running_alive, spent = queued(5)
    now = utcnow()
    old = now - dt.timedelta(minutes=10)
    set_row(app, never_sent, enqueued_at=None, created_at=old)
    set_row(app, recent, enqueued_at=None)  # asked for just now: its sender may still be at it
    set_row(
        app,
        running_dead,
        status=DocumentStatus.running,
        attempts=1,
        enqueued_at=old,
        lease_token="dead",
        lease_expires_at=now - dt.timedelta(seconds=5),
    )
    set_row(
        app,
        running_alive,
        status=DocumentStatus.running,
        attempts=1,
        lease_token="alive",
        lease_expires_at=now + dt.timedelta(minutes=5),
    )
    set_row(
        app,
        spent,
        status=DocumentStatus.running,
        attempts=3,
        lease_token="dead-again",
        lease_expires_at=now - dt.timedelta(seconds=5),
    )
    with recording_queue(monkeypatch) as queue, app.app_context():
        result = documents.sweep(now)
    assert sorted(queue.ids) == sorted([never_sent, running_dead])
    assert (result.requeued, result.failed, result.not_sent) == (2, 1, 0)

    gave_up = document_row(app, spent)
    assert gave_up.status is DocumentStatus.failed
    assert gave_up.error.startswith("gave up after 3 attempts: the worker stopped (its lease")
    assert document_row(app, never_sent).enqueued_at is not None
    job = job_row(app, gave_up.job_id)
    assert job.progress_done == 1 and job.status is JobStatus.running

    # The next pass does not send the abandoned row again: its message is out.
    with recording_queue(monkeypatch) as queue, app.app_context():
        result = documents.sweep(now + dt.timedelta(seconds=1))
    assert queue.ids == [] and result.requeued == 0

    # A worker takes the abandoned row: a second attempt.
    render(app, running_dead)
    assert (document_row(app, running_dead).attempts, document_row(app, running_dead).status) == (
        2,
        DocumentStatus.ready,
    )


def test_sweeper_resends_a_lost_message_once_the_queue_is_empty(app, queued, monkeypatch):
    (document_id,) = queued()
    sent_long_ago = utcnow() - dt.timedelta(minutes=5)
    set_row(app, document_id, enqueued_at=sent_long_ago, created_at=sent_long_ago)
    from app.tasks.queue import huey

    monkeypatch.setattr(huey, "pending_count", lambda: 3)  # others still waiting: it may be too
    with recording_queue(monkeypatch) as queue, app.app_context():
        documents.sweep()
    assert queue.ids == []
    monkeypatch.setattr(huey, "pending_count", lambda: 0)
    with recording_queue(monkeypatch) as queue, app.app_context():
        documents.sweep()
    assert queue.ids == [document_id]


def test_sweeper_with_the_queue_down_leaves_rows_queued(app, queued, monkeypatch):
    (document_id,) = queued()
    set_row(app, document_id, enqueued_at=None, created_at=utcnow() - dt.timedelta(minutes=5))
    with recording_queue(monkeypatch, error=ConnectionError("refused")), app.app_context():
        result = documents.sweep()
    assert (result.requeued, result.not_sent) == (0, 1)
    row = document_row(app, document_id)
    assert row.status is DocumentStatus.queued and row.enqueued_at is None


def test_sweep_documents_command_says_what_it_did(app, queued, monkeypatch):
    (document_id,) = queued()
    set_row(app, document_id, enqueued_at=None, created_at=utcnow() - dt.timedelta(minutes=5))
    with recording_queue(monkeypatch) as queue:
        result = app.test_cli_runner().invoke(args=["monassurance", "sweep-documents"])
    assert result.exit_code == 0, result.output
    assert "documents: 1 re-enqueued, 0 failed" in result.output
    assert queue.ids == [document_id]
    set_row(app, document_id, enqueued_at=None)
    with recording_queue(monkeypatch, error=ConnectionError("refused")):
        result = app.test_cli_runner().invoke(args=["monassurance", "sweep-documents"])
    assert result.exit_code == 1
    assert "is REDIS_URL reachable?" in result.output


def test_the_periodic_task_sweeps(app, queued, monkeypatch):
    from app.tasks.documents import sweep_documents

    (document_id,) = queued()
    set_row(app, document_id, enqueued_at=None, created_at=utcnow() - dt.timedelta(minutes=5))
    with app.app_context():
        sweep_documents.call_local()  # what the consumer runs every minute
    assert document_row(app, document_id).status is DocumentStatus.ready


# --- job progress under concurrency ----------------------------------------------


def test_job_progress_is_exact_when_documents_finish_at_the_same_time(app, queued):
    ids = queued(8)
    job_id = document_row(app, ids[0]).job_id
    start = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def finish(document_id: int) -> None:
        try:
            with app.app_context(), Session(db.engine) as session:
                session.execute(
                    update(Document)
                    .where(Document.id == document_id)
                    .values(status=DocumentStatus.ready)
                )
                session.commit()
                start.wait(timeout=10)
                progress.record_document_finished(session, job_id, utcnow())
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=finish, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    job = job_row(app, job_id)
    assert (job.progress_done, job.progress_total, job.status) == (8, 8, JobStatus.succeeded)
    assert job.error is None


# --- metrics ---------------------------------------------------------------------


def test_metrics_show_generations_render_time_work_in_flight_and_queue_depth(app, http, queued):
    labels = {"format": "html", "status": "ready"}
    before = http.get("/metrics").get_data(as_text=True)
    (document_id,) = queued()
    set_row(app, queued()[0], status=DocumentStatus.running, lease_expires_at=utcnow())
    render(app, document_id)
    body = http.get("/metrics").get_data(as_text=True)
    assert sample(body, "documents_generated_total", **labels) == (
        sample(before, "documents_generated_total", **labels) + 1
    )
    histogram = {"format": "html", "engine": "jinja"}
    assert sample(body, "document_render_seconds_count", **histogram) == (
        sample(before, "document_render_seconds_count", **histogram) + 1
    )
    assert sample(body, "jobs_in_flight") == 1
    assert "# TYPE queue_depth gauge" in body
    assert sample(body, "queue_depth") == 0
