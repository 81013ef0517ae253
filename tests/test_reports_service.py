"""The tabular-job runner and the two reports, through the service (the worker runs inline)."""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile

import pytest

from app.extensions import db
from app.models import AuditLog, Document, DocumentStatus, Job, JobKind, JobStatus
from app.services.reports import Sheet, Tabular, TabularError, register_producer, start_tabular_job
from app.services.storage import file_store
from tests.conftest import user_organisation
from tests.reports_support import fr, job_row, seed_policies, sheet_rows, user_row, workbook_of


@pytest.fixture
def manager(make_user):
    return make_user("MANAGER")


def start(app, username, name="portfolio", params=None, **kwargs):
    with app.test_request_context():
        user = db.session.merge(user_row(app, username))
        job = start_tabular_job(
            db.session,
            user,
            job_kind=kwargs.pop("job_kind", JobKind.report),
            name=name,
            params=params or {},
            **kwargs,
        )
        return job.id


def test_portfolio_report_lists_every_policy_and_sums_by_insurer_and_line(app, manager):
    organisation = user_organisation(app, manager)
    ids = seed_policies(app, organisation)
    job = job_row(app, start(app, manager))
    assert job.status is JobStatus.succeeded, job.error
    # 5 policies + 9 summary rows (3 insurer, 4 line, 2 currency totals)
    assert (job.progress_done, job.progress_total) == (14, 14)
    workbook = workbook_of(app, job.document_id)
    policies = sheet_rows(workbook, 0)
    assert len(policies) == 6
    assert policies[0][0] == fr(app, "Policy number") and policies[0][8] == fr(app, "Status")
    assert [row[0] for row in policies[1:]] == ["P-001", "P-002", "P-003", "P-004", "P-005"]
    first = policies[1]
    assert first[1] == "Jeanne Martin" and first[2] == "P Axa"
    assert float(first[4]) == 100.0 and first[5] == "EUR"
    assert first[6].date() == dt.date(2026, 1, 5)
    summary = sheet_rows(workbook, 1)
    rows = {(row[0], row[1], row[2]): (row[3], float(row[4])) for row in summary[1:]}
    assert rows[(fr(app, "By insurer"), "P Axa", "EUR")] == (3, 1300.5)
    assert rows[(fr(app, "By insurer"), "P Maif", "EUR")] == (1, 300.25)
    assert rows[(fr(app, "By insurer"), "P Maif", "USD")] == (1, 50.0)
    assert rows[(fr(app, "Total"), None, "EUR")] == (4, 1600.75)
    assert rows[(fr(app, "Total"), None, "USD")] == (1, 50.0)
    assert ids


def test_the_report_is_a_document_with_its_checksum_and_name(app, manager):
    seed_policies(app, user_organisation(app, manager))
    job = job_row(app, start(app, manager))
    with app.app_context():
        document = db.session.get(Document, job.document_id)
        data = file_store().get(document.storage_key, compressed=False, encrypted=False)
        assert document.status is DocumentStatus.ready
        assert document.template_id is None and document.template_version_id is None
        assert document.sha256 == hashlib.sha256(data).hexdigest()
        assert document.size == len(data)
        assert document.file_name == f"rapport-portefeuille-{dt.date.today():%Y-%m-%d}.xlsx"
        assert document.media_type.startswith("application/vnd.openxmlformats")
        assert document.job_id == job.id
        actions = {a for (a,) in db.session.query(AuditLog.action).filter_by(object_id=str(job.id))}
        assert {"report.requested", "report.delivered"} <= actions


def test_filters_keep_one_insurer_and_one_period(app, manager):
    ids = seed_policies(app, user_organisation(app, manager))
    params = {"insurer_id": ids["axa"], "date_from": "2026-01-10", "date_to": "2026-12-31"}
    job = job_row(app, start(app, manager, params=params))
    policies = sheet_rows(workbook_of(app, job.document_id), 0)
    assert [row[0] for row in policies[1:]] == ["P-002", "P-005"]


