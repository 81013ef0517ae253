"""The DER and the FIC: generated from their built-in templates, then sent, then signed.

Generating writes a ComplianceDocument (generated) and the Document the pipeline renders
(app/services/documents: queued, rendered by the worker with app/services/advice/context.py),
in the caller's transaction; ``enqueue`` hands it to the queue after the commit (the
sweeper picks it up if the queue is away). A DER is the client's (one before their first
contract, L521-2); a FIC is one proposal's needs statement and advice (L521-4), generated
once the questionnaire is answered and the recommendation and its reasons written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Client,
    ComplianceDocument,
    ComplianceKind,
    ComplianceStatus,
    DeliveryMethod,
    Document,
    DocumentStatus,
    Proposal,
    Template,
    TemplateVersion,
)
from app.services.advice.questionnaire import unanswered
from app.services.documents.queueing import enqueue_renders
from app.services.errors import ConflictError, InvalidRequestError, UnavailableError

BUILTIN_KEYS = {
    ComplianceKind.der: "document_entree_relation",
    ComplianceKind.fic: "fiche_information_conseil",
}


def _template(session: Session, kind: ComplianceKind) -> tuple[Template, TemplateVersion]:
    template = session.scalar(select(Template).where(Template.builtin_key == BUILTIN_KEYS[kind]))
    version = template.published_version if template is not None else None
    if template is None or version is None:
        raise UnavailableError(
            _("The built-in template of this document is missing: load the templates.")
        )
    return template, version


def _check_fic(proposal: Proposal) -> None:
    errors: dict[str, str] = {}
    missing = unanswered(proposal.answers or [])
    if missing:
        errors["answers"] = _(
            "Answer every question of the needs statement first (%(count)d left).",
            count=len(missing),
        )
    if not proposal.recommendation:
        errors["recommendation"] = _("Write the recommendation first.")
    if not proposal.reasons:
        errors["reasons"] = _("Write the reasons for the recommendation first.")
    if errors:
        raise InvalidRequestError(_("The FIC cannot be generated yet."), errors)


def generate(
    session: Session,
    user: Any,
    kind: ComplianceKind,
    *,
    client: Client | None = None,
    proposal: Proposal | None = None,
) -> ComplianceDocument:
    """Write a new DER (for ``client``) or FIC (for ``proposal``) and its queued Document."""
    if kind is ComplianceKind.fic:
        if proposal is None:
            raise InvalidRequestError(
                _("A FIC is made for a proposal."), {"proposal_id": _("Choose a proposal.")}
            )
        _check_fic(proposal)
        client_id, organisation_id = proposal.client_id, proposal.organisation_id
    else:
        if client is None:
            raise InvalidRequestError(
                _("A DER is made for a client."), {"client_id": _("Choose a client.")}
            )
        client_id, organisation_id = client.id, client.organisation_id
    template, version = _template(session, kind)
    document = Document(
        organisation_id=organisation_id,
        template_id=template.id,
        template_version_id=version.id,
        created_by_id=getattr(user, "id", None),
        format=template.output_format,
        status=DocumentStatus.queued,
        attempts=0,
        compressed=False,
        encrypted=False,
    )
    session.add(document)
    session.flush()
    row = ComplianceDocument(
        organisation_id=organisation_id,
        kind=kind,
        client_id=client_id,
        proposal_id=proposal.id if kind is ComplianceKind.fic and proposal else None,
        document_id=document.id,
        status=ComplianceStatus.generated,
    )
    session.add(row)
    session.flush()
    return row


def enqueue(session: Session, row: ComplianceDocument) -> None:
    """After the commit: hand the document to the renderer."""
    if row.document_id is not None:
        enqueue_renders(session, [row.document_id])


def _day(on: dt.date | None, today: dt.date, field: str) -> dt.date:
    on = on or today
    if on > today:
        raise InvalidRequestError(_("This date is still to come."), {field: _("A past date.")})
    return on


def mark_sent(
    row: ComplianceDocument, on: dt.date | None, by: DeliveryMethod, today: dt.date
) -> None:
    """The document went to the client (day, how)."""
    if row.status is not ComplianceStatus.generated:
        raise ConflictError(_("This document was already sent."))
    row.sent_on = _day(on, today, "on")
    row.sent_by = by
    row.status = ComplianceStatus.sent


def mark_signed(
    row: ComplianceDocument, on: dt.date | None, by: DeliveryMethod, today: dt.date
) -> None:
    """The client signed it (day, how). Signed on the spot, it was handed over that day."""
    if row.status is ComplianceStatus.signed:
        raise ConflictError(_("This document is already signed."))
    day = _day(on, today, "on")
    if row.status is ComplianceStatus.generated:
        row.sent_on, row.sent_by = day, by
    elif row.sent_on is not None and day < row.sent_on:
        raise InvalidRequestError(
            _("The client cannot sign before the document was sent."),
            {"on": _("On or after the day it was sent.")},
        )
    row.signed_on = day
    row.signed_by = by
    row.status = ComplianceStatus.signed


def signed_der(session: Session, client_id: int) -> bool:
    return (
        session.scalar(
            select(ComplianceDocument.id).where(
                ComplianceDocument.client_id == client_id,
                ComplianceDocument.kind == ComplianceKind.der,
                ComplianceDocument.status == ComplianceStatus.signed,
            )
        )
        is not None
    )


def latest(session: Session, kind: ComplianceKind, subject_id: int) -> ComplianceDocument | None:
    """The newest DER of a client, or FIC of a proposal (the one the screens act on)."""
    column = (
        ComplianceDocument.client_id
        if kind is ComplianceKind.der
        else (ComplianceDocument.proposal_id)
    )
    return session.scalar(
        select(ComplianceDocument)
        .where(ComplianceDocument.kind == kind, column == subject_id)
        .order_by(ComplianceDocument.id.desc())
        .limit(1)
    )
