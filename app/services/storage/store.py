"""A file store on any pyfilesystem2 URL: a local folder (default), memory (tests), S3.

Keys are built from ids by ``document_key``, never from user input. Writes go to a
temporary name and are moved into place, so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import fs
import fs.errors
import fs.opener.errors
from fs.base import FS

from app.services.storage.codec import Codec, CodecError

KEY_PATTERN = re.compile(r"^org-[1-9][0-9]{0,18}/doc-[1-9][0-9]{0,18}\.bin$")
TEMP_PREFIX = ".tmp-"


class StorageError(RuntimeError):
    """The store could not read or write a file."""


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int  # of the original bytes
    stored_size: int  # after compression and encryption
    sha256: str  # of the original bytes
    compressed: bool
    encrypted: bool


def document_key(organisation_id: int, document_id: int) -> str:
    """The storage key of a document: from ids only, so no path can be injected."""
    for value in (organisation_id, document_id):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError("storage keys are built from positive integer ids")
    return f"org-{organisation_id}/doc-{document_id}.bin"


class FileStore:
    def __init__(self, filesystem: FS, codec: Codec) -> None:
        self._fs = filesystem
        self.codec = codec

    def put(self, key: str, data: bytes, *, compress: bool, encrypt: bool) -> StoredFile:
        """Store ``data`` under ``key`` (replacing it), and describe what was stored."""
        _check_key(key)
        payload = self.codec.encode(data, compress=compress, encrypt=encrypt)
        folder, name = key.rsplit("/", 1)
        temporary = f"{folder}/{TEMP_PREFIX}{secrets.token_hex(8)}-{name}"
        try:
            self._fs.makedirs(folder, recreate=True)
            self._fs.writebytes(temporary, payload)
            self._fs.move(temporary, key, overwrite=True)
        except fs.errors.FSError as error:
            self._discard(temporary)
            raise StorageError(f"could not store {key}: {error}") from error
        return StoredFile(
            key=key,
            size=len(data),
            stored_size=len(payload),
            sha256=hashlib.sha256(data).hexdigest(),
            compressed=compress,
            encrypted=encrypt,
        )

    def get(self, key: str, *, compressed: bool, encrypted: bool) -> bytes:
        """The original bytes stored under ``key``."""
        _check_key(key)
        try:
            payload = self._fs.readbytes(key)
        except fs.errors.ResourceNotFound as error:
            raise FileNotFoundError(key) from error
        except fs.errors.FSError as error:
            raise StorageError(f"could not read {key}: {error}") from error
        try:
            return self.codec.decode(payload, compressed=compressed, encrypted=encrypted)
        except CodecError as error:
            raise StorageError(f"could not decode {key}: {error}") from error

    def exists(self, key: str) -> bool:
        _check_key(key)
        return self._fs.exists(key)

    def delete(self, key: str) -> bool:
        """Remove the file; False when it was already gone."""
        _check_key(key)
        try:
            self._fs.remove(key)
            return True
        except fs.errors.ResourceNotFound:
            return False

    def keys(self) -> Iterator[str]:
        """Every stored document key (temporary files of unfinished writes left out)."""
        for path in self._fs.walk.files(filter=["doc-*.bin"]):
            key = path.lstrip("/")
            if KEY_PATTERN.match(key):
                yield key

    def close(self) -> None:
        self._fs.close()

    def _discard(self, path: str) -> None:
        with contextlib.suppress(fs.errors.FSError):
            self._fs.remove(path)


def open_store(url: str, encryption_keys: Sequence[str] = ()) -> FileStore:
    """Open the store named by STORAGE_URL (e.g. osfs:///srv/files, mem://, s3://bucket/prefix)."""
    try:
        filesystem = fs.open_fs(url, create=True)
    except fs.errors.CreateFailed as error:
        raise StorageError(f"cannot open the file store: {error}") from error
    except fs.opener.errors.UnsupportedProtocol as error:
        raise StorageError(f"unsupported STORAGE_URL scheme: {error}") from error
    return FileStore(filesystem, Codec(encryption_keys))


def _check_key(key: str) -> None:
    if not KEY_PATTERN.match(key):
        raise ValueError(f"not a document storage key: {key!r}")
