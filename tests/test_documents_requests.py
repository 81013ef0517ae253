"""Asking for documents (app/services/documents): one transaction, then the queue.

The test session runs Huey in immediate mode, so an enqueued render runs inline;
`recording_queue` replaces the task when a test wants to see the queued state.
"""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditLog,
    Document,
    DocumentStatus,
    Job,
    JobKind,
    JobStatus,
    OutputFormat,
    TemplateKind,
)
from app.services import documents
from app.services.errors import ConflictError, InvalidRequestError, NotFoundError
from app.services.storage import file_store
from tests.conftest import user_organisation
from tests.documents_support import (
    CONTRACT_V1,
    CONTRACT_V2,
    XLSX_BODY,
    add_version,
    create_template,
    document_row,
    fresh_store,
    job_row,
    load_user,
    recording_queue,
)


@pytest.fixture
def agency(app, make_user, portfolio, monkeypatch):
    """A USER of an agency with one policy and a published contract template."""
    with fresh_store(app, monkeypatch):
        yield _agency(app, make_user, portfolio)


def _agency(app, make_user, portfolio):
    username = make_user("USER")
    organisation_id = user_organisation(app, username)
    ids = portfolio(organisation_id, "R1")
    template_id = create_template(app, organisation_id, name="Contrat Habitation")
    return {
        "user": username,
        "organisation": organisation_id,
        "policy": ids["policy"],
        "template": template_id,
    }


def ask(app, username, **kwargs):
    with app.test_request_context():
        return documents.request_document(db.session, load_user(username), **kwargs).id


def count(app, model, *where):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def test_request_writes_document_job_and_audit_then_enqueues_the_id(app, agency, monkeypatch):
    with recording_queue(monkeypatch) as queue:
        document_id = ask(
            app, agency["user"], template_id=agency["template"], policy_id=agency["policy"]
        )

    assert queue.ids == [document_id]
    document = document_row(app, document_id)
    assert document.status is DocumentStatus.queued
    assert document.format is OutputFormat.html
    assert document.attempts == 0
    assert document.enqueued_at is not None
    assert document.organisation_id == agency["organisation"]
    job = job_row(app, document.job_id)
    assert (job.kind, job.status, job.progress_total, job.progress_done) == (
        JobKind.render,
        JobStatus.queued,
        1,
        0,
    )
    assert job.document_id == document_id
    with app.app_context():
        owner = load_user(agency["user"])
        assert job.owner_id == owner.id == document.created_by_id
        entry = db.session.execute(
            select(AuditLog).where(AuditLog.action == "document.requested")
        ).scalar_one()
        assert entry.object_id == str(document_id)
        assert entry.username == agency["user"]
        assert entry.organisation_id == agency["organisation"]
        assert entry.changes["template_version"] == 1
        assert entry.changes["policy_id"] == agency["policy"]


def test_a_failing_audit_write_leaves_no_document_and_no_job(app, agency, monkeypatch):
    from app.services.documents import requests

    def broken(*_args, **_kwargs):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(requests.audit, "record", broken)
    with recording_queue(monkeypatch) as queue, pytest.raises(RuntimeError):
        ask(app, agency["user"], template_id=agency["template"], policy_id=agency["policy"])
    assert queue.ids == []
    assert count(app, Document) == 0
    assert count(app, Job) == 0


def test_queue_down_leaves_the_row_queued_and_still_returns_it(app, agency, monkeypatch, caplog):
    from redis.exceptions import ConnectionError as RedisDown

    refusal = RedisDown("Error 111 connecting to redis://:hunter2secret@10.0.0.9:6379/0.")
    caplog.set_level(logging.WARNING, logger="app.services.leasing")
    with recording_queue(monkeypatch, error=refusal):
        document_id = ask(
            app, agency["user"], template_id=agency["template"], policy_id=agency["policy"]
        )

    document = document_row(app, document_id)
    assert document.status is DocumentStatus.queued
    assert document.enqueued_at is None  # the sweeper sends it
    assert "left queued for the sweeper" in caplog.text
    assert "hunter2secret" not in caplog.text
    assert "ConnectionError" in caplog.text


