"""Attaching a file to a client, a contract or a claim; reading it back; deleting it.

The row is written, its id makes the storage key, the bytes are stored (encrypted when
the server has keys) in the same request: a failed write rolls the row back, and a
transaction that ends without its commit (a refused or failed COMMIT, an error after the
upload) deletes the bytes it stored, so that no file outlives its row. Images get
a PNG thumbnail, stored beside them. Every addition and deletion is in the audit trail
(the flush listener); each download is recorded as ``attachment.download``.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from app.models import Attachment, Claim, Client, Policy, TrainingRecord
from app.services import audit
from app.services.attachments.checks import check, refuse
from app.services.errors import InvalidRequestError, NotFoundError
from app.services.storage import FileStore, StorageError, attachment_key

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
THUMBNAIL_PIXELS = (256, 256)
THUMBNAIL_KINDS = ("jpg", "png")  # Pillow reads no HEIC without a plugin: no thumbnail
OWNERS: dict[str, Any] = {"claim_id": Claim, "client_id": Client, "policy_id": Policy}
OWNER_FIELDS: dict[type, str] = {model: field for field, model in OWNERS.items()}
# session.info key: the files stored in the open transaction, deleted unless it commits.
UNCOMMITTED = "attachment_files_uncommitted"

log = logging.getLogger(__name__)


def max_bytes() -> int:
    return int(current_app.config.get("ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def scoped_owner(session: Session, scope: int | None, field: str, owner_id: int) -> Any:
    """The client, contract or claim if the scope (None: every agency) holds it, else 404."""
    model = OWNERS.get(field)
    if model is None:
        raise InvalidRequestError(_("Attach the file to a client, a contract or a claim."))
    query = select(model).where(model.id == owner_id)
    if scope is not None:
        query = query.where(model.organisation_id == scope)
    owner = session.scalar(query)
    if owner is None:
        raise NotFoundError(_("Not found."))
    return owner


def add_attachment(
    session: Session,
    store: FileStore,
    owner: Claim | Client | Policy | TrainingRecord,
    *,
    data: bytes,
    file_name: str,
    user_id: int | None,
) -> Attachment:
    """Check the file, write its row and store it (and its thumbnail); nothing kept on refusal."""
    checked = check(data, file_name, max_bytes())
    thumbnail = _thumbnail(data) if checked.kind in THUMBNAIL_KINDS else None
    field = {
        Claim: "claim_id",
        Client: "client_id",
        Policy: "policy_id",
        # A training's certificate: attached from the Formation DDA screen only (MANAGER),
        # so not among the API's OWNERS.
        TrainingRecord: "training_record_id",
    }[type(owner)]
    encrypt = bool(current_app.config.get("STORAGE_ENCRYPTION_KEYS"))
    attachment = Attachment(
        organisation_id=owner.organisation_id,
        file_name=checked.file_name,
        media_type=checked.media_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        encrypted=encrypt,
        has_thumbnail=thumbnail is not None,
        uploaded_by_id=user_id,
        **{field: owner.id},
    )
    session.add(attachment)
    session.flush()
    organisation_id = attachment.organisation_id
    stored = [(attachment_key(organisation_id, attachment.id), data)]
    if thumbnail is not None:
        stored.append((attachment_key(organisation_id, attachment.id, thumbnail=True), thumbnail))
    # Remembered before writing: a put that fails half-way is cleaned up with the rest.
    session.info.setdefault(UNCOMMITTED, []).append((store, [key for key, _bytes in stored]))
    for key, content in stored:
        store.put(key, content, compress=False, encrypt=encrypt)
    return attachment


def attachments_of(session: Session, owner: Claim | Client | Policy) -> list[Attachment]:
    """The files kept for a claim, a client or a contract, newest first."""
    column = getattr(Attachment, OWNER_FIELDS[type(owner)])
    return list(
        session.scalars(select(Attachment).where(column == owner.id).order_by(Attachment.id.desc()))
    )


def scoped_attachment(session: Session, scope: int | None, attachment_id: int) -> Attachment:
    """The attachment if the scope (None: every agency) holds it, else 404."""
    query = select(Attachment).where(Attachment.id == attachment_id)
    if scope is not None:
        query = query.where(Attachment.organisation_id == scope)
    attachment = session.scalar(query)
    if attachment is None:
        raise NotFoundError(_("Not found."))
    return attachment


def read(
    session: Session, store: FileStore, attachment: Attachment, user: Any, *, thumbnail: bool
) -> bytes:
    """The file's bytes (or its thumbnail's), the download recorded in the audit trail."""
    if thumbnail and not attachment.has_thumbnail:
        raise NotFoundError(_("This file has no thumbnail."))
    key = attachment_key(attachment.organisation_id, attachment.id, thumbnail=thumbnail)
    data = store.get(key, compressed=False, encrypted=attachment.encrypted)
    if not thumbnail:
        audit.record(
            session,
            "attachment.download",
            "Attachment",
            attachment.id,
            {"file_name": attachment.file_name, "size": attachment.size},
            organisation_id=attachment.organisation_id,
            actor=audit.Actor(user.id, user.username, getattr(user, "organisation_id", None)),
        )
    return data


@dataclass(frozen=True)
class Deleted:
    organisation_id: int
    attachment_id: int
    had_thumbnail: bool

    def remove_from(self, store: FileStore) -> None:
        """After the commit: the row is gone, its bytes go too."""
        store.delete(attachment_key(self.organisation_id, self.attachment_id))
        if self.had_thumbnail:
            store.delete(attachment_key(self.organisation_id, self.attachment_id, thumbnail=True))


def delete_attachment(session: Session, attachment: Attachment) -> Deleted:
    """Delete the row (audited); the caller removes the bytes once it is committed."""
    deleted = Deleted(attachment.organisation_id, attachment.id, attachment.has_thumbnail)
    session.delete(attachment)
    return deleted


def _thumbnail(data: bytes) -> bytes:
    """A PNG at most 256 px wide and high; an image Pillow cannot read is refused."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.thumbnail(THUMBNAIL_PIXELS)
                out = io.BytesIO()
                image.convert("RGB").save(out, format="PNG")
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        ValueError,
    ):
        raise refuse(_("The image cannot be read.")) from None
    return out.getvalue()


# --- files of a transaction that did not commit ------------------------------
# Listeners on the Session class: they see every session (the request's, the tests',
# a CLI's). On PostgreSQL an id is never handed out twice, so the key deleted here is
# no other row's; on SQLite the write lock is held from the flush to the rollback.


@event.listens_for(Session, "after_commit")
def _files_committed(session: Session) -> None:
    session.info.pop(UNCOMMITTED, None)


@event.listens_for(Session, "after_transaction_end")
def _discard_uncommitted_files(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return  # a savepoint: the outer transaction decides
    for store, keys in session.info.pop(UNCOMMITTED, ()):
        for key in keys:
            try:
                store.delete(key)
            except (StorageError, ValueError):  # the store is away too: the file stays
                log.exception("could not delete the uncommitted attachment file %s", key)
