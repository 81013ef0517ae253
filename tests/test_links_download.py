"""Signed links through their doors: issue by API, download anonymously, every refusal.

The organisation check happens when a link is issued; the public route /d/<token>
needs no login and refuses tampered (403), expired, revoked and spent (410) links.
Time moves through the links' clock (tests/links_support.Clock), never by sleeping.
"""

from __future__ import annotations

import datetime as dt
import html
import urllib.parse

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Document, DocumentStatus
from app.services.links.tokens import LinkClaims, read, sign
from tests.conftest import user_organisation
from tests.links_support import (
    FILE_NAME,
    PDF,
    Clock,
    french,
    path_of,
    sha256,
    stored_document,
)

NOT_VALID = "This link is not valid."


@pytest.fixture(autouse=True)
def _generous_download_limit(app, monkeypatch):
    """Many downloads from one test client: the limits have their own tests (test_links_limits)."""
    monkeypatch.setitem(app.config, "RATELIMIT_LINK_DOWNLOAD", "1000/minute")


@pytest.fixture
def staff(make_user, app):
    """A USER of an agency: (username, organisation id)."""
    username = make_user("USER")
    return username, user_organisation(app, username)


@pytest.fixture
def headers(staff, auth_headers):
    return auth_headers(staff[0])


@pytest.fixture
def document_id(app, staff):
    return stored_document(app, staff[1])


@pytest.fixture
def anonymous(app):
    """Someone who received the link: no session, no token, and in English."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def issue(http, headers, document_id, **params):
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    return http.get(f"/api/v1/document/{document_id}/link{query}", headers=headers)


def issued_path(http, headers, document_id, **params) -> str:
    response = issue(http, headers, document_id, **params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return path_of(response.json["url"])


def audit_rows(app, action):
    with app.app_context():
        return db.session.scalars(
            select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        ).all()


def assert_refused(response, status, message):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.json == {"message": french(message)}
    assert "no-store" in response.headers["Cache-Control"]


# --- issue and download ------------------------------------------------------------------


def test_a_link_downloads_the_document_without_a_login(app, http, headers, document_id, anonymous):
    before = dt.datetime.now(dt.UTC)
    response = issue(http, headers, document_id)
    assert response.status_code == 200
    assert set(response.json) == {"url", "expires_at"}
    assert response.json["url"].startswith("http://localhost/d/")
    expires_at = dt.datetime.fromisoformat(response.json["expires_at"].replace("Z", "+00:00"))
    # LINK_TTL_SECONDS by default: five minutes.
    assert dt.timedelta(seconds=298) <= expires_at - before <= dt.timedelta(seconds=301)

    download = anonymous.get(path_of(response.json["url"]))
    assert download.status_code == 200
    assert download.data == PDF


def test_the_download_carries_type_name_checksum_and_no_caching(
    http, headers, document_id, anonymous
):
    response = anonymous.get(issued_path(http, headers, document_id))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=\"{FILE_NAME}\"; filename*=UTF-8''{FILE_NAME}"
    )
    assert response.headers["X-Checksum"] == sha256(PDF)
    assert response.headers["Content-Length"] == str(len(PDF))
    cache = {part.strip() for part in response.headers["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= cache
    assert response.headers["Pragma"] == "no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_a_name_beyond_ascii_gets_an_ascii_fallback_and_the_exact_utf8_name(
    app, http, headers, staff, anonymous
):
    name = "attestation-Hélène Ørsted.pdf"
    document_id = stored_document(app, staff[1], file_name=name)
    response = anonymous.get(issued_path(http, headers, document_id))
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    fallback = disposition.split('filename="')[1].split('"')[0]
    assert fallback.isascii() and fallback.endswith(".pdf")
    encoded = disposition.split("filename*=UTF-8''")[1]
    assert urllib.parse.unquote(encoded) == name


def test_a_compressed_and_encrypted_file_downloads_as_its_original_bytes(
    encrypted_app, make_organisation
):
    organisation_id = make_organisation()
    data = b"contrat " * 5000 + bytes(range(256))
    document_id = stored_document(encrypted_app, organisation_id, data, compress=True, encrypt=True)
    with encrypted_app.app_context():
        document = db.session.get(Document, document_id)
        assert document.compressed and document.encrypted and document.stored_size != len(data)
        token = _issue_in_service(encrypted_app, document_id)
    response = encrypted_app.test_client().get(f"/d/{token}")
    assert response.status_code == 200
    assert response.data == data
    assert response.headers["X-Checksum"] == sha256(data)


def test_a_generated_compressed_encrypted_pdf_downloads_as_the_original(
    encrypted_app, make_user, portfolio, monkeypatch
):
    """Generated by the documents service (Huey immediate: inline), stored gzip + Fernet."""

    from app.models import AppUser
    from app.services.documents import request_document
    from app.services.storage import file_store
    from tests.links_support import published_template

    monkeypatch.setitem(encrypted_app.config, "RATELIMIT_LINK_DOWNLOAD", "1000/minute")
    username = make_user("USER")
    organisation_id = user_organisation(encrypted_app, username)
    policy_id = portfolio(organisation_id, "0042")["policy"]
    template_id = published_template(
        encrypted_app, organisation_id, "<h1>Contrat {{ policy.number }}</h1>"
    )
    with encrypted_app.test_request_context():
        user = db.session.scalars(select(AppUser).where(AppUser.username == username)).one()
        document = request_document(
            db.session,
            user,
            template_id=template_id,
            policy_id=policy_id,
            compress=True,
            encrypt=True,
        )
        document_id = document.id
    with encrypted_app.app_context():
        document = db.session.get(Document, document_id)
        assert document.status == DocumentStatus.ready, document.error
        assert document.compressed and document.encrypted
        stored = file_store()._fs.readbytes(document.storage_key)
        assert b"%PDF" not in stored  # encrypted at rest
        original = file_store().codec.decode(stored, compressed=True, encrypted=True)
        assert original.startswith(b"%PDF")
        token = _issue_in_service(encrypted_app, document_id)
        expected_name, expected_sha = document.file_name, document.sha256
    response = encrypted_app.test_client().get(f"/d/{token}")
    assert response.status_code == 200
    assert response.data == original
    assert response.headers["X-Checksum"] == expected_sha == sha256(original)
    assert expected_name.endswith(".pdf")
    assert expected_name in response.headers["Content-Disposition"]


def _issue_in_service(app, document_id, **options) -> str:
    """Sign a link as the service does, for an app without a logged-in user."""
    from app.services.links import keys
    from app.services.links.clock import now, to_millis, to_seconds

    key = keys.signing_key(db.session)
    db.session.commit()
    moment = now()
    claims = LinkClaims(
        key.kid,
        document_id,
        to_seconds(moment) + options.get("ttl", 300),
        to_millis(moment),
        "ab" * 16,
        options.get("single_use", False),
    )
    return sign(claims, key.secret)


@pytest.fixture
def encrypted_app(app, database_url):
    """An app on the suite's database whose store encrypts (STORAGE_ENCRYPTION_KEYS)."""
    from cryptography.fernet import Fernet

    from app import create_app
    from tests.conftest import make_config

    return create_app(
        make_config(
            SQLALCHEMY_DATABASE_URI=database_url,
            STORAGE_URL="mem://",
            STORAGE_ENCRYPTION_KEYS=[Fernet.generate_key().decode()],
        )
    )


