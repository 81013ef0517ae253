"""Handing a generated document to a user who may see it: the original bytes, checked.

The file is read through the file store (which undoes compression and
encryption), its sha256 is compared with the one recorded when it was made,
and the download is audited in its own small transaction before the bytes go
out: no download leaves no trace.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.models import DocumentStatus
from app.services import audit
from app.services.documents.queries import visible_document
from app.services.errors import ConflictError, DomainError, NotFoundError
from app.services.storage import StorageError, file_store

log = logging.getLogger(__name__)


class StorageUnavailableError(DomainError):
    """The store did not answer (network, credentials): trying later may work."""

    status = 503


@dataclass(frozen=True)
class Download:
    data: bytes
    media_type: str
    file_name: str
    sha256: str
    document_id: int
    size: int


def open_download(session: Session, user: Any, document_id: int) -> Download:
    """The stored bytes of a ready document in ``user``'s reach; audited, committed.

    NotFoundError outside the scope; ConflictError when the document is not
    ready, or when its file is missing or does not match its checksum (logged
    as an error: the file was changed or lost after it was made);
    StorageUnavailableError (503) when the store cannot be read right now.
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
        data = file_store().get(
            document.storage_key, compressed=document.compressed, encrypted=document.encrypted
        )
    except FileNotFoundError:
        log.error("document %s: its file %s is missing", document.id, document.storage_key)
        raise ConflictError(_("The file of this document is missing; generate it again.")) from None
    except StorageError as error:
        log.error("document %s: the store could not be read: %s", document.id, error)
        raise StorageUnavailableError(
            _("The file store cannot be read right now; try again in a moment.")
        ) from None
    sha256 = hashlib.sha256(data).hexdigest()
    if sha256 != document.sha256:
        log.error(
            "document %s: stored file checksum %s does not match the recorded %s",
            document.id,
            sha256,
            document.sha256,
        )
        raise ConflictError(
            _("The file of this document is damaged (checksum mismatch); generate it again.")
        )
    download = Download(
        data=data,
        media_type=document.media_type or "application/octet-stream",
        file_name=document.file_name or f"document-{document.id}",
        sha256=sha256,
        document_id=document.id,
        size=len(data),
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
