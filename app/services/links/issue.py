"""Issuing and revoking links: the organisation check happens here, once, at issue time.

The link itself then carries no user: whoever holds it may download until it
expires, is revoked, or (single use) has been used. Functions never commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.models import Document, DocumentStatus
from app.services import audit
from app.services.errors import ConflictError, DomainError, NotFoundError, UnavailableError
from app.services.links import clock, keys
from app.services.links.tokens import LinkClaims, sign

log = logging.getLogger(__name__)


class LinkRequestError(DomainError):
    """The caller asked for a link the rules do not allow (e.g. a lifetime out of bounds)."""

    status = 400


class LinksUnavailableError(UnavailableError):
    """The signing keys cannot be used: an operator's fix (logged), not the caller's."""


@dataclass(frozen=True)
class IssuedLink:
    token: str
    claims: LinkClaims

    @property
    def expires_at(self) -> dt.datetime:
        return self.claims.expires_at


def link_lifetime(ttl: int | None, settings: Mapping[str, Any] | None = None) -> int:
    """Seconds a new link lives: ``ttl`` within 1..LINK_TTL_MAX_SECONDS, else LinkRequestError."""
    settings = settings if settings is not None else current_app.config
    longest = int(settings["LINK_TTL_MAX_SECONDS"])
    if ttl is None:
        return min(int(settings["LINK_TTL_SECONDS"]), longest)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= longest:
        raise LinkRequestError(_("ttl must be a number of seconds from 1 to %(max)d.", max=longest))
    return ttl


def issue_link(
    session: Session,
    user: Any,
    document_id: int,
    *,
    ttl: int | None = None,
    single_use: bool = False,
) -> IssuedLink:
    """A signed link to a ready document the user may see. Audited as ``link.issued``.

    NotFoundError when the document is outside the user's organisation (or absent),
    ConflictError when it is not ready, LinkRequestError for a lifetime out of bounds,
    LinksUnavailableError when the signing keys cannot be used.
    """
    document = _visible(session, user, document_id)
    if document.status != DocumentStatus.ready or not document.storage_key:
        raise ConflictError(_("Only a ready document can be shared by a link."))
    lifetime = link_lifetime(ttl)
    try:
        key = keys.signing_key(session)
    except keys.KeyConfigError:
        log.exception("signed links cannot be issued")
        raise LinksUnavailableError(_("Signed links are not available right now.")) from None
    moment = clock.now()
    claims = LinkClaims(
        kid=key.kid,
        document_id=document.id,
        expires=clock.to_seconds(moment) + lifetime,
        issued_ms=clock.to_millis(moment),
        # Every link gets a nonce, so the audit trail can follow one link from issue
        # to download; single use is what makes the nonce count.
        nonce=secrets.token_hex(16),
        single_use=single_use,
    )
    token = sign(claims, key.secret)
    audit.record(
        session,
        "link.issued",
        "Document",
        document.id,
        {
            "kid": claims.kid,
            "nonce": claims.nonce,
            "single_use": single_use,
            "ttl": lifetime,
            "expires_at": clock.iso_utc(claims.expires_at),
        },
        organisation_id=document.organisation_id,
    )
    return IssuedLink(token, claims)


def revoke_links(session: Session, user: Any, document_id: int) -> Document:
    """Every link of the document issued until now stops working. Audited as ``link.revoked``."""
    document = _visible(session, user, document_id)
    document.links_revoked_at = clock.now()
    audit.record(
        session,
        "link.revoked",
        "Document",
        document.id,
        {"links_revoked_at": document.links_revoked_at.isoformat()},
        organisation_id=document.organisation_id,
    )
    return document


def _visible(session: Session, user: Any, document_id: int) -> Document:
    # The documents service owns the organisation scope of documents.
    from app.services.documents import visible_document

    document = visible_document(session, user, document_id)
    if document is None:
        raise NotFoundError(_("Document not found."))
    return document
