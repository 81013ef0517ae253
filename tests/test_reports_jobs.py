"""Report jobs are durable (refused enqueue, dead worker, storage failure); progress; metrics."""

from __future__ import annotations

import datetime as dt

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from app.extensions import db
from app.models import Document, Job, JobStatus
from app.models.base import utcnow
from app.services.reports import Sheet, Tabular, register_producer, sweep_jobs
from app.services.storage import StorageError
from tests.conftest import user_organisation
from tests.reports_support import seed_policies
from tests.test_ops_metrics import sample

PORTFOLIO = "/api/v1/report/portfolio"


@pytest.fixture
def manager(app, make_user, auth_headers):
    username = make_user("MANAGER")
    seed_policies(app, user_organisation(app, username))
    return auth_headers(username)


def job(app, job_id) -> Job:
    with app.app_context():
        row = db.session.get(Job, job_id)
        db.session.expunge(row)
        return row


def later(minutes: int = 5) -> dt.datetime:
    return utcnow() + dt.timedelta(minutes=minutes)


def test_a_refused_enqueue_leaves_the_job_queued_and_the_sweep_sends_it(
    http, app, manager, monkeypatch
):
    import app.tasks.reports as tasks

    real = tasks.run_tabular_job

    def redis_down(job_id):
        raise ConnectionError("Error 111 connecting to redis://:secret@localhost:6379")

    monkeypatch.setattr(tasks, "run_tabular_job", redis_down)
    response = http.post(PORTFOLIO, json={}, headers=manager)
    assert response.status_code == 202
    job_id = response.json["job_id"]
    queued = job(app, job_id)
    assert queued.status is JobStatus.queued and queued.enqueued_at is None
    assert queued.attempts == 0 and queued.document_id is None

    with app.app_context():
        assert sweep_jobs().requeued == 0  # too young: the message may still be on its way
        result = sweep_jobs(now=later())  # Redis still down: stays queued
        assert (result.requeued, result.not_sent) == (0, 1)
    assert job(app, job_id).status is JobStatus.queued

    monkeypatch.setattr(tasks, "run_tabular_job", real)
    with app.app_context():
        assert sweep_jobs(now=later()).requeued == 1
    done = job(app, job_id)
    assert done.status is JobStatus.succeeded and done.document_id is not None
    assert done.attempts == 1


def test_a_dead_workers_job_is_taken_over_once_its_lease_expires(http, app, manager):
    job_id = http.post(PORTFOLIO, json={}, headers=manager).json["job_id"]
    with app.app_context():
        row = db.session.get(Job, job_id)
        # As a worker killed mid-run leaves it: running, its lease over, no document.
        document_id = row.document_id
        row.document_id = None
        row.status = JobStatus.running
        row.lease_token = "dead"
        row.enqueued_at = utcnow() - dt.timedelta(minutes=10)
        row.lease_expires_at = utcnow() - dt.timedelta(seconds=1)
        db.session.delete(db.session.get(Document, document_id))
        db.session.commit()
        assert sweep_jobs().requeued == 1
    done = job(app, job_id)
    assert done.status is JobStatus.succeeded and done.attempts == 2
    with app.app_context():
        assert db.session.query(Document).filter_by(job_id=job_id).count() == 1


def test_a_job_with_no_attempt_left_is_failed_with_the_reason(http, app, manager, monkeypatch):
    import app.tasks.reports as tasks

    monkeypatch.setattr(tasks, "run_tabular_job", lambda job_id: None)  # a message lost
    job_id = http.post(PORTFOLIO, json={}, headers=manager).json["job_id"]
    with app.app_context():
        row = db.session.get(Job, job_id)
        row.status = JobStatus.running
        row.attempts = app.config["DOCUMENT_MAX_ATTEMPTS"]
        row.lease_expires_at = utcnow() - dt.timedelta(seconds=1)
        db.session.commit()
        assert sweep_jobs().failed == 1
    failed = job(app, job_id)
    assert failed.status is JobStatus.failed and failed.finished_at is not None
    assert failed.error.startswith("gave up after 3 attempts: the worker stopped")


