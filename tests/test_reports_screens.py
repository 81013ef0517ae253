"""The dashboard's report buttons: start a job with the filters, land on its page, get the file."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import Document, Job, JobStatus
from tests.conftest import user_organisation
from tests.reports_support import seed_policies, sheet_rows, workbook_of
from tests.test_screens_support import flashes, page_text

FORM = re.compile(r'<form method="post" action="(/reports/[a-z]+)"[^>]*>(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


@pytest.fixture
def manager(app, make_user, login):
    username = make_user("MANAGER")
    ids = seed_policies(app, user_organisation(app, username))
    login(username)
    return {"username": username, **ids}


def report_forms(http, query: str = "") -> dict[str, dict[str, str]]:
    page = http.get(f"/dashboard/{query}")
    assert page.status_code == 200
    return {action: dict(HIDDEN.findall(body)) for action, body in FORM.findall(page_text(page))}


def test_the_dashboard_offers_every_report_with_its_filters(http, manager):
    forms = report_forms(http, f"?company_id={manager['maif']}&months=3")
    assert set(forms) == {
        "/reports/portfolio",
        "/reports/premiums",
        "/reports/receipts",
        "/reports/claims",
    }
    fields = forms["/reports/portfolio"]
    assert fields["insurer_id"] == str(manager["maif"])
    assert fields["csrf_token"]
    assert fields["date_from"] < fields["date_to"]
    assert "organisation_id" not in fields  # only SUPERADMIN chooses


def test_a_button_starts_the_report_and_leads_to_the_job_and_its_document(http, app, manager):
    fields = report_forms(http)["/reports/portfolio"]
    fields.update(date_from="2026-01-01", date_to="2026-12-31")
    response = http.post("/reports/portfolio", data=fields)
    assert response.status_code == 302
    match = re.search(r"/jobview/show/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    job_id = int(match.group(1))
    page = http.get(response.headers["Location"])
    assert page.status_code == 200
    assert [category for category, _text in flashes(page)] == ["info"]
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status is JobStatus.succeeded
        document_id = job.document_id
    html = page_text(page)
    assert f'href="/documentview/show/{document_id}"' in html and 'id="job-documents"' in html
    assert 'id="job-progress"' in html
    assert f'href="/documentview/download/{document_id}"' in html
    numbers = [row[0] for row in sheet_rows(workbook_of(app, document_id), 0)[1:]]
    assert numbers == ["P-001", "P-002", "P-003", "P-004", "P-005"]
    download = http.get(f"/documentview/download/{document_id}")
    assert download.status_code == 200
    assert "rapport-portefeuille-" in download.headers["Content-Disposition"]


def test_the_premiums_button_too(http, app, manager):
    fields = report_forms(http)["/reports/premiums"]
    response = http.post("/reports/premiums", data=fields)
    assert response.status_code == 302 and "/jobview/show/" in response.headers["Location"]


def test_the_receipts_journal_buttons_start_an_xlsx_and_a_csv(http, app, manager):
    page = page_text(http.get("/dashboard/"))
    receipts = [
        dict(HIDDEN.findall(body))
        for action, body in FORM.findall(page)
        if action.endswith("receipts")
    ]
    assert [fields.get("format") for fields in receipts] == [None, "csv"]
    names = []
    for fields in receipts:
        response = http.post("/reports/receipts", data=fields)
        job_id = int(re.search(r"/jobview/show/(\d+)$", response.headers["Location"]).group(1))
        with app.app_context():
            job = db.session.get(Job, job_id)
            assert job.status is JobStatus.succeeded
            names.append(db.session.get(Document, job.document_id).file_name)
    assert names[0].endswith(".xlsx") and names[1].endswith(".csv")
    assert names[1].startswith("journal-encaissements-")
    response = http.post("/reports/receipts", data={**receipts[1], "format": "pdf"})
    assert response.headers["Location"].endswith("/dashboard/")
    # The two started jobs' notices, then the refusal.
    categories = [category for category, _text in flashes(http.get("/dashboard/"))]
    assert categories == ["info", "info", "warning"]
    with app.app_context():
        assert db.session.query(Job).count() == 2


def test_bad_filters_flash_and_go_back_to_the_dashboard(http, manager):
    fields = report_forms(http)["/reports/portfolio"]
    for bad in ({"insurer_id": "²"}, {"date_from": "hier"}, {"insurer_id": "2147483647"}):
        response = http.post("/reports/portfolio", data={**fields, **bad})
        assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard/")
        page = http.get("/dashboard/")
        assert [category for category, _text in flashes(page)] == ["warning"]


def test_without_the_csrf_token_nothing_starts(http, app, manager):
    fields = report_forms(http)["/reports/portfolio"]
    fields.pop("csrf_token")
    response = http.post("/reports/portfolio", data=fields)
    assert response.status_code in (302, 400)
    with app.app_context():
        assert db.session.query(Job).count() == 0


def test_staff_see_no_button_and_may_not_post(http, app, make_user, login):
    username = make_user("USER")
    login(username)
    assert 'id="dashboard-reports"' not in page_text(http.get("/"))
    from tests.conftest import csrf_token

    token = csrf_token(http, "/clientview/add")
    response = http.post("/reports/portfolio", data={"csrf_token": token})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.query(Job).count() == 0


def test_another_agencys_report_job_page_answers_404(http, app, manager, make_user, login):
    fields = report_forms(http)["/reports/portfolio"]
    location = http.post("/reports/portfolio", data=fields).headers["Location"]
    other = make_user("MANAGER")
    http.get("/logout/")
    login(other)
    assert http.get(location).status_code == 404


def test_superadmin_reports_on_the_agency_chosen_on_the_dashboard(
    http, app, make_user, make_organisation, login
):
    agency = make_organisation()
    seed_policies(app, agency, prefix="CHOSEN")
    login(make_user("SUPERADMIN"))
    fields = report_forms(http, f"?organisation_id={agency}")["/reports/portfolio"]
    assert fields["organisation_id"] == str(agency)
    location = http.post("/reports/portfolio", data=fields).headers["Location"]
    job_id = int(location.rsplit("/", 1)[1])
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.organisation_id == agency and job.status is JobStatus.succeeded
        document_id = job.document_id
    numbers = [row[0] for row in sheet_rows(workbook_of(app, document_id), 0)[1:]]
    assert numbers == [f"CHOSEN-{index:03d}" for index in range(1, 6)]