def test_immediate_mode_renders_inline_and_the_file_downloads(app, agency):
    document_id = ask(
        app, agency["user"], template_id=agency["template"], policy_id=agency["policy"]
    )
    document = document_row(app, document_id)
    assert document.status is DocumentStatus.ready, document.error
    assert document.file_name == "contrat-habitation-POL-R1.html"  # the template's own slug
    assert document.media_type == "text/html"
    with app.test_request_context():
        download = documents.open_download(db.session, load_user(agency["user"]), document_id)
    assert b"Contrat POL-R1" in download.read()
    assert download.sha256 == document.sha256
    assert count(app, AuditLog, AuditLog.action == "document.download") == 1


def test_the_pinned_version_stays_after_a_later_publish(app, agency):
    first = ask(app, agency["user"], template_id=agency["template"], policy_id=agency["policy"])
    add_version(app, agency["template"], CONTRACT_V2)
    second = ask(app, agency["user"], template_id=agency["template"], policy_id=agency["policy"])

    old, new = document_row(app, first), document_row(app, second)
    assert old.template_version_id != new.template_version_id
    with app.test_request_context():
        user = load_user(agency["user"])
        old_bytes = documents.open_download(db.session, user, first).read()
        new_bytes = documents.open_download(db.session, user, second).read()
    assert b"Version une" in old_bytes and b"Version deux" not in old_bytes
    assert b"Version deux" in new_bytes
    assert CONTRACT_V1 != CONTRACT_V2


def test_a_template_without_published_version_is_refused(app, agency):
    draft = create_template(app, agency["organisation"], publish=False, name="Brouillon")
    with pytest.raises(InvalidRequestError, match="aucune version publiée") as refused:
        ask(app, agency["user"], template_id=draft, policy_id=agency["policy"])
    assert refused.value.status == 422
    assert count(app, Document) == 0


def test_templates_and_policies_of_another_agency_are_not_found(
    app, agency, make_organisation, portfolio
):
    other = make_organisation()
    foreign_policy = portfolio(other, "X9")["policy"]
    foreign_template = create_template(app, other, name="Modèle d'ailleurs")
    for kwargs in (
        {"template_id": foreign_template, "policy_id": agency["policy"]},
        {"template_id": agency["template"], "policy_id": foreign_policy},
        {"template_id": agency["template"], "policy_id": 2**40},
        {"template_id": "1", "policy_id": agency["policy"]},
    ):
        with pytest.raises(NotFoundError) as refused:
            ask(app, agency["user"], **kwargs)
        assert refused.value.status == 404
    assert count(app, Document) == 0


def test_a_shared_template_serves_every_agency(app, agency):
    shared = create_template(app, None, name="Modèle partagé")
    document_id = ask(app, agency["user"], template_id=shared, policy_id=agency["policy"])
    assert document_row(app, document_id).status is DocumentStatus.ready


def test_a_superadmin_cannot_print_one_agencys_template_on_anothers_policy(
    app, agency, make_user, make_organisation, portfolio
):
    admin = make_user("SUPERADMIN")
    foreign_policy = portfolio(make_organisation(), "Y1")["policy"]
    with pytest.raises(NotFoundError):
        ask(app, admin, template_id=agency["template"], policy_id=foreign_policy)