# --- what may be issued ------------------------------------------------------------------


def test_a_link_to_another_agencys_document_cannot_be_issued(app, http, headers, make_organisation):
    elsewhere = stored_document(app, make_organisation())
    assert issue(http, headers, elsewhere).status_code == 404
    assert (
        http.post(f"/api/v1/document/{elsewhere}/links/revoke", headers=headers).status_code == 404
    )
    assert audit_rows(app, "link.issued") == []


@pytest.mark.parametrize("pk", ["999999", "0", "-1", "abc", "4²", str(2**40)])
def test_unknown_ids_answer_404(http, headers, pk):
    assert issue(http, headers, pk).status_code == 404


def test_a_document_that_is_not_ready_cannot_be_shared(app, http, headers, staff):
    queued = stored_document(app, staff[1], status=DocumentStatus.queued)
    response = issue(http, headers, queued)
    assert response.status_code == 409
    assert "message" in response.json


@pytest.mark.parametrize(
    "params",
    [
        {"ttl": "0"},
        {"ttl": "3601"},
        {"ttl": "-5"},
        {"ttl": "abc"},
        {"ttl": "1.5"},
        {"ttl": "99999999999999999999"},
        {"single_use": "maybe"},
        {"colour": "red"},
    ],
)
def test_bad_arguments_answer_400_json(http, headers, document_id, params):
    response = issue(http, headers, document_id, **params)
    assert response.status_code == 400
    assert isinstance(response.json["message"], str)


def test_anonymous_callers_cannot_issue_or_revoke(http, document_id):
    assert issue(http, {}, document_id).status_code == 401
    assert http.post(f"/api/v1/document/{document_id}/links/revoke").status_code == 401


