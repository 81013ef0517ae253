"""A lost file store (issue 11, class 6): downloads answer 503, work is tried again later.

The store is S3 at a loopback port nothing listens on: botocore cannot connect,
as when the endpoint or the network is down.
"""

from __future__ import annotations

import pytest

from app.models import JobStatus
from tests import outage_support
from tests.conftest import api_token, login_screen, user_organisation
from tests.links_support import path_of, stored_document
from tests.outage_support import unavailable
from tests.processes import free_port
from tests.reports_support import job_row, seed_policies

build_app = outage_support.build_app


@pytest.fixture
def store_away(monkeypatch) -> str:
    """STORAGE_URL of an S3 endpoint that does not answer (credentials set, one try)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # botocore's retries: nothing to wait for
    endpoint = f"http://127.0.0.1:{free_port()}"
    return f"s3://monassurance/files?endpoint_url={endpoint}&strict=False"


def test_with_the_file_store_away_downloads_answer_503_with_retry_after(
    app, http, build_app, database_url, make_user, auth_headers, store_away
):
    username = make_user("USER")
    headers = auth_headers(username)
    document_id = stored_document(app, user_organisation(app, username))  # in the suite's store
    issued = http.get(f"/api/v1/document/{document_id}/link", headers=headers)
    link = path_of(issued.json["url"])
    away = build_app(SQLALCHEMY_DATABASE_URI=database_url, STORAGE_URL=store_away)
    client = away.test_client()

    unavailable(client.get(f"/api/v1/document/{document_id}/download", headers=headers))
    unavailable(client.get(link, headers={"Accept": "application/json"}))
    # The screen says so on the document's page.
    login_screen(client, username)
    screen = client.get(f"/documentview/download/{document_id}")
    assert screen.status_code == 302
    assert screen.headers["Location"].endswith(f"/documentview/show/{document_id}")


def test_a_report_job_meeting_the_store_away_is_tried_again_not_failed(
    app, build_app, database_url, make_user, store_away
):
    manager = make_user("MANAGER")
    seed_policies(app, user_organisation(app, manager))
    away = build_app(SQLALCHEMY_DATABASE_URI=database_url, STORAGE_URL=store_away)
    client = away.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, manager)}"}
    response = client.post("/api/v1/report/portfolio", json={}, headers=headers)  # runs inline
    assert response.status_code == 202, response.get_data(as_text=True)
    job = job_row(app, response.json["job_id"])
    assert job.status is JobStatus.queued, job.error  # the sweeper sends it again
    assert job.attempts == 1 and job.document_id is None
    assert job.error.startswith("attempt 1 failed: storage: could not store")
