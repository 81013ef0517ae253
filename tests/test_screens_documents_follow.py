"""Following generated documents on the screens: the list reloads while documents are being
made, each template names its own files, a job and its document count the same attempts,
and a signed-link download does not tell the reader to come back later."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from app.extensions import db
from app.models import Document, DocumentStatus, Job, JobStatus, OutputFormat, Template
from app.models.base import utcnow
from app.services.reports import sweep_jobs
from app.services.storage import StorageError
from app.services.templates import load_builtin_templates
from tests.conftest import api_token, user_organisation
from tests.links_support import path_of, stored_document
from tests.reports_support import seed_policies
from tests.test_screens_support import csrf_token, page_text

REFRESH = re.compile(r'<meta http-equiv="refresh" content="(\d+)">')
ATTEMPTS = re.compile(r"Tentatives\s*</th>\s*<td[^>]*>\s*(?:<span[^>]*>)?\s*(\d+)")


@pytest.fixture
def agency(app, make_user, login, portfolio):
    """A logged-in USER with one policy (POL-42), and the built-in templates."""
    user = make_user("USER")
    organisation_id = user_organisation(app, user)
    ids = portfolio(organisation_id, "42")
    with app.app_context():
        load_builtin_templates(db.session)
        db.session.commit()
    login(user)
    return {"user": user, "organisation": organisation_id, **ids}


def _builtin(app, key: str) -> int:
    with app.app_context():
        return db.session.query(Template.id).filter_by(builtin_key=key).scalar()


def _generate(http, policy_id: int, template_id: int):
    path = f"/documentview/generate/{policy_id}"
    data = {"template_id": str(template_id), "format": "", "csrf_token": csrf_token(http, path)}
    return http.post(path, data=data, follow_redirects=True)


def _set_status(app, document_id: int, status: DocumentStatus) -> None:
    with app.app_context():
        db.session.get(Document, document_id).status = status
        db.session.commit()


def test_the_document_list_reloads_while_a_document_is_being_made(app, http, agency):
    template_id = _builtin(app, "avis_echeance")
    with app.app_context():
        version_id = db.session.get(Template, template_id).published_version_id
        document = Document(
            organisation_id=agency["organisation"],
            template_id=template_id,
            template_version_id=version_id,
            policy_id=agency["policy"],
            format=OutputFormat.pdf,
            status=DocumentStatus.queued,
        )
        db.session.add(document)
        db.session.commit()
        document_id = document.id
    listing = f"/documentview/list/?_flt_0_policy={agency['policy']}"
    for status in (DocumentStatus.queued, DocumentStatus.running):
        _set_status(app, document_id, status)
        refresh = REFRESH.search(http.get(listing).get_data(as_text=True))
        assert refresh and refresh.group(1) == "3", status
    for status in (DocumentStatus.ready, DocumentStatus.failed):
        _set_status(app, document_id, status)
        assert not REFRESH.search(http.get(listing).get_data(as_text=True)), status


def test_each_builtin_template_names_its_documents(app, http, agency):
    expected = {
        "echeancier": "echeancier-POL-42.xlsx",
        "avis_echeance": "avis-echeance-POL-42.pdf",
        "document_entree_relation": "document-entree-relation-POL-42.pdf",
    }
    for key in expected:
        response = _generate(http, agency["policy"], _builtin(app, key))
        assert response.status_code == 200
    with app.app_context():
        names = {
            row.file_name
            for row in db.session.query(Document).filter_by(policy_id=agency["policy"])
        }
    assert names == set(expected.values())
    listing = page_text(http.get(f"/documentview/list/?_flt_0_policy={agency['policy']}"))
    for name in expected.values():
        assert name in listing


def test_a_render_job_counts_the_attempts_of_its_document(app, http, agency):
    _generate(http, agency["policy"], _builtin(app, "avis_echeance"))
    with app.app_context():
        document = db.session.query(Document).filter_by(policy_id=agency["policy"]).one()
        document_id, job_id = document.id, document.job_id
    assert document.status is DocumentStatus.ready
    document_page = http.get(f"/documentview/show/{document_id}").get_data(as_text=True)
    job_page = http.get(f"/jobview/show/{job_id}").get_data(as_text=True)
    assert ATTEMPTS.search(document_page).group(1) == "1"
    assert ATTEMPTS.search(job_page).group(1) == "1"


def test_a_retried_report_and_its_file_count_the_same_attempts(
    app, http, make_user, login, monkeypatch
):
    from app.services.storage.store import FileStore

    manager = make_user("MANAGER")
    seed_policies(app, user_organisation(app, manager))
    headers = {"Authorization": f"Bearer {api_token(http, manager)}"}

    def disk_full(*_args, **_kwargs):
        raise StorageError("could not store: disk full")

    monkeypatch.setattr(FileStore, "put_file", disk_full)
    job_id = http.post("/api/v1/report/portfolio", json={}, headers=headers).json["job_id"]
    monkeypatch.undo()
    with app.app_context():
        assert sweep_jobs(now=utcnow() + dt.timedelta(minutes=5)).requeued == 1
        job = db.session.get(Job, job_id)
        assert job.status is JobStatus.succeeded and job.attempts == 2
        document_id = job.document_id
    document = http.get(f"/api/v1/document/{document_id}", headers=headers).json["result"]
    assert document["attempts"] == 2
    login(manager)
    job_page = http.get(f"/jobview/show/{job_id}").get_data(as_text=True)
    assert ATTEMPTS.search(job_page).group(1) == "2"


def test_a_signed_link_download_carries_no_retry_after(app, http, make_user, auth_headers):
    username = make_user("USER")
    document_id = stored_document(app, user_organisation(app, username))
    link = http.get(f"/api/v1/document/{document_id}/link", headers=auth_headers(username))
    assert link.status_code == 200, link.get_data(as_text=True)
    download = app.test_client().get(path_of(link.json["url"]))
    assert download.status_code == 200
    assert "Retry-After" not in download.headers
    # The budget is still told (and a 429 still says when to come back: test_links_limits).
    assert download.headers.get("X-RateLimit-Limit")
    assert download.headers.get("X-RateLimit-Remaining")