def test_a_browser_session_issues_links_too(app, http, login, staff, document_id):
    login(staff[0])
    response = http.get(f"/api/v1/document/{document_id}/link")
    assert response.status_code == 200
    assert response.json["url"].startswith("http://localhost/d/")


def test_issuing_is_audited_with_the_link_nonce(app, http, headers, staff, document_id):
    issue(http, headers, document_id, ttl="60", single_use="true")
    (row,) = audit_rows(app, "link.issued")
    assert row.username == staff[0]
    assert row.organisation_id == staff[1]
    assert row.object_type == "Document" and row.object_id == str(document_id)
    assert row.changes["single_use"] is True and row.changes["ttl"] == 60
    assert len(row.changes["nonce"]) == 32


# --- expiry --------------------------------------------------------------------------------


def test_a_link_works_until_its_ttl_then_answers_410(http, headers, document_id, anonymous, clock):
    path = issued_path(http, headers, document_id, ttl="60")
    clock.advance(seconds=58)
    assert anonymous.get(path).status_code == 200
    clock.advance(seconds=3)
    assert_refused(anonymous.get(path), 410, "This link has expired.")


def test_the_default_lifetime_is_five_minutes(http, headers, document_id, anonymous, clock):
    path = issued_path(http, headers, document_id)
    clock.advance(seconds=298)
    assert anonymous.get(path).status_code == 200
    clock.advance(seconds=3)
    assert anonymous.get(path).status_code == 410


def test_a_browser_gets_a_small_page_with_the_message(http, headers, document_id, anonymous, clock):
    path = issued_path(http, headers, document_id, ttl="1")
    clock.advance(seconds=5)
    response = anonymous.get(path, headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 410
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert html.escape(french("This link has expired.")) in page
    assert "<script" not in page


# --- tampering and keys --------------------------------------------------------------------


def test_a_tampered_link_answers_403_whichever_part_changed(http, headers, document_id, anonymous):
    path = issued_path(http, headers, document_id)
    token = path.removeprefix("/d/")
    fields = token.split(".")
    for part, value in enumerate(fields):
        changed = list(fields)
        last = value[-1]
        changed[part] = value[:-1] + ("1" if last != "1" else "2")
        response = anonymous.get(f"/d/{'.'.join(changed)}")
        assert_refused(response, 403, NOT_VALID)
    # ... and the genuine link still works.
    assert anonymous.get(path).status_code == 200


def test_another_documents_id_in_a_valid_link_is_refused(app, http, headers, staff, anonymous):
    mine = stored_document(app, staff[1])
    other = stored_document(app, staff[1], b"another file")
    token = issued_path(http, headers, mine).removeprefix("/d/")
    fields = token.split(".")
    fields[1] = str(other)
    assert_refused(anonymous.get(f"/d/{'.'.join(fields)}"), 403, NOT_VALID)


def test_a_link_signed_with_a_wrong_secret_or_unknown_key_is_refused(
    app, http, headers, document_id, anonymous
):
    token = issued_path(http, headers, document_id).removeprefix("/d/")
    claims = read(token).claims
    forged = sign(claims, b"not the secret of this key, 32+ bytes")
    assert_refused(anonymous.get(f"/d/{forged}"), 403, NOT_VALID)
    unknown = LinkClaims("nosuchkey", *[getattr(claims, f) for f in _CLAIM_FIELDS[1:]])
    assert_refused(anonymous.get(f"/d/{sign(unknown, b'x' * 32)}"), 403, NOT_VALID)


_CLAIM_FIELDS = ("kid", "document_id", "expires", "issued_ms", "nonce", "single_use")


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 300, "%00", "..", "k1.1.2.3..0.x"])
def test_garbage_tokens_answer_403(anonymous, token):
    assert_refused(anonymous.get(f"/d/{urllib.parse.quote(token, safe='')}"), 403, NOT_VALID)


def test_refusals_are_audited_with_their_reason_and_ip(
    app, http, headers, staff, document_id, clock
):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    path = issued_path(http, headers, document_id, ttl="10")
    client.get(path[:-1] + ("A" if path[-1] != "A" else "B"))
    clock.advance(seconds=11)
    client.get(path)
    forged, expired = audit_rows(app, "link.refused")
    assert forged.changes["reason"] == "bad_signature"
    assert forged.changes["signature_verified"] is False
    # A forger's claims name no agency: nothing lands in the agency's audit log.
    assert forged.organisation_id is None and forged.object_id is None
    assert forged.ip == "203.0.113.9"
    assert expired.changes["reason"] == "expired"
    assert expired.organisation_id == staff[1]
    assert expired.object_id == str(document_id)


