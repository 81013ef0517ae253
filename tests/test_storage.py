"""The file store: original bytes back whatever the backend, compression or key rotation."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.fernet import Fernet

from app.services.storage import StorageError, document_key, open_store
from app.services.storage.codec import Codec

ORIGINAL = ("Conditions particulières — contrat POL-2026-0042, ORIAS 07023456\n" * 200).encode()


@pytest.fixture(params=["mem", "osfs"])
def store_url(request, tmp_path):
    return "mem://" if request.param == "mem" else f"osfs://{tmp_path / 'files'}"


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("encrypt", [False, True])
def test_round_trip_returns_the_original_bytes(store_url, compress, encrypt):
    store = open_store(store_url, [Fernet.generate_key().decode()])
    key = document_key(3, 42)
    stored = store.put(key, ORIGINAL, compress=compress, encrypt=encrypt)
    assert stored.sha256 == hashlib.sha256(ORIGINAL).hexdigest()
    assert stored.size == len(ORIGINAL)
    if compress:
        assert stored.stored_size < stored.size
    assert store.get(key, compressed=compress, encrypted=encrypt) == ORIGINAL
    assert list(store.keys()) == [key]


def test_encrypted_file_holds_no_plain_text(tmp_path):
    store = open_store(f"osfs://{tmp_path}", [Fernet.generate_key().decode()])
    store.put(document_key(1, 1), ORIGINAL, compress=False, encrypt=True)
    raw = (tmp_path / "org-1" / "doc-1.bin").read_bytes()
    assert b"POL-2026-0042" not in raw


def test_old_files_stay_readable_after_a_key_rotation(tmp_path):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    url = f"osfs://{tmp_path}"
    open_store(url, [old_key]).put(document_key(1, 7), ORIGINAL, compress=True, encrypt=True)
    rotated = open_store(url, [new_key, old_key])
    assert rotated.get(document_key(1, 7), compressed=True, encrypted=True) == ORIGINAL
    rotated.put(document_key(1, 8), ORIGINAL, compress=True, encrypt=True)
    # New files use the new key: a store holding only the new key reads them.
    only_new = open_store(url, [new_key])
    assert only_new.get(document_key(1, 8), compressed=True, encrypted=True) == ORIGINAL
    with pytest.raises(StorageError, match="no configured key"):
        only_new.get(document_key(1, 7), compressed=True, encrypted=True)


def test_encrypting_without_a_key_is_refused():
    store = open_store("mem://")
    with pytest.raises(ValueError, match="STORAGE_ENCRYPTION_KEYS"):
        store.put(document_key(1, 1), ORIGINAL, compress=False, encrypt=True)


def test_a_malformed_key_list_is_refused_at_start():
    with pytest.raises(ValueError, match="Fernet keys"):
        Codec(["not-a-key"])


def test_damaged_compressed_file_is_an_error_not_garbage(tmp_path):
    store = open_store(f"osfs://{tmp_path}")
    store.put(document_key(1, 1), ORIGINAL, compress=True, encrypt=False)
    (tmp_path / "org-1" / "doc-1.bin").write_bytes(b"\x1f\x8b broken")
    with pytest.raises(StorageError, match="damaged"):
        store.get(document_key(1, 1), compressed=True, encrypted=False)


@pytest.mark.parametrize(
    "key",
    ["../etc/passwd", "org-1/../../x.bin", "/org-1/doc-1.bin", "org-0/doc-1.bin", "org-1/doc-1"],
)
def test_keys_that_are_not_built_from_ids_are_refused(key):
    store = open_store("mem://")
    with pytest.raises(ValueError):
        store.put(key, b"x", compress=False, encrypt=False)
    with pytest.raises(ValueError):
        store.get(key, compressed=False, encrypted=False)


@pytest.mark.parametrize("ids", [(0, 1), (1, -5), ("1", 2), (True, 1)])
def test_document_key_takes_positive_integer_ids_only(ids):
    with pytest.raises(ValueError):
        document_key(*ids)


def test_missing_file_and_delete(store_url):
    store = open_store(store_url)
    key = document_key(2, 9)
    with pytest.raises(FileNotFoundError):
        store.get(key, compressed=False, encrypted=False)
    store.put(key, b"data", compress=False, encrypt=False)
    assert store.exists(key)
    assert store.delete(key) is True
    assert store.delete(key) is False
    assert not store.exists(key)


def test_unfinished_writes_are_not_listed_and_replacing_is_atomic(tmp_path):
    store = open_store(f"osfs://{tmp_path}")
    key = document_key(4, 2)
    store.put(key, b"first", compress=False, encrypt=False)
    (tmp_path / "org-4" / ".tmp-abc-doc-3.bin").write_bytes(b"half")
    store.put(key, b"second", compress=False, encrypt=False)
    assert list(store.keys()) == [key]
    assert store.get(key, compressed=False, encrypted=False) == b"second"


def test_an_unknown_scheme_is_a_clear_error():
    with pytest.raises(StorageError, match="unsupported STORAGE_URL"):
        open_store("nosuchfs://somewhere")
