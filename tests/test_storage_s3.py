"""The file store on S3, against a local S3-compatible server (moto) the test starts."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from app.services.storage import document_key, open_store
from tests import s3_server
from tests.s3_server import s3_url

s3_endpoint = s3_server.s3_endpoint  # the fixture, shared with the purge tests

ORIGINAL = b"Attestation d'assurance POL-2026-0042 " * 500


@pytest.mark.parametrize(("compress", "encrypt"), [(False, False), (True, True)])
def test_s3_round_trip_returns_the_original_bytes(s3_endpoint, compress, encrypt):
    store = open_store(
        s3_url(s3_endpoint, f"rt-{compress}-{encrypt}"), [Fernet.generate_key().decode()]
    )
    key = document_key(5, 12)
    stored = store.put(key, ORIGINAL, compress=compress, encrypt=encrypt)
    assert stored.size == len(ORIGINAL)
    assert store.get(key, compressed=compress, encrypted=encrypt) == ORIGINAL
    assert list(store.keys()) == [key]
    assert store.delete(key) is True
    assert list(store.keys()) == []


def test_s3_files_survive_a_key_rotation(s3_endpoint):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    url = s3_url(s3_endpoint, "rotation")
    open_store(url, [old_key]).put(document_key(1, 1), ORIGINAL, compress=True, encrypt=True)
    reader = open_store(url, [new_key, old_key])
    assert reader.get(document_key(1, 1), compressed=True, encrypted=True) == ORIGINAL
