"""A file store on any pyfilesystem2 URL: a local folder (default), memory (tests), S3,
Google Drive (``app.services.storage.gdrive``).

Keys are built from ids by ``document_key``, never from user input. Writes go to a
temporary name and are moved into place, so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import re
import secrets
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# pyfilesystem2 declares its namespace packages with pkg_resources, whose import warns
# that it is deprecated (setuptools 81, pinned for it: design notes §5) in every process.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
    import fs
    import fs.errors
    import fs.opener.errors
    from fs.base import FS

from app.services.storage.codec import Codec, CodecError

KEY_PATTERN = re.compile(r"^org-[1-9][0-9]{0,18}/doc-[1-9][0-9]{0,18}\.bin$")
# Uploaded attachments and their thumbnails: not documents, so never listed by ``keys``
# (the document orphan purge judges documents only) but by ``attachment_keys``.
ATTACHMENT_KEY_PATTERN = re.compile(r"^org-[1-9][0-9]{0,18}/att-[1-9][0-9]{0,18}(-thumb)?\.bin$")
TEMP_PREFIX = ".tmp-"
READ_BYTES = 256 * 1024


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


def attachment_key(organisation_id: int, attachment_id: int, *, thumbnail: bool = False) -> str:
    """The storage key of an uploaded attachment (or its thumbnail): from ids only."""
    for value in (organisation_id, attachment_id):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError("storage keys are built from positive integer ids")
    suffix = "-thumb" if thumbnail else ""
    return f"org-{organisation_id}/att-{attachment_id}{suffix}.bin"


class FileStore:
    # Errors a network filesystem raises besides fs.errors.FSError (its client's own),
    # turned into StorageError like the others.
    backend_errors: tuple[type[BaseException], ...] = ()

    def __init__(self, filesystem: FS, codec: Codec) -> None:
        self._fs = filesystem
        self.codec = codec

    def put(self, key: str, data: bytes, *, compress: bool, encrypt: bool) -> StoredFile:
        """Store ``data`` under ``key`` (replacing it), and describe what was stored."""
        _check_key(key)
        payload = self.codec.encode(data, compress=compress, encrypt=encrypt)
        with self._failures(f"could not store {key}"):
            self._write(self._path(key), payload)
        return StoredFile(
            key=key,
            size=len(data),
            stored_size=len(payload),
            sha256=hashlib.sha256(data).hexdigest(),
            compressed=compress,
            encrypted=encrypt,
        )

    def put_file(self, key: str, source: Path, *, compress: bool, encrypt: bool) -> StoredFile:
        """Store the file at ``source`` under ``key``, like ``put``.

        Plain files (no compression, no encryption: a report of a million rows)
        are streamed, so memory stays flat whatever their size; the codec needs
        the whole content, so the other cases read the file into memory.
        """
        if compress or encrypt or type(self)._write is not FileStore._write:
            return self.put(key, source.read_bytes(), compress=compress, encrypt=encrypt)
        _check_key(key)
        digest = hashlib.sha256()
        with source.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        size = source.stat().st_size
        path = self._path(key)
        folder, name = path.rsplit("/", 1)
        temporary = f"{folder}/{TEMP_PREFIX}{secrets.token_hex(8)}-{name}"
        with self._failures(f"could not store {key}"):
            try:
                self._fs.makedirs(folder, recreate=True)
                with source.open("rb") as handle:
                    self._fs.upload(temporary, handle)
                self._fs.move(temporary, path, overwrite=True)
            except fs.errors.FSError:
                self._discard(temporary)
                raise
        return StoredFile(key, size, size, digest.hexdigest(), compressed=False, encrypted=False)

    def get(self, key: str, *, compressed: bool, encrypted: bool) -> bytes:
        """The original bytes stored under ``key``."""
        _check_key(key)
        try:
            with self._failures(f"could not read {key}"):
                payload = self._read(self._path(key))
        except fs.errors.ResourceNotFound as error:
            raise FileNotFoundError(key) from error
        try:
            return self.codec.decode(payload, compressed=compressed, encrypted=encrypted)
        except CodecError as error:
            raise StorageError(f"could not decode {key}: {error}") from error

    def stream(self, key: str, *, compressed: bool, encrypted: bool) -> Iterator[bytes]:
        """The original bytes stored under ``key``, decoded block by block as they are read.

        The file is opened before this returns, so a missing file raises
        FileNotFoundError and an unreachable store StorageError here, before a
        caller has sent anything; later failures raise StorageError mid-stream.
        """
        _check_key(key)
        path = self._path(key)
        try:
            with self._failures(f"could not read {key}"):
                if type(self)._read is not FileStore._read:
                    # A backend with its own reader (Drive) hands the file over whole.
                    handle: Any = io.BytesIO(self._read(path))
                else:
                    handle = self._fs.openbin(path)
        except fs.errors.ResourceNotFound as error:
            raise FileNotFoundError(key) from error
        return self._decoded(key, handle, compressed=compressed, encrypted=encrypted)

    def _decoded(
        self, key: str, handle: Any, *, compressed: bool, encrypted: bool
    ) -> Iterator[bytes]:
        def blocks() -> Iterator[bytes]:
            while True:
                with self._failures(f"could not read {key}"):
                    block = handle.read(READ_BYTES)
                if not block:
                    return
                yield block

        try:
            yield from self.codec.decode_stream(
                blocks(), compressed=compressed, encrypted=encrypted
            )
        except CodecError as error:
            raise StorageError(f"could not decode {key}: {error}") from error
        finally:
            handle.close()

    def exists(self, key: str) -> bool:
        _check_key(key)
        with self._failures(f"could not look for {key}"):
            return self._fs.exists(self._path(key))

    def delete(self, key: str) -> bool:
        """Remove the file; False when it was already gone."""
        _check_key(key)
        try:
            with self._failures(f"could not delete {key}"):
                self._fs.remove(self._path(key))
            return True
        except fs.errors.ResourceNotFound:
            return False

    def keys(self) -> Iterator[str]:
        """Every stored document key (temporary files of unfinished writes left out)."""
        with self._failures("could not list the stored files"):
            paths = list(self._fs.walk.files(filter=["doc-*.bin"]))
        for path in paths:
            key = path.lstrip("/")
            if KEY_PATTERN.match(key):
                yield key

    def attachment_keys(self) -> Iterator[str]:
        """Every stored attachment key, thumbnails included (unfinished writes left out)."""
        with self._failures("could not list the stored files"):
            paths = list(self._fs.walk.files(filter=["att-*.bin"]))
        for path in paths:
            key = path.lstrip("/")
            if ATTACHMENT_KEY_PATTERN.match(key):
                yield key

    def modified_at(self, key: str) -> dt.datetime | None:
        """When the file was last written (UTC, naive, as our columns); None if gone or unknown."""
        _check_key(key)
        try:
            with self._failures(f"could not look at {key}"):
                info = self._fs.getinfo(self._path(key), namespaces=["details"])
        except fs.errors.ResourceNotFound:
            return None
        modified = info.modified
        if modified is None:
            return None
        if modified.tzinfo is not None:
            modified = modified.astimezone(dt.UTC).replace(tzinfo=None)
        return modified

    def stored_size(self, key: str) -> int | None:
        """Bytes the file takes in the store (after compression and encryption); None if gone."""
        _check_key(key)
        try:
            with self._failures(f"could not look at {key}"):
                return self._fs.getsize(self._path(key))
        except fs.errors.ResourceNotFound:
            return None

    def close(self) -> None:
        self._fs.close()

    # How keys map to paths and files are replaced; a backend may change both.

    def _path(self, key: str) -> str:
        return key

    def _write(self, path: str, payload: bytes) -> None:
        folder, name = path.rsplit("/", 1)
        temporary = f"{folder}/{TEMP_PREFIX}{secrets.token_hex(8)}-{name}"
        try:
            self._fs.makedirs(folder, recreate=True)
            self._fs.writebytes(temporary, payload)
            self._fs.move(temporary, path, overwrite=True)
        except fs.errors.FSError:
            self._discard(temporary)
            raise

    def _read(self, path: str) -> bytes:
        return self._fs.readbytes(path)

    @contextlib.contextmanager
    def _failures(self, message: str) -> Iterator[None]:
        """Filesystem failures as StorageError; a missing file stays ResourceNotFound."""
        try:
            yield
        except fs.errors.ResourceNotFound:
            raise
        except (fs.errors.FSError, *self.backend_errors) as error:
            raise StorageError(f"{message}: {error}") from error

    def _discard(self, path: str) -> None:
        with contextlib.suppress(fs.errors.FSError):
            self._fs.remove(path)


def open_store(
    url: str, encryption_keys: Sequence[str] = (), *, google_credentials_file: str | None = None
) -> FileStore:
    """Open the store named by STORAGE_URL (e.g. osfs:///srv/files, mem://, s3://bucket/prefix,
    googledrive:///?root_id=<folder id> with GOOGLE_DRIVE_CREDENTIALS_FILE)."""
    codec = Codec(encryption_keys)
    if url.startswith("googledrive:"):
        # Imported here: Google's client is slow to import and only Drive users need it.
        from app.services.storage.gdrive import open_drive_store

        return open_drive_store(url, google_credentials_file, codec)
    try:
        filesystem = fs.open_fs(url, create=True)
    except fs.errors.CreateFailed as error:
        raise StorageError(f"cannot open the file store: {error}") from error
    except fs.opener.errors.UnsupportedProtocol as error:
        raise StorageError(f"unsupported STORAGE_URL scheme: {error}") from error
    if url.startswith("s3:"):
        from app.services.storage.s3 import S3FileStore

        return S3FileStore(filesystem, codec)
    return FileStore(filesystem, codec)


def _check_key(key: str) -> None:
    if not KEY_PATTERN.match(key) and not ATTACHMENT_KEY_PATTERN.match(key):
        raise ValueError(f"not a document storage key: {key!r}")
