"""Handing a generated document to a user who may see it: the original bytes, checked.

The file is streamed from the file store (which undoes compression and
encryption as it reads), checked against the sha256 recorded when it was made
(app.services.documents.files), and the download is audited in its own small
transaction before the bytes go out: no download leaves no trace.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.models import DocumentStatus
from app.services import audit
from app.services.documents.files import ChecksumMismatchError, document_chunks
from app.services.documents.queries import visible_document
from app.services.errors import ConflictError, DomainError, NotFoundError
from app.services.storage import StorageError

log = logging.getLogger(__name__)


class StorageUnavailableError(DomainError):
    """The store did not answer (network, credentials): trying later may work."""

    status = 503


@dataclass(frozen=True)
class Download:
    chunks: Iterator[bytes]  # the original bytes, streamed (app.services.documents.files)
    media_type: str
    file_name: str
    sha256: str
    document_id: int
    size: int

    def read(self) -> bytes:
        """All the bytes at once (small files, tests); the chunks are spent."""
        return b"".join(self.chunks)


def open_download(session: Session, user: Any, document_id: int) -> Download:
    """The stored bytes of a ready document in ``user``'s reach; audited, committed.

    NotFoundError outside the scope; ConflictError when the document is not
    ready, or when its file is missing or does not match its checksum (logged
    as an error: the file was changed or lost after it was made);
    StorageUnavailableError (503) when the store cannot be read right now.
    Files beyond WHOLE_CHECK_BYTES are checked as they stream (see files.py).
    """
    document = visible_document(session, user, document_id)
    if document is None:
        raise NotFoundError(_("Document not found."))
    if document.status is DocumentStatus.failed:
        raise ConflictError(
            _("This document could not be generated: %(error)s") % {"error": document.error or ""}
        )
    if document.status is not DocumentStatus.ready or not document.storage_key:
        raise ConflictError(
            _("This document is not ready yet: status %(status)s.")
            % {"status": document.status.value}
        )
    try:
        chunks = document_chunks(document)
    except FileNotFoundError:
        log.error("document %s: its file %s is missing", document.id, document.storage_key)
        raise ConflictError(_("The file of this document is missing; generate it again.")) from None
    except ChecksumMismatchError:
        raise ConflictError(
            _("The file of this document is damaged (checksum mismatch); generate it again.")
        ) from None
    except StorageError as error:
        log.error("document %s: the store could not be read: %s", document.id, error)
        raise StorageUnavailableError(
            _("The file store cannot be read right now; try again in a moment.")
        ) from None
    download = Download(
        chunks=chunks,
        media_type=document.media_type or "application/octet-stream",
        file_name=document.file_name or f"document-{document.id}",
        sha256=document.sha256 or "",
        document_id=document.id,
        size=document.size or 0,
    )
    try:
        audit.record(
            session,
            "document.download",
            "Document",
            document.id,
            {"file_name": download.file_name, "size": download.size},
            organisation_id=document.organisation_id,
            actor=audit.Actor(user.id, user.username, getattr(user, "organisation_id", None)),
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return download
