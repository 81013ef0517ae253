"""The "copy a link" screen of a document: issue (with CSRF), copy, revoke; scoped like the API."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, DocumentStatus
from tests.conftest import csrf_token, user_organisation
from tests.links_support import PDF, path_of, stored_document


@pytest.fixture(autouse=True)
def _generous_download_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_LINK_DOWNLOAD", "1000/minute")


@pytest.fixture
def staff(make_user, app, login):
    username = make_user("USER")
    login(username)
    return username, user_organisation(app, username)


@pytest.fixture
def document_id(app, staff):
    return stored_document(app, staff[1])


def create_link(http, document_id, **fields):
    token = csrf_token(http, f"/links/{document_id}")
    data = {"csrf_token": token, "ttl": "300", **fields}
    return http.post(f"/links/{document_id}", data=data)


def link_on_page(page: str) -> str | None:
    match = re.search(r'id="signed-link" value="([^"]+)"', page)
    return match.group(1) if match else None


def test_the_document_page_offers_a_link_button(http, staff, document_id):
    page = http.get(f"/documentview/show/{document_id}").get_data(as_text=True)
    assert f'href="/links/{document_id}"' in page


def test_a_staff_member_creates_a_link_and_a_stranger_downloads_with_it(app, http, document_id):
    form = http.get(f"/links/{document_id}")
    assert form.status_code == 200
    assert link_on_page(form.get_data(as_text=True)) is None  # nothing issued by looking
    response = create_link(http, document_id)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    url = link_on_page(page)
    assert url and url.startswith("http://localhost/d/")
    # The copy button is wired by a served script, not inline code.
    assert 'data-copy-target="signed-link"' in page
    assert re.search(r'<script src="/static/js/copy-link\.js', page)
    assert app.test_client().get("/static/js/copy-link.js").status_code == 200
    download = app.test_client().get(path_of(url))
    assert download.status_code == 200 and download.data == PDF


def test_a_single_use_link_from_the_screen_works_once(app, http, document_id):
    url = link_on_page(create_link(http, document_id, single_use="y").get_data(as_text=True))
    stranger = app.test_client()
    assert [stranger.get(path_of(url)).status_code for _ in range(2)] == [200, 410]


def test_the_revoke_button_kills_issued_links(app, http, document_id):
    url = link_on_page(create_link(http, document_id).get_data(as_text=True))
    token = csrf_token(http, f"/links/{document_id}")
    response = http.post(
        f"/links/{document_id}/revoke", data={"csrf_token": token}, follow_redirects=True
    )
    assert response.status_code == 200
    assert app.test_client().get(path_of(url)).status_code == 410
    with app.app_context():
        revoked = db.session.scalars(select(AuditLog).where(AuditLog.action == "link.revoked"))
        assert [row.object_id for row in revoked] == [str(document_id)]


def test_revoking_without_the_csrf_token_is_refused(app, http, document_id):
    url = link_on_page(create_link(http, document_id).get_data(as_text=True))
    assert http.post(f"/links/{document_id}/revoke", data={}).status_code == 400
    assert app.test_client().get(path_of(url)).status_code == 200


def test_an_out_of_range_lifetime_issues_nothing(app, http, document_id):
    page = create_link(http, document_id, ttl="999999").get_data(as_text=True)
    assert link_on_page(page) is None
    with app.app_context():
        issued = db.session.scalars(select(AuditLog).where(AuditLog.action == "link.issued")).all()
    assert issued == []


def test_a_document_that_is_not_ready_gets_a_message_not_a_link(app, http, staff):
    queued = stored_document(app, staff[1], status=DocumentStatus.queued)
    response = create_link(http, queued)
    assert response.status_code == 200
    assert link_on_page(response.get_data(as_text=True)) is None


def test_another_agencys_document_answers_404(app, http, staff, document_id, make_organisation):
    elsewhere = stored_document(app, make_organisation())
    assert http.get(f"/links/{elsewhere}").status_code == 404
    token = csrf_token(http, f"/links/{document_id}")  # a valid token of this session
    assert (
        http.post(f"/links/{elsewhere}", data={"csrf_token": token, "ttl": "300"}).status_code
        == 404
    )
    assert http.post(f"/links/{elsewhere}/revoke", data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize("pk", ["0", "abc", "99999999999999999999"])
def test_malformed_ids_answer_404(http, staff, pk):
    assert http.get(f"/links/{pk}").status_code == 404