def test_premiums_by_month_cover_every_month_of_the_period(app, manager):
    ids = seed_policies(app, user_organisation(app, manager))
    params = {"date_from": "2025-12-01", "date_to": "2026-04-30"}
    job = job_row(app, start(app, manager, name="premiums", params=params))
    assert job.status is JobStatus.succeeded, job.error
    workbook = workbook_of(app, job.document_id)
    detail = sheet_rows(workbook, 0)[1:]
    assert [(r[0], r[1], r[2], r[3], float(r[4])) for r in detail] == [
        ("2026-01", "P Axa", "EUR", 2, 300.5),
        ("2026-02", "P Maif", "EUR", 1, 300.25),
        ("2026-03", "P Axa", "EUR", 1, 1000.0),
        ("2026-03", "P Maif", "USD", 1, 50.0),
    ]
    totals = sheet_rows(workbook, 1)[1:]
    months = [(r[1], r[2], r[3]) for r in totals if r[0] == fr(app, "By month")]
    assert ("2025-12", "EUR", 0) in months and ("2026-04", "USD", 0) in months
    assert ("2026-01", "EUR", 2) in months
    assert [(r[2], r[3], float(r[4])) for r in totals if r[0] == fr(app, "Total")] == [
        ("EUR", 4, 1600.75),
        ("USD", 1, 50.0),
    ]
    assert ids


def test_another_agencys_policies_never_appear(app, manager, make_organisation):
    seed_policies(app, user_organisation(app, manager), prefix="OURS")
    seed_policies(app, make_organisation(), prefix="THEIRS")
    job = job_row(app, start(app, manager))
    workbook = workbook_of(app, job.document_id)
    cells = {cell for index in (0, 1) for row in sheet_rows(workbook, index) for cell in row}
    assert not any(isinstance(cell, str) and "THEIRS" in cell for cell in cells)
    assert len(sheet_rows(workbook, 0)) == 6


def test_a_failing_producer_fails_the_job_and_leaves_no_document(
    app, manager, tmp_path, monkeypatch
):
    # The workbook streams rows into temporary files: none may outlive a failed job.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seed_policies(app, user_organisation(app, manager))

    def rows():
        yield ("a",)
        raise TabularError("the producer broke halfway")

    register_producer(
        "test-broken",
        lambda session, request: Tabular("broken", [Sheet("S", ["A"], rows, 2)]),
    )
    with app.app_context():
        stored_before = set(file_store().keys())
    job = job_row(app, start(app, manager, name="test-broken"))
    assert job.status is JobStatus.failed
    assert job.error == "the producer broke halfway"
    assert job.document_id is None
    with app.app_context():
        assert db.session.query(Document).filter_by(job_id=job.id).count() == 0
        assert set(file_store().keys()) == stored_before
    assert list(tmp_path.iterdir()) == []


def test_an_unexpected_error_fails_the_job_without_a_document(app, manager):
    def rows():
        raise RuntimeError("boom")

    register_producer(
        "test-crash", lambda session, request: Tabular("crash", [Sheet("S", ["A"], rows, 1)])
    )
    job = job_row(app, start(app, manager, name="test-crash"))
    assert job.status is JobStatus.failed and "RuntimeError" in job.error
    with app.app_context():
        assert db.session.query(Document).filter_by(job_id=job.id).count() == 0


def test_csv_output_holds_the_first_sheet(app, manager):
    register_producer(
        "test-csv",
        lambda session, request: Tabular(
            "liste", [Sheet("S", ["Nom", "Montant"], lambda: iter([("=1+1", 2), ("é", None)]), 2)]
        ),
        job_kind=JobKind.export,
    )
    job = job_row(
        app, start(app, manager, name="test-csv", job_kind=JobKind.export, output_format="csv")
    )
    assert job.status is JobStatus.succeeded, job.error
    with app.app_context():
        document = db.session.get(Document, job.document_id)
        data = file_store().get(document.storage_key, compressed=False, encrypted=False)
    assert document.file_name.endswith(".csv") and document.media_type.startswith("text/csv")
    assert data.decode("utf-8-sig").splitlines() == ["Nom;Montant", "'=1+1;2", "é;"]


def test_a_finished_job_run_again_makes_no_second_document(app, manager):
    from app.services.reports import run_tabular_job

    seed_policies(app, user_organisation(app, manager))
    job_id = start(app, manager)
    with app.app_context():
        run_tabular_job(job_id)
        assert db.session.query(Document).filter_by(job_id=job_id).count() == 1
        assert db.session.get(Job, job_id).attempts == 1


def test_premiums_leave_drafts_out_like_the_dashboard(app, manager):
    from app.models import Policy, PolicyStatus

    seed_policies(app, user_organisation(app, manager))
    with app.app_context():
        db.session.query(Policy).filter_by(number="P-005").update({"status": PolicyStatus.draft})
        db.session.commit()
    params = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
    job = job_row(app, start(app, manager, name="premiums", params=params))
    detail = sheet_rows(workbook_of(app, job.document_id), 0)[1:]
    assert [(r[0], r[1], r[2]) for r in detail] == [("2026-03", "P Maif", "USD")]
