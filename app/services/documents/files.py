"""A ready document's stored bytes, checked against the sha256 recorded when it was made.

Downloads stream: the store decrypts and decompresses block by block, so a
report of many megabytes never sits whole in memory. The check differs by size:

- up to ``WHOLE_CHECK_BYTES``, the file is read and checked before anything is
  handed out, so a damaged file gets a clear refusal instead of bytes;
- beyond, it is checked as it streams and the last block is held back until
  the digest matches: a damaged file ends the download before it is complete
  (and is logged), so a client never receives all of a wrong file.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator

from app.models import Document
from app.services.storage import StorageError, file_store

log = logging.getLogger(__name__)

WHOLE_CHECK_BYTES = 8 * 1024 * 1024
CHUNK_BYTES = 256 * 1024


class ChecksumMismatchError(StorageError):
    """The stored bytes are not the ones recorded when the document was made."""


def document_chunks(document: Document) -> Iterator[bytes]:
    """The original bytes of ``document`` (ready, with a storage key), in chunks.

    Raises FileNotFoundError (no file), StorageError (the store cannot be read or
    decoded) or ChecksumMismatchError before returning for files up to
    WHOLE_CHECK_BYTES; for larger files the same errors may also come while
    iterating.
    """
    assert document.storage_key is not None
    chunks = file_store().stream(
        document.storage_key, compressed=document.compressed, encrypted=document.encrypted
    )
    # Plain values: the stream outlives the request's database session.
    document_id, expected = document.id, document.sha256
    if (document.size or 0) <= WHOLE_CHECK_BYTES:
        data = b"".join(chunks)
        _check(document_id, expected, hashlib.sha256(data).hexdigest())
        return _slices(data)
    return _checked_stream(document_id, expected, chunks)


def _slices(data: bytes) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(view), CHUNK_BYTES):
        yield bytes(view[start : start + CHUNK_BYTES])


def _checked_stream(
    document_id: int, expected: str | None, chunks: Iterator[bytes]
) -> Iterator[bytes]:
    digest = hashlib.sha256()
    held: bytes | None = None
    try:
        for chunk in chunks:
            digest.update(chunk)
            if held is not None:
                yield held
            held = chunk
        _check(document_id, expected, digest.hexdigest())
    except StorageError:
        log.error("document %s: download stopped, its file could not be read", document_id)
        raise
    if held is not None:
        yield held


def _check(document_id: int, expected: str | None, sha256: str) -> None:
    if expected and sha256 != expected:
        log.error(
            "document %s: stored file checksum %s does not match the recorded %s",
            document_id,
            sha256,
            expected,
        )
        raise ChecksumMismatchError(f"document {document_id}: checksum mismatch")