@pytest.mark.parametrize(
    ("template_format", "asked", "expected"),
    [
        (OutputFormat.html, None, OutputFormat.html),
        (OutputFormat.html, "pdf", OutputFormat.pdf),
        (OutputFormat.pdf, "html", OutputFormat.html),
        (OutputFormat.pdf, None, OutputFormat.pdf),
        (OutputFormat.xlsx, "xlsx", OutputFormat.xlsx),
        (OutputFormat.html, "xlsx", None),
        (OutputFormat.xlsx, "pdf", None),
        (OutputFormat.html, "docx", None),
    ],
)
def test_format_follows_the_template_body(
    app, agency, monkeypatch, template_format, asked, expected
):
    body = XLSX_BODY if template_format is OutputFormat.xlsx else CONTRACT_V1
    template_id = create_template(app, agency["organisation"], body, output_format=template_format)
    with recording_queue(monkeypatch):
        if expected is None:
            with pytest.raises(InvalidRequestError) as refused:
                ask(
                    app,
                    agency["user"],
                    template_id=template_id,
                    policy_id=agency["policy"],
                    format=asked,
                )
            assert "format" in refused.value.errors
            return
        document_id = ask(
            app, agency["user"], template_id=template_id, policy_id=agency["policy"], format=asked
        )
    assert document_row(app, document_id).format is expected


