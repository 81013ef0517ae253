"""Generating, listing and downloading documents, and following jobs, through the screens.

HUEY_IMMEDIATE=true (tests/conftest.py) runs the render task inline, so a
document asked for from a screen is ready when the next page loads.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader

from app.extensions import db
from app.models import Document, DocumentStatus, Job, JobStatus, Policy, PolicyStatus
from tests.conftest import user_organisation
from tests.test_screens_support import count_rows, csrf_token, flashes, load, page_text
from tests.test_screens_templates import make_template

BODY = (
    "<html><body><h1>Attestation</h1>\n"
    "<p>Contrat {{ policy.number }} de {{ client.display_name }}</p>\n"
    "</body></html>\n"
)


@pytest.fixture
def agency(app, make_user, login, portfolio):
    """A logged-in USER, their manager's published template and one policy."""
    manager = make_user("MANAGER")
    organisation_id = user_organisation(app, manager)
    template_id = make_template(app, manager, name="Attestation", body=BODY)
    ids = portfolio(organisation_id, "42")
    user = make_user("USER", organisation_id=organisation_id)
    login(user)
    return {"user": user, "template": template_id, "organisation": organisation_id, **ids}


def _generate(http, policy_id, template_id, **extra):
    path = f"/documentview/generate/{policy_id}"
    token = csrf_token(http, path)
    data = {"template_id": str(template_id), "format": "", "csrf_token": token, **extra}
    return http.post(path, data=data, follow_redirects=True)


def _documents(app, **equal):
    with app.app_context():
        rows = db.session.query(Document).filter_by(**equal).order_by(Document.id).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_policy_page_offers_generation(app, http, agency):
    page = page_text(http.get(f"/policyview/show/{agency['policy']}"))
    assert f'href="/documentview/generate/{agency["policy"]}"' in page
    form = page_text(http.get(f"/documentview/generate/{agency['policy']}"))
    assert "POL-42" in form
    assert f'<option value="{agency["template"]}">Attestation</option>' in form
    # No encryption key configured in tests: no box to tick.
    assert 'name="encrypt"' not in form


def test_generate_from_the_policy_then_download_the_pdf(app, http, agency):
    response = _generate(http, agency["policy"], agency["template"], compress="y")
    assert response.status_code == 200
    assert any(category == "success" for category, _text in flashes(response))
    # Landed on the documents list, filtered on the policy.
    assert response.request.path == "/documentview/list/"
    assert response.request.args.get("_flt_0_policy") == str(agency["policy"])

    (document,) = _documents(app, policy_id=agency["policy"])
    assert document.status == DocumentStatus.ready, document.error
    assert document.compressed is True
    page = page_text(response)
    assert document.file_name in page
    assert f"/documentview/download/{document.id}" in page

    download = http.get(f"/documentview/download/{document.id}")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and document.file_name in disposition
    assert download.data.startswith(b"%PDF")
    text = _pdf_text(download.data)
    assert "POL-42" in text

    shown = page_text(http.get(f"/documentview/show/{document.id}"))
    assert 'id="download"' in shown and document.sha256 in shown


def test_the_documents_list_filters_and_shows_each_column(app, http, agency, portfolio):
    other = portfolio(agency["organisation"], "43")
    _generate(http, agency["policy"], agency["template"])
    _generate(http, other["policy"], agency["template"])
    everything = page_text(http.get("/documentview/list/"))
    assert "POL-42" in everything and "POL-43" in everything
    assert "Attestation v1" in everything
    filtered = page_text(http.get(f"/documentview/list/?_flt_0_policy={other['policy']}"))
    assert "POL-43" in filtered and "POL-42" not in filtered
    by_status = http.get("/documentview/list/?_flt_0_status=failed")
    assert by_status.status_code == 200 and "POL-42" not in page_text(by_status)
    by_template = http.get(f"/documentview/list/?_flt_0_template={agency['template']}")
    assert "POL-42" in page_text(by_template)


