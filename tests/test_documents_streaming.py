"""Large files stream out of the store through every download door, checked as they go."""

from __future__ import annotations

import os
import tracemalloc

import pytest
from cryptography.fernet import Fernet

from app.extensions import db
from app.models import Document
from app.services.documents import files
from app.services.storage import file_store
from tests.conftest import user_organisation
from tests.links_support import path_of, sha256, stored_document

STORE_KEY = "monassurance_file_store"


@pytest.fixture
def staff(make_user, app):
    username = make_user("USER")
    return username, user_organisation(app, username)


@pytest.fixture
def encrypting_store(app, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_ENCRYPTION_KEYS", [Fernet.generate_key().decode()])
    monkeypatch.delitem(app.extensions, STORE_KEY, raising=False)
    yield
    app.extensions.pop(STORE_KEY, None)


@pytest.fixture
def small_whole_check(monkeypatch):
    """Files above 64 KiB take the streamed path (8 MiB in production)."""
    monkeypatch.setattr(files, "WHOLE_CHECK_BYTES", 64 * 1024)


def _damage(app, document_id: int, replacement: bytes) -> None:
    """Replace the stored file with other bytes, as a disk fault or an intruder would."""
    with app.app_context():
        document = db.session.get(Document, document_id)
        file_store().put(
            document.storage_key,
            replacement,
            compress=document.compressed,
            encrypt=document.encrypted,
        )


@pytest.mark.usefixtures("encrypting_store", "small_whole_check")
def test_a_large_compressed_encrypted_file_streams_whole_through_api_screen_and_link(
    app, http, staff, auth_headers, login
):
    original = os.urandom(3 * 1024 * 1024 + 123)
    document_id = stored_document(app, staff[1], original, compress=True, encrypt=True)
    headers = auth_headers(staff[0])

    api = http.get(f"/api/v1/document/{document_id}/download", headers=headers, buffered=False)
    assert api.status_code == 200
    assert api.is_streamed
    assert api.headers["Content-Length"] == str(len(original))
    assert api.headers["X-Checksum"] == sha256(original)
    chunks = list(api.response)
    assert len(chunks) > 1 and b"".join(chunks) == original

    link = http.get(f"/api/v1/document/{document_id}/link", headers=headers).json["url"]
    public = app.test_client().get(path_of(link))
    assert public.status_code == 200 and public.data == original

    login(staff[0])
    screen = http.get(f"/documentview/download/{document_id}")
    assert screen.status_code == 200 and screen.data == original


@pytest.mark.usefixtures("small_whole_check")
def test_a_damaged_large_file_never_arrives_complete(app, http, staff, auth_headers, caplog):
    original = os.urandom(512 * 1024)
    document_id = stored_document(app, staff[1], original)
    _damage(app, document_id, original[:-1] + bytes([original[-1] ^ 1]))
    response = http.get(
        f"/api/v1/document/{document_id}/download",
        headers=auth_headers(staff[0]),
        buffered=False,
    )
    assert response.status_code == 200  # the headers left before the end could be checked
    received = b""
    with pytest.raises(files.ChecksumMismatchError):
        for chunk in response.response:
            received += chunk
    # The last block is held back until the digest matches: the client never has it all.
    assert len(received) < len(original)
    assert "does not match the recorded" in caplog.text


def test_a_damaged_small_file_is_refused_before_any_byte(app, http, staff, auth_headers):
    original = os.urandom(4096)
    document_id = stored_document(app, staff[1], original)
    _damage(app, document_id, b"tampered")
    response = http.get(f"/api/v1/document/{document_id}/download", headers=auth_headers(staff[0]))
    assert response.status_code == 409
    assert "message" in response.json


@pytest.mark.usefixtures("encrypting_store")
def test_reading_a_large_encrypted_file_keeps_memory_to_a_few_frames(app, staff):
    original = os.urandom(12 * 1024 * 1024)
    document_id = stored_document(app, staff[1], original, compress=True, encrypt=True)
    with app.app_context():
        document = db.session.get(Document, document_id)
        tracemalloc.start()
        try:
            total = 0
            for chunk in files.document_chunks(document):
                total += len(chunk)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert total == len(original)
    # A whole read would hold the 12 MiB file at least twice (stored and decoded).
    assert peak < 8 * 1024 * 1024, peak
