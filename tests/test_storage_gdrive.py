"""The file store on Google Drive, against a fake of the Drive v3 HTTP API (not Google).

The fake (tests/fakes/google_drive.py) replaces only the HTTP transport: google-auth,
googleapiclient and fs.googledrivefs run for real, and any call the fake does not model
is answered 400/404, which makes the store raise and the test fail.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile

import googleapiclient.discovery
import googleapiclient.http
import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask

from app.services.storage import StorageError, document_key, file_store, open_store
from tests.fakes.google_drive import TOKEN_URI, FakeDrive

ORIGINAL = ("Avis d'échéance POL-2026-0042 — Mme Camille Durand, ORIAS 07023456\n" * 300).encode()
ACCOUNT = "documents@monassurance-test.iam.gserviceaccount.com"
CLIENT_SECRET = "GOCSPX-client-secret-of-the-test"  # noqa: S105 (fake)
REFRESH_TOKEN = "1//refresh-token-of-the-test"  # noqa: S105 (fake)


@pytest.fixture(scope="module")
def account_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def drive(monkeypatch, tmp_path) -> FakeDrive:
    fake = FakeDrive()
    # The HTTP transport googleapiclient builds (and google-auth refreshes tokens through).
    monkeypatch.setattr(googleapiclient.http, "build_http", fake.http)
    monkeypatch.setattr(googleapiclient.discovery, "build_http", fake.http)
    # Where fs.googledrivefs stages uploads: checked for leftovers.
    (tmp_path / "staging").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "staging"))
    return fake


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def service_account_file(tmp_path, key: rsa.RSAPrivateKey) -> str:
    path = tmp_path / "service-account.json"
    info = {
        "type": "service_account",
        "project_id": "monassurance-test",
        "private_key_id": "k1",
        "private_key": pem(key),
        "client_email": ACCOUNT,
        "client_id": "100000000000000000001",
        "token_uri": TOKEN_URI,
    }
    path.write_text(json.dumps(info))
    return str(path)


def user_token_file(tmp_path) -> str:
    path = tmp_path / "authorized-user.json"
    info = {
        "type": "authorized_user",
        "client_id": "monassurance.apps.googleusercontent.com",
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
    }
    path.write_text(json.dumps(info))
    return str(path)


@pytest.fixture(params=["service account, shared drive", "authorised user, My Drive folder"])
def setup(request, drive, tmp_path, account_key) -> tuple[str, str]:
    """(STORAGE_URL, credentials file) of the two supported set-ups."""
    if request.param.startswith("service account"):
        drive.allow_service_account(ACCOUNT, account_key.public_key())
        url = f"googledrive:///?drive_id={drive.shared_drive_id}"
        return url, service_account_file(tmp_path, account_key)
    drive.allow_user(REFRESH_TOKEN, "monassurance.apps.googleusercontent.com", CLIENT_SECRET)
    folder = drive.add_folder("MonAssurance", "root")
    return f"googledrive:///?root_id={folder}", user_token_file(tmp_path)


def drive_store(setup, keys=()):
    url, credentials = setup
    return open_store(url, list(keys), google_credentials_file=credentials)


@pytest.mark.parametrize(("compress", "encrypt"), [(False, False), (True, False), (True, True)])
def test_round_trip_returns_the_original_bytes(setup, drive, tmp_path, compress, encrypt):
    store = drive_store(setup, [Fernet.generate_key().decode()])
    key = document_key(3, 42)
    stored = store.put(key, ORIGINAL, compress=compress, encrypt=encrypt)
    assert stored.sha256 == hashlib.sha256(ORIGINAL).hexdigest()
    [item] = drive.named("org-3-doc-42.bin")
    assert int(len(item.content)) == stored.stored_size
    assert (ORIGINAL in item.content) is not (compress or encrypt)
    assert store.exists(key)
    assert store.get(key, compressed=compress, encrypted=encrypt) == ORIGINAL
    assert list(store.keys()) == [key]
    assert list((tmp_path / "staging").iterdir()) == []  # nothing left in /tmp


def test_overwriting_updates_the_same_file_in_place(setup, drive):
    store = drive_store(setup)
    key = document_key(3, 42)
    store.put(key, b"first version", compress=False, encrypt=False)
    [first] = drive.named("org-3-doc-42.bin")
    store.put(key, b"second version", compress=False, encrypt=False)
    [second] = drive.named("org-3-doc-42.bin")
    assert (second.id, second.revisions) == (first.id, 2)
    assert store.get(key, compressed=False, encrypted=False) == b"second version"
    # No temporary file, no second copy, nothing else next to it.
    siblings = [i.name for i in drive.items.values() if i.parents == second.parents]
    assert siblings == ["org-3-doc-42.bin"]


def test_missing_file_and_delete(setup):
    store = drive_store(setup)
    key = document_key(2, 9)
    with pytest.raises(FileNotFoundError):
        store.get(key, compressed=False, encrypted=False)
    assert store.delete(key) is False
    store.put(key, b"data", compress=False, encrypt=False)
    assert store.delete(key) is True
    assert not store.exists(key)
    assert store.delete(key) is False


def test_empty_files_round_trip(setup, drive):
    store = drive_store(setup)
    key = document_key(1, 5)
    store.put(key, b"", compress=False, encrypt=False)  # created without an upload
    assert store.get(key, compressed=False, encrypted=False) == b""
    store.put(key, b"abc", compress=False, encrypt=False)
    store.put(key, b"", compress=False, encrypt=False)  # emptied by a multipart update
    assert store.get(key, compressed=False, encrypted=False) == b""
    assert len(drive.named("org-1-doc-5.bin")) == 1


def test_keys_page_through_a_long_listing_and_skip_foreign_files(setup, drive):
    store = drive_store(setup)
    drive.page_size = 2
    wanted = [document_key(org, doc) for org, doc in [(1, 1), (1, 2), (2, 3), (7, 40), (7, 41)]]
    for key in wanted:
        store.put(key, b"x", compress=False, encrypt=False)
    # Someone dropped a file of their own into the folder.
    parent = drive.named("org-1-doc-1.bin")[0].parents[0]
    drive.add_folder("notes", parent)
    assert sorted(store.keys()) == sorted(wanted)
    assert drive.requests.count("GET /drive/v3/files") >= 3  # several pages were asked for


def test_old_files_stay_readable_after_a_key_rotation(setup):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    drive_store(setup, [old_key]).put(document_key(1, 7), ORIGINAL, compress=True, encrypt=True)
    rotated = drive_store(setup, [new_key, old_key])
    assert rotated.get(document_key(1, 7), compressed=True, encrypted=True) == ORIGINAL


def test_expired_access_tokens_are_renewed(setup, drive):
    store = drive_store(setup)
    store.put(document_key(1, 1), b"data", compress=False, encrypt=False)
    requests_before = drive.token_requests
    drive.revoke_tokens()
    assert store.get(document_key(1, 1), compressed=False, encrypted=False) == b"data"
    assert drive.token_requests == requests_before + 1


def test_a_folder_path_below_the_shared_drive(drive, tmp_path, account_key):
    drive.allow_service_account(ACCOUNT, account_key.public_key())
    archives = drive.add_folder("Archives", drive.shared_drive_id)
    year = drive.add_folder("2026", archives)
    url = f"googledrive:///Archives/2026?drive_id={drive.shared_drive_id}"
    credentials = service_account_file(tmp_path, account_key)
    store = open_store(url, google_credentials_file=credentials)
    store.put(document_key(4, 2), b"data", compress=False, encrypt=False)
    assert drive.named("org-4-doc-2.bin")[0].parents == [year]
    assert list(store.keys()) == [document_key(4, 2)]


def test_a_folder_inside_a_shared_drive_by_id(drive, tmp_path, account_key):
    drive.allow_service_account(ACCOUNT, account_key.public_key())
    folder = drive.add_folder("Documents", drive.shared_drive_id)
    url = f"googledrive:///?drive_id={drive.shared_drive_id}&root_id={folder}"
    store = open_store(url, google_credentials_file=service_account_file(tmp_path, account_key))
    store.put(document_key(4, 2), b"data", compress=False, encrypt=False)
    assert drive.named("org-4-doc-2.bin")[0].parents == [folder]


def test_a_missing_folder_is_an_error_and_is_not_created(drive, tmp_path, account_key):
    drive.allow_service_account(ACCOUNT, account_key.public_key())
    items_before = set(drive.items)
    url = f"googledrive:///Nowhere?drive_id={drive.shared_drive_id}"
    credentials = service_account_file(tmp_path, account_key)
    with pytest.raises(StorageError, match="'Nowhere' does not exist"):
        open_store(url, google_credentials_file=credentials)
    assert set(drive.items) == items_before


def test_a_service_account_cannot_fill_a_my_drive_folder(drive, tmp_path, account_key):
    """Google gives service accounts no storage quota: the reason reaches the operator,
    and the library's staging file with the document's bytes is removed."""
    drive.allow_service_account(ACCOUNT, account_key.public_key())
    folder = drive.add_folder("Shared with the robot", "root")
    url = f"googledrive:///?root_id={folder}"
    store = open_store(url, google_credentials_file=service_account_file(tmp_path, account_key))
    with pytest.raises(StorageError, match="do not have storage quota"):
        store.put(document_key(1, 1), ORIGINAL, compress=False, encrypt=False)
    assert drive.named("org-1-doc-1.bin") == []
    assert list((tmp_path / "staging").iterdir()) == []


def test_credentials_google_refuses_are_a_storage_error_without_the_key(
    drive, tmp_path, account_key
):
    drive.allow_service_account(ACCOUNT, account_key.public_key())
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    url = f"googledrive:///?drive_id={drive.shared_drive_id}"
    with pytest.raises(StorageError, match="cannot open the Google Drive store") as refused:
        open_store(url, google_credentials_file=service_account_file(tmp_path, stranger))
    assert "invalid_grant" in str(refused.value)
    assert pem(stranger).splitlines()[1] not in str(refused.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "needs GOOGLE_DRIVE_CREDENTIALS_FILE"),
        ("missing", "cannot read GOOGLE_DRIVE_CREDENTIALS_FILE"),
        ("{not json", "is not JSON"),
        ('{"type": "external_account"}', "must hold a service-account key"),
        ('["service_account"]', "must hold a service-account key"),
        (
            '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----secret"}',
            "not a usable service_account credential",
        ),
        ('{"type": "authorized_user", "client_secret": "secret"}', "missing fields"),
    ],
)
def test_unusable_credentials_files_are_refused_clearly(drive, tmp_path, content, message):
    path = tmp_path / "credentials.json"
    if content not in (None, "missing"):
        path.write_text(content)
    setting = None if content is None else str(path)
    url = f"googledrive:///?drive_id={drive.shared_drive_id}"
    with pytest.raises(StorageError, match=message) as refused:
        open_store(url, google_credentials_file=setting)
    assert "secret" not in str(refused.value)
    assert drive.requests == []


def test_unknown_url_parameters_are_refused(drive, tmp_path, account_key):
    url = f"googledrive:///?rootid={drive.shared_drive_id}"
    credentials = service_account_file(tmp_path, account_key)
    with pytest.raises(StorageError, match="unknown Google Drive STORAGE_URL parameter"):
        open_store(url, google_credentials_file=credentials)


def test_no_credential_token_or_document_reaches_the_logs(setup, drive, caplog):
    caplog.set_level(logging.DEBUG)
    store = drive_store(setup)
    store.put(document_key(1, 1), ORIGINAL, compress=False, encrypt=False)
    issued = set(drive.tokens)
    drive.revoke_tokens()
    store.get(document_key(1, 1), compressed=False, encrypted=False)
    issued |= set(drive.tokens)
    logged = caplog.text
    assert "oauth2.googleapis.com/token" in logged  # the clients did log, at DEBUG
    secrets_ = [*issued, REFRESH_TOKEN, CLIENT_SECRET, "BEGIN PRIVATE KEY", "POL-2026-0042"]
    assert [value for value in secrets_ if value in logged] == []


def test_the_app_store_uses_the_configured_credentials_file(setup, drive):
    app = Flask(__name__)
    url, credentials = setup
    app.config.update(
        STORAGE_URL=url, STORAGE_ENCRYPTION_KEYS=[], GOOGLE_DRIVE_CREDENTIALS_FILE=credentials
    )
    store = file_store(app)
    store.put(document_key(8, 8), b"data", compress=False, encrypt=False)
    assert file_store(app) is store
    assert [item.name for item in drive.named("org-8-doc-8.bin")] == ["org-8-doc-8.bin"]


def test_the_setting_is_read_from_the_environment(monkeypatch, tmp_path):
    from config import Config

    monkeypatch.setenv("GOOGLE_DRIVE_CREDENTIALS_FILE", str(tmp_path / "drive.json"))
    setting = Config().GOOGLE_DRIVE_CREDENTIALS_FILE
    assert setting == str(tmp_path / "drive.json")


# The fake itself: a call it does not model fails instead of passing quietly.


def _call(drive, method, uri, token=True, body=None):
    headers = {"authorization": f"Bearer {next(iter(drive.tokens))}"} if token else {}
    response, content = drive.http().request(uri, method, body=body, headers=headers)
    return response.status, json.loads(content or b"{}")


def test_the_fake_refuses_what_it_does_not_model(setup, drive):
    drive_store(setup).exists(document_key(1, 1))  # gets a token
    api = "https://www.googleapis.com/drive/v3"
    assert _call(drive, "GET", f"{api}/about")[0] == 404
    assert _call(drive, "GET", f"{api}/files?orderBy=name")[0] == 400
    assert _call(drive, "GET", f"{api}/files?q=fullText+contains+'x'")[0] == 400
    assert _call(drive, "GET", f"{api}/files?fields=files(id,owners)")[0] == 400
    assert _call(drive, "POST", f"{api}/files", body='{"starred": true}')[0] == 400
    assert _call(drive, "GET", f"{api}/files", token=False)[0] == 401
    assert _call(drive, "GET", "https://storage.googleapis.com/b/o")[0] == 404
    status, answer = _call(drive, "GET", f"{api}/files?q=trashed%3Dfalse")
    assert status == 200
    assert "files" in answer
