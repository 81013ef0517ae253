"""Redeeming a link: the public download checks everything the signature stands for.

Order of the checks: the token's shape, its key (known, not retired), its
signature, its expiry, the key's verification window, the document (still
there, links not revoked since issue, ready), single use (spent once), the
stored bytes (readable, checksum). The first failure refuses the link.

This use case owns its transaction (like generating a document): a refusal is
rolled back and audited as ``link.refused`` with its reason; a success spends a
single-use link and audits ``link.download`` in one commit, before any byte is
sent, so a link cannot be used twice even by two requests at once (the spent
nonce is a primary key).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Document, DocumentStatus, SpentLink
from app.services import audit
from app.services.documents.files import document_chunks
from app.services.links import clock, keys
from app.services.links.tokens import LinkClaims, MalformedTokenError, read
from app.services.storage import StorageError

log = logging.getLogger(__name__)

NOT_VALID = _l("This link is not valid.")
# reason -> (HTTP status, message shown to whoever holds the link)
REFUSALS: dict[str, tuple[int, Any]] = {
    "malformed": (403, NOT_VALID),
    "unknown_key": (403, NOT_VALID),
    "retired_key": (403, NOT_VALID),
    "bad_signature": (403, NOT_VALID),
    "key_expired": (403, NOT_VALID),
    "expired": (410, _l("This link has expired.")),
    "revoked": (410, _l("This link was revoked.")),
    "spent": (410, _l("This link has already been used.")),
    "gone": (410, _l("This document is no longer available.")),
    "not_ready": (404, _l("This document cannot be found.")),
    "unavailable": (503, _l("This document cannot be delivered right now. Try again later.")),
}


class LinkRefusedError(Exception):
    """The link does not open: ``status`` and ``message`` answer, ``reason`` is audited."""

    def __init__(self, reason: str, claims: LinkClaims | None = None, *, verified: bool = False):
        self.reason = reason
        self.status, self.message = REFUSALS[reason]
        # Claims are trusted (and the document's organisation named) only once signed.
        self.claims = claims
        self.verified = verified
        self.organisation_id: int | None = None
        super().__init__(reason)


@dataclass(frozen=True)
class LinkDownload:
    claims: LinkClaims
    document_id: int
    file_name: str
    media_type: str
    sha256: str
    size: int
    chunks: Iterator[bytes] | None  # None when only the headers were asked for (HEAD)


def redeem_link(session: Session, token: str, *, with_data: bool = True) -> LinkDownload:
    """Check the link and hand out the document; LinkRefusedError (audited) when it does not open.

    ``with_data=False`` (a HEAD request) checks the link without reading the file,
    spending a single-use link or recording a download.
    """
    try:
        download = _redeem(session, token, with_data)
    except LinkRefusedError as refusal:
        session.rollback()
        _record_refusal(session, refusal)
        session.commit()
        raise
    except keys.KeyConfigError:
        session.rollback()
        log.exception("signed links cannot be verified")
        raise
    session.commit()
    return download


def _redeem(session: Session, token: str, with_data: bool) -> LinkDownload:
    try:
        signed = read(token)
    except MalformedTokenError:
        raise LinkRefusedError("malformed") from None
    claims = signed.claims
    key = keys.verifying_key(session, claims.kid)
    if key is None:
        raise LinkRefusedError("unknown_key", claims)
    if key.retired:
        raise LinkRefusedError("retired_key", claims)
    if not signed.signature_matches(key.secret):
        raise LinkRefusedError("bad_signature", claims)
    moment = clock.now()
    if clock.to_seconds(moment) >= claims.expires:
        raise LinkRefusedError("expired", claims, verified=True)
    if not key.verifies_at(moment):
        raise LinkRefusedError("key_expired", claims, verified=True)

    document = session.get(Document, claims.document_id)
    if document is None:
        raise LinkRefusedError("gone", claims, verified=True)
    refusal = _document_refusal(session, document, claims)
    if refusal is not None:
        raise refusal

    chunks = _open_file(document, claims) if with_data else None
    if with_data:
        if claims.single_use:
            _spend(session, document, claims)
        audit.record(
            session,
            "link.download",
            "Document",
            document.id,
            {"kid": claims.kid, "nonce": claims.nonce, "single_use": claims.single_use},
            organisation_id=document.organisation_id,
        )
    return LinkDownload(
        claims=claims,
        document_id=document.id,
        file_name=document.file_name or f"document-{document.id}",
        media_type=document.media_type or "application/octet-stream",
        sha256=document.sha256 or "",
        size=document.size or 0,
        chunks=chunks,
    )


def _refused(reason: str, document: Document, claims: LinkClaims) -> LinkRefusedError:
    """A refusal about a real document, past the signature: its agency sees it in its log."""
    refusal = LinkRefusedError(reason, claims, verified=True)
    refusal.organisation_id = document.organisation_id
    return refusal


def _document_refusal(
    session: Session, document: Document, claims: LinkClaims
) -> LinkRefusedError | None:
    revoked_at = document.links_revoked_at
    if revoked_at is not None and claims.issued_ms <= clock.to_millis(revoked_at):
        return _refused("revoked", document, claims)
    if document.status != DocumentStatus.ready or not document.storage_key:
        return _refused("not_ready", document, claims)
    # Checked here too (not only by the insert) so that HEAD tells the truth.
    if claims.single_use and session.get(SpentLink, claims.nonce) is not None:
        return _refused("spent", document, claims)
    return None


def _spend(session: Session, document: Document, claims: LinkClaims) -> None:
    """Record the nonce; a second use (even a concurrent one) fails on the primary key."""
    session.add(
        SpentLink(
            nonce=claims.nonce,
            document_id=document.id,
            spent_at=clock.now(),
            expires_at=claims.expires_at,
        )
    )
    try:
        session.flush()
    except IntegrityError:
        raise _refused("spent", document, claims) from None


def _open_file(document: Document, claims: LinkClaims) -> Iterator[bytes]:
    """The document's bytes, streamed and checked (app.services.documents.files)."""
    try:
        return document_chunks(document)
    except FileNotFoundError:
        log.warning("document %s is ready but its file is missing", document.id)
        raise _refused("gone", document, claims) from None
    except (StorageError, ValueError):
        log.exception("document %s could not be read for a link", document.id)
        raise _refused("unavailable", document, claims) from None


def _record_refusal(session: Session, refusal: LinkRefusedError) -> None:
    changes: dict[str, Any] = {"reason": refusal.reason}
    claims = refusal.claims
    if refusal.verified and claims is not None and refusal.organisation_id is None:
        # Signed by us (expired, say): the agency of the document sees the refusal.
        refusal.organisation_id = session.scalar(
            select(Document.organisation_id).where(Document.id == claims.document_id)
        )
    if claims is not None:
        # Unverified claims are whatever the caller typed: kept for forensics, but they
        # name no organisation (a forger must not write into an agency's audit log).
        changes.update(
            {"kid": claims.kid, "nonce": claims.nonce, "document_id": claims.document_id}
        )
        changes["signature_verified"] = refusal.verified
    audit.record(
        session,
        "link.refused",
        "Document" if refusal.verified and claims is not None else None,
        claims.document_id if refusal.verified and claims is not None else None,
        changes,
        organisation_id=refusal.organisation_id,
    )