def test_a_storage_failure_is_retried_and_leaves_no_document(http, app, manager, monkeypatch):
    from app.services.storage.store import FileStore

    def broken(*args, **kwargs):
        raise StorageError("could not store: disk full")

    monkeypatch.setattr(FileStore, "put_file", broken)
    job_id = http.post(PORTFOLIO, json={}, headers=manager).json["job_id"]
    retried = job(app, job_id)
    assert retried.status is JobStatus.queued and retried.attempts == 1
    assert "disk full" in retried.error and retried.document_id is None
    with app.app_context():
        assert db.session.query(Document).filter_by(job_id=job_id).count() == 0
    monkeypatch.undo()
    with app.app_context():
        assert sweep_jobs(now=later()).requeued == 1
    done = job(app, job_id)
    assert done.status is JobStatus.succeeded and done.error is None and done.attempts == 2


def test_progress_is_recorded_while_rows_are_written(app, make_user, monkeypatch):
    import app.services.reports.runs as runs
    from app.models import JobKind
    from app.services.reports import start_tabular_job
    from tests.reports_support import user_row

    monkeypatch.setattr(runs, "PROGRESS_ROWS", 3)
    seen: list[tuple[int, int, float | None]] = []

    def rows():
        for index in range(10):
            if index == 7:
                with db.engine.connect() as connection:
                    row = connection.execute(
                        select(Job.progress_done, Job.progress_total, Job.status)
                    ).one()
                active = REGISTRY.get_sample_value(
                    "report_jobs_active", {"job_type": "test-progress"}
                )
                seen.append((row[0], row[1], row[2], active))
            yield (index,)

    register_producer(
        "test-progress", lambda session, request: Tabular("t", [Sheet("S", ["N"], rows, 10)])
    )
    username = make_user("MANAGER")
    with app.test_request_context():
        user = db.session.merge(user_row(app, username))
        job_id = start_tabular_job(
            db.session, user, job_kind=JobKind.report, name="test-progress", params={}
        ).id
    (done, total, status, active) = seen[0]
    assert total == 10 and 3 <= done < 10 and status is JobStatus.running
    assert active == 1
    finished = job(app, job_id)
    assert (finished.progress_done, finished.progress_total) == (10, 10)
    assert REGISTRY.get_sample_value("report_jobs_active", {"job_type": "test-progress"}) == 0


def test_metrics_count_report_jobs_by_type_and_outcome(http, app, manager):
    def scrape(**labels):
        return sample(http.get("/metrics").get_data(as_text=True), "report_jobs_total", **labels)

    def rows():
        raise RuntimeError("broken")
        yield ()

    register_producer(
        "test-metrics", lambda session, request: Tabular("t", [Sheet("S", ["A"], rows, 1)])
    )
    succeeded = scrape(job_type="portfolio", status="succeeded")
    failed = scrape(job_type="test-metrics", status="failed")
    assert http.post(PORTFOLIO, json={}, headers=manager).status_code == 202
    assert scrape(job_type="portfolio", status="succeeded") == succeeded + 1

    from app.models import AppUser, JobKind
    from app.services.reports import start_tabular_job

    with app.test_request_context():
        user = db.session.query(AppUser).filter(AppUser.organisation_id.isnot(None)).first()
        start_tabular_job(db.session, user, job_kind=JobKind.report, name="test-metrics", params={})
    assert scrape(job_type="test-metrics", status="failed") == failed + 1
    body = http.get("/metrics").get_data(as_text=True)
    assert "# TYPE report_jobs_active gauge" in body
    assert sample(body, "report_jobs_active", job_type="portfolio") == 0


def test_the_sweep_command_sweeps_report_jobs_too(http, app, manager, monkeypatch):
    import app.tasks.reports as tasks

    real = tasks.run_tabular_job
    monkeypatch.setattr(tasks, "run_tabular_job", lambda job_id: None)  # a lost message
    job_id = http.post(PORTFOLIO, json={}, headers=manager).json["job_id"]
    monkeypatch.setattr(tasks, "run_tabular_job", real)
    with app.app_context():
        row = db.session.get(Job, job_id)
        row.enqueued_at = row.created_at = utcnow() - dt.timedelta(minutes=5)
        db.session.commit()
    output = app.test_cli_runner().invoke(args=["monassurance", "sweep-documents"])
    assert output.exit_code == 0, output.output
    assert "report and export jobs: 1 re-enqueued, 0 failed" in output.output
    assert job(app, job_id).status is JobStatus.succeeded