def test_a_download_is_audited_with_the_link_and_the_ip(app, http, headers, staff, document_id):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.4"
    path = issued_path(http, headers, document_id)
    assert client.get(path).status_code == 200
    (issued,) = audit_rows(app, "link.issued")
    (row,) = audit_rows(app, "link.download")
    assert row.ip == "198.51.100.4"
    assert row.user_id is None  # the link, not a user, opened it
    assert row.organisation_id == staff[1]
    assert row.changes["nonce"] == issued.changes["nonce"]
    assert row.changes["kid"] == issued.changes["kid"]


# --- single use and revocation ---------------------------------------------------------------


def test_a_single_use_link_works_once(http, headers, document_id, anonymous):
    path = issued_path(http, headers, document_id, single_use="true")
    assert anonymous.get(path).status_code == 200
    assert_refused(anonymous.get(path), 410, "This link has already been used.")


def test_head_checks_a_single_use_link_without_spending_it(http, headers, document_id, anonymous):
    path = issued_path(http, headers, document_id, single_use="true")
    probe = anonymous.head(path)
    assert probe.status_code == 200 and probe.data == b""
    assert probe.headers["Content-Disposition"].startswith("attachment;")
    assert anonymous.get(path).data == PDF
    assert anonymous.head(path).status_code == 410


def test_links_that_are_not_single_use_work_again(http, headers, document_id, anonymous):
    path = issued_path(http, headers, document_id)
    assert [anonymous.get(path).status_code for _ in range(2)] == [200, 200]


def test_revoking_stops_every_issued_link_but_not_later_ones(
    app, http, headers, document_id, anonymous, clock
):
    first = issued_path(http, headers, document_id)
    second = issued_path(http, headers, document_id, single_use="true")
    clock.advance(milliseconds=5)
    response = http.post(f"/api/v1/document/{document_id}/links/revoke", headers=headers)
    assert response.status_code == 200
    assert response.json["links_revoked_at"].endswith("Z")
    for path in (first, second):
        assert_refused(anonymous.get(path), 410, "This link was revoked.")
    clock.advance(milliseconds=5)
    assert anonymous.get(issued_path(http, headers, document_id)).status_code == 200
    (row,) = audit_rows(app, "link.revoked")
    assert row.object_id == str(document_id)


def test_revoking_needs_the_write_permission(app, http, make_user, document_id, staff):
    from app.services import api_keys

    with app.test_request_context():
        sm = app.appbuilder.sm
        user = sm.find_user(username=staff[0])
        _key, raw = api_keys.create(db.session, user, "read only", None, True)
        db.session.commit()
    read_only = {"X-API-Key": raw}
    assert issue(http, read_only, document_id).status_code == 200
    assert (
        http.post(f"/api/v1/document/{document_id}/links/revoke", headers=read_only).status_code
        == 403
    )


# --- the document behind the link ------------------------------------------------------------


def test_a_deleted_document_answers_410(app, http, headers, document_id, anonymous):
    path = issued_path(http, headers, document_id)
    with app.app_context():
        db.session.delete(db.session.get(Document, document_id))
        db.session.commit()
    assert_refused(anonymous.get(path), 410, "This document is no longer available.")


def test_a_purged_file_answers_410(app, http, headers, document_id, anonymous):
    from app.services.storage import file_store

    path = issued_path(http, headers, document_id)
    with app.app_context():
        file_store().delete(db.session.get(Document, document_id).storage_key)
    assert_refused(anonymous.get(path), 410, "This document is no longer available.")


def test_corrupted_bytes_are_never_sent(app, http, headers, document_id, anonymous):
    from app.services.storage import file_store

    path = issued_path(http, headers, document_id)
    with app.app_context():
        document = db.session.get(Document, document_id)
        file_store().put(document.storage_key, b"not the same", compress=False, encrypt=False)
    response = anonymous.get(path)
    assert response.status_code == 503
    assert b"not the same" not in response.data


def test_the_request_log_never_holds_a_link_token(http, headers, document_id, anonymous, caplog):
    import logging

    path = issued_path(http, headers, document_id)
    with caplog.at_level(logging.INFO, logger="monassurance.request"):
        assert anonymous.get(path).status_code == 200
    token = path.removeprefix("/d/")
    lines = [record.getMessage() for record in caplog.records]
    assert any("/d/[link]" in line for line in lines)
    assert not any(
        token in line or token in str(getattr(r, "path", ""))
        for r, line in zip(caplog.records, lines, strict=True)
    )
