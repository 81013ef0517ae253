"""A report is a document without a template: API, screens, signed links and purge all take it."""

from __future__ import annotations

import datetime as dt
import urllib.parse

import pytest

from app.extensions import db
from app.models import Document
from app.services.purge import PurgeScope, plan_purge
from tests.conftest import user_organisation
from tests.reports_support import seed_policies
from tests.test_api_openapi import check
from tests.test_screens_support import page_text


@pytest.fixture
def report(http, app, make_user, auth_headers):
    username = make_user("MANAGER")
    seed_policies(app, user_organisation(app, username))
    headers = auth_headers(username)
    job_id = http.post("/api/v1/report/portfolio", json={}, headers=headers).json["job_id"]
    document_id = http.get(f"/api/v1/job/{job_id}", headers=headers).json["document_id"]
    assert document_id
    return {"username": username, "headers": headers, "document_id": document_id}


def test_the_document_api_shows_and_lists_it_as_the_spec_says(
    http, report, make_user, auth_headers
):
    spec = http.get("/api/v1/_openapi", headers=auth_headers(make_user("SUPERADMIN"))).json
    item = http.get(f"/api/v1/document/{report['document_id']}", headers=report["headers"])
    assert item.status_code == 200
    result = item.json["result"]
    assert result["template_id"] is None and result["template_version_id"] is None
    assert result["format"] == "xlsx" and result["status"] == "ready"
    check(spec, "/api/v1/document/{pk}", "get", 200, item.json)
    listing = http.get("/api/v1/document/", headers=report["headers"])
    assert listing.status_code == 200 and listing.json["count"] == 1
    check(spec, "/api/v1/document/", "get", 200, listing.json)


def test_the_document_screens_list_show_and_download_it(http, report, login):
    login(report["username"])
    listing = http.get("/documentview/list/")
    assert listing.status_code == 200 and "rapport-portefeuille-" in page_text(listing)
    shown = http.get(f"/documentview/show/{report['document_id']}")
    assert shown.status_code == 200 and "rapport-portefeuille-" in page_text(shown)
    download = http.get(f"/documentview/download/{report['document_id']}")
    assert download.status_code == 200 and download.data[:2] == b"PK"


def test_a_signed_link_downloads_it(app, http, report):
    issued = http.get(f"/api/v1/document/{report['document_id']}/link", headers=report["headers"])
    assert issued.status_code == 200, issued.get_data(as_text=True)
    path = urllib.parse.urlsplit(issued.json["url"]).path
    anonymous = app.test_client()
    response = anonymous.get(path)
    assert response.status_code == 200 and response.data[:2] == b"PK"
    assert "rapport-portefeuille-" in response.headers["Content-Disposition"]


def test_purge_keeps_it_for_the_report_kinds_retention(app, report):
    with app.app_context():
        document = db.session.get(Document, report["document_id"])
        key = document.storage_key
        # Scoped to this agency: other tests' files (the store lives for the session) stay out.
        scope = PurgeScope(document.organisation_id)
        plan = plan_purge(db.session, scope)
        assert not [item for item in plan.items if item.key == key or item.category == "retention"]
        days = app.config["RETENTION_REPORT_DAYS"]
        document.created_at = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(
            days=days + 1
        )
        db.session.commit()
        plan = plan_purge(db.session, scope)
    (item,) = [item for item in plan.items if item.key == key]
    assert item.category == "retention" and item.key is not None
    assert item.reason.startswith("report made on") and f"kept {days} days" in item.reason