def test_a_document_that_is_not_ready_does_not_download(app, http, agency):
    _generate(http, agency["policy"], agency["template"])
    (document,) = _documents(app, policy_id=agency["policy"])
    with app.app_context():
        row = db.session.get(Document, document.id)
        row.status = DocumentStatus.failed
        row.error = "Le rendu a échoué."
        db.session.commit()
    response = http.get(f"/documentview/download/{document.id}", follow_redirects=True)
    assert response.mimetype == "text/html"
    assert any(category in ("warning", "danger") for category, _text in flashes(response))
    assert "Le rendu a échoué." in page_text(http.get("/documentview/list/"))


def test_bulk_generation_makes_one_job_and_three_documents(app, http, agency):
    with app.app_context():
        extra = []
        for number in ("B-1", "B-2"):
            policy = Policy(
                organisation_id=agency["organisation"],
                number=number,
                client_id=agency["client"],
                company_id=agency["company"],
                line_of_business="auto",
                status=PolicyStatus.active,
                effective_date=dt.date(2026, 1, 1),
                expiry_date=dt.date(2027, 1, 1),
                premium=Decimal("100"),
            )
            db.session.add(policy)
            extra.append(policy)
        db.session.commit()
        policy_ids = [agency["policy"], *(policy.id for policy in extra)]

    token = csrf_token(http, "/policyview/list/")
    rowids = [str(policy_id) for policy_id in policy_ids]
    # Step 1: the action asks for the template.
    confirm = http.post(
        "/policyview/action_post",
        data={"action": "generate_documents", "rowid": rowids, "csrf_token": token},
    )
    assert confirm.status_code == 200
    page = page_text(confirm)
    assert "B-1" in page and "B-2" in page and "POL-42" in page
    assert count_rows(app, Job) == 0
    # Step 2: confirmed with a template.
    token = csrf_token(http, "/policyview/list/")
    done = http.post(
        "/policyview/action_post",
        data={
            "action": "generate_documents",
            "rowid": rowids,
            "template_id": str(agency["template"]),
            "csrf_token": token,
        },
        follow_redirects=True,
    )
    assert done.status_code == 200
    (job_id,) = [row.id for row in _jobs(app)]
    assert done.request.path == f"/jobview/show/{job_id}"
    job = load(app, Job, job_id)
    assert (job.progress_done, job.progress_total) == (3, 3)
    assert job.status == JobStatus.succeeded
    page = page_text(done)
    assert re.search(r'<progress id="job-progress" value="3" max="3">', page)
    documents = _documents(app, job_id=job_id)
    assert len(documents) == 3
    assert {document.policy_id for document in documents} == set(policy_ids)
    assert all(document.status == DocumentStatus.ready for document in documents)
    # The jobs list shows the bar; the job links to its documents.
    assert "3/3" in page_text(http.get("/jobview/list/"))
    listed = page_text(http.get(f"/documentview/list/?_flt_0_job_id={job_id}"))
    assert "B-1" in listed and "B-2" in listed and "POL-42" in listed


def _jobs(app):
    with app.app_context():
        rows = db.session.query(Job).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_bulk_generation_without_a_selection_changes_nothing(app, http, agency):
    token = csrf_token(http, "/policyview/list/")
    response = http.post(
        "/policyview/action_post",
        data={"action": "generate_documents", "rowid": [], "csrf_token": token},
        follow_redirects=True,
    )
    assert any(category == "warning" for category, _text in flashes(response))
    assert count_rows(app, Job) == 0


def test_generation_with_an_unknown_template_is_refused(app, http, agency):
    response = _generate(http, agency["policy"], 987654)
    assert response.status_code == 200
    assert count_rows(app, Document) == 0
    assert response.request.path == f"/documentview/generate/{agency['policy']}"