def test_encryption_needs_keys_and_then_round_trips(app, agency, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_ENCRYPTION_KEYS", [])
    with pytest.raises(InvalidRequestError, match="STORAGE_ENCRYPTION_KEYS") as refused:
        ask(
            app,
            agency["user"],
            template_id=agency["template"],
            policy_id=agency["policy"],
            encrypt=True,
        )
    assert refused.value.errors["encrypt"]

    key = Fernet.generate_key().decode()
    monkeypatch.setitem(app.config, "STORAGE_ENCRYPTION_KEYS", [key])
    # The store reads its keys when it is opened: open one with the key.
    with fresh_store(app, monkeypatch, [key]):
        document_id = ask(
            app,
            agency["user"],
            template_id=agency["template"],
            policy_id=agency["policy"],
            compress=True,
            encrypt=True,
        )
        document = document_row(app, document_id)
        assert document.status is DocumentStatus.ready, document.error
        assert (document.compressed, document.encrypted) == (True, True)
        with app.test_request_context():
            raw = file_store().get(document.storage_key, compressed=False, encrypted=False)
            assert b"POL-R1" not in raw  # stored encrypted
            download = documents.open_download(db.session, load_user(agency["user"]), document_id)
        assert b"Contrat POL-R1" in download.read()
        assert download.size == document.size


def test_flags_must_be_booleans(app, agency):
    with pytest.raises(InvalidRequestError):
        ask(
            app,
            agency["user"],
            template_id=agency["template"],
            policy_id=agency["policy"],
            compress="yes",
        )


# --- batches ---------------------------------------------------------------------


def test_a_batch_is_one_job_n_documents_and_one_audit_row(app, agency, portfolio, monkeypatch):
    second = portfolio(agency["organisation"], "R2")["policy"]
    with recording_queue(monkeypatch) as queue, app.test_request_context():
        job = documents.request_batch(
            db.session,
            load_user(agency["user"]),
            template_id=agency["template"],
            policy_ids=[agency["policy"], second, agency["policy"]],  # a duplicate counts once
        )
        job_id = job.id
    job = job_row(app, job_id)
    assert (job.kind, job.status, job.progress_total) == (JobKind.batch_render, JobStatus.queued, 2)
    assert count(app, Document, Document.job_id == job_id) == 2
    assert len(queue.ids) == 2  # one task per document: workers share a batch
    assert count(app, AuditLog, AuditLog.action == "document.batch_requested") == 1
    assert count(app, AuditLog, AuditLog.action == "document.requested") == 0


def test_a_batch_with_a_foreign_policy_is_refused_whole(
    app, agency, make_organisation, portfolio, monkeypatch
):
    foreign = portfolio(make_organisation(), "Z1")["policy"]
    with (
        recording_queue(monkeypatch) as queue,
        app.test_request_context(),
        pytest.raises(NotFoundError) as refused,
    ):
        documents.request_batch(
            db.session,
            load_user(agency["user"]),
            template_id=agency["template"],
            policy_ids=[agency["policy"], foreign],
        )
    assert str(foreign) not in refused.value.message
    assert queue.ids == []
    assert count(app, Job) == 0 and count(app, Document) == 0


@pytest.mark.parametrize("policy_ids", [[], "1,2", [1, 2, 3], [{"id": 1}], [True], None])
def test_a_batch_needs_one_to_batch_max_policies(app, agency, monkeypatch, policy_ids):
    monkeypatch.setitem(app.config, "DOCUMENT_BATCH_MAX", 2)
    with app.test_request_context(), pytest.raises(InvalidRequestError):
        documents.request_batch(
            db.session,
            load_user(agency["user"]),
            template_id=agency["template"],
            policy_ids=policy_ids,
        )


def test_batch_progress_counts_finished_documents_and_names_failures(
    app, agency, portfolio, monkeypatch
):
    # Fails for one policy only: its number makes the template read a missing variable.
    body = (
        "<p>{{ policy.number }}</p>"
        "{% if policy.number == 'POL-B2' %}{{ no_such_variable.anything }}{% endif %}"
    )
    template_id = create_template(app, agency["organisation"], body, kind=TemplateKind.notice)
    policies = [portfolio(agency["organisation"], f"B{n}")["policy"] for n in (1, 2, 3)]
    with recording_queue(monkeypatch) as queue, app.test_request_context():
        job_id = documents.request_batch(
            db.session, load_user(agency["user"]), template_id=template_id, policy_ids=policies
        ).id

    done = []
    for document_id in queue.ids:
        with app.app_context():
            documents.run_render(document_id)
        done.append(job_row(app, job_id).progress_done)
        if len(done) < 3:
            assert job_row(app, job_id).status is JobStatus.running
    assert done == [1, 2, 3]
    job = job_row(app, job_id)
    assert job.status is JobStatus.failed
    assert job.error == "1 of 3 documents failed"
    assert job.finished_at is not None
    statuses = sorted(document_row(app, i).status.value for i in queue.ids)
    assert statuses == ["failed", "ready", "ready"]


# --- scope and downloads ---------------------------------------------------------


def test_documents_and_jobs_are_seen_in_their_agency_only(
    app, agency, make_user, make_organisation
):
    document_id = ask(
        app, agency["user"], template_id=agency["template"], policy_id=agency["policy"]
    )
    job_id = document_row(app, document_id).job_id
    colleague = make_user("USER", organisation_id=agency["organisation"])
    outsider = make_user("MANAGER", organisation_id=make_organisation())
    operator = make_user("SUPERADMIN")
    with app.test_request_context():
        for username, sees in ((colleague, True), (outsider, False), (operator, True)):
            user = load_user(username)
            assert (documents.visible_document(db.session, user, document_id) is not None) is sees
            assert (documents.visible_job(db.session, user, job_id) is not None) is sees
            assert documents.documents_query(db.session, user).count() == (1 if sees else 0)
        assert documents.visible_document(db.session, load_user(colleague), True) is None
        with pytest.raises(NotFoundError):
            documents.open_download(db.session, load_user(outsider), document_id)


def test_download_of_a_document_not_ready_is_a_conflict(app, agency, monkeypatch):
    with recording_queue(monkeypatch):
        document_id = ask(
            app, agency["user"], template_id=agency["template"], policy_id=agency["policy"]
        )
    with (
        app.test_request_context(),
        pytest.raises(ConflictError, match="pas encore prêt : statut queued"),
    ):
        documents.open_download(db.session, load_user(agency["user"]), document_id)


def test_a_damaged_file_is_refused_and_logged(app, agency, caplog):
    document_id = ask(
        app, agency["user"], template_id=agency["template"], policy_id=agency["policy"]
    )
    document = document_row(app, document_id)
    with app.app_context():
        file_store().put(document.storage_key, b"altered", compress=False, encrypt=False)
    with (
        app.test_request_context(),
        pytest.raises(ConflictError, match="somme de contrôle") as refused,
    ):
        documents.open_download(db.session, load_user(agency["user"]), document_id)
    assert refused.value.status == 409
    assert f"document {document_id}: stored file checksum" in caplog.text
    assert count(app, AuditLog, AuditLog.action == "document.download") == 0