def test_another_agencys_documents_and_jobs_stay_hidden(
    app, http, agency, make_user, make_organisation, portfolio
):
    # Agency B generates a batch of one document.
    other_org = make_organisation()
    other_manager = make_user("MANAGER", organisation_id=other_org)
    other_template = make_template(app, other_manager, name="SecretB", body=BODY)
    other = portfolio(other_org, "B")
    with app.test_request_context():
        from app.models import AppUser
        from app.services import documents as document_service

        manager = db.session.query(AppUser).filter_by(username=other_manager).one()
        job = document_service.request_batch(
            db.session, manager, template_id=other_template, policy_ids=[other["policy"]]
        )
        job_id = job.id
    (document,) = _documents(app, policy_id=other["policy"])
    assert document.status == DocumentStatus.ready

    listing = page_text(http.get("/documentview/list/"))
    assert "POL-B" not in listing and (document.file_name or "x") not in listing
    # The template filter offers A's templates only (FAB embeds its options in the page).
    assert "Attestation" in listing and "SecretB" not in listing
    assert "POL-B" not in page_text(
        http.get(f"/documentview/list/?_flt_0_policy={other['policy']}")
    )
    for path in (
        f"/documentview/show/{document.id}",
        f"/documentview/download/{document.id}",
        f"/jobview/show/{job_id}",
        f"/documentview/generate/{other['policy']}",
    ):
        response = http.get(path)
        assert response.status_code == 404, path
        assert not response.data.startswith(b"%PDF")
    assert f"/jobview/show/{job_id}" not in page_text(http.get("/jobview/list/"))
    # Generating from B's policy with A's template, or from A's policy with B's template.
    token = csrf_token(http, f"/documentview/generate/{agency['policy']}")
    forged = http.post(
        f"/documentview/generate/{other['policy']}",
        data={"template_id": str(agency["template"]), "format": "", "csrf_token": token},
    )
    assert forged.status_code == 404
    _generate(http, agency["policy"], other_template)
    assert _documents(app, policy_id=agency["policy"]) == []


def test_document_pages_refuse_bad_ids(app, http, agency):
    for path in (
        "/documentview/show/abc",
        "/documentview/download/abc",
        "/documentview/download/99999999999999999999",
        "/jobview/show/abc",
        "/documentview/generate/abc",
    ):
        assert http.get(path).status_code == 404, path
    assert http.get("/documentview/list/?_flt_0_job_id=abc").status_code in (200, 400)
    assert http.get("/documentview/list/?_flt_0_status=nope").status_code in (200, 400)


def test_an_encrypted_document_from_the_screen_downloads_as_the_original_pdf(
    app, http, agency, monkeypatch
):
    from cryptography.fernet import Fernet

    # Keys configured for this test, and a store opened with them (restored afterwards).
    monkeypatch.setitem(app.config, "STORAGE_ENCRYPTION_KEYS", [Fernet.generate_key().decode()])
    monkeypatch.delitem(app.extensions, "monassurance_file_store", raising=False)
    form = page_text(http.get(f"/documentview/generate/{agency['policy']}"))
    assert 'name="encrypt"' in form
    _generate(http, agency["policy"], agency["template"], compress="y", encrypt="y")
    (document,) = _documents(app, policy_id=agency["policy"])
    assert (document.status, document.compressed, document.encrypted) == (
        DocumentStatus.ready,
        True,
        True,
    )
    download = http.get(f"/documentview/download/{document.id}")
    assert download.mimetype == "application/pdf"
    assert "POL-42" in _pdf_text(download.data)
    monkeypatch.delitem(app.extensions, "monassurance_file_store", raising=False)


def test_document_screens_speak_french(app, http, agency):
    _generate(http, agency["policy"], agency["template"])
    listing = page_text(http.get("/documentview/list/"))
    for label in ("Créé le", "Statut", "Contrat", "Rechercher"):
        assert label in listing, label
    shown = page_text(http.get(f"/policyview/show/{agency['policy']}"))
    assert "Historique" in shown and "Numéro de contrat" in shown
