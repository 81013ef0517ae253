"""The documents the insurer needs for a claim: a checklist, asked and received.

Recording a claim asks at once for what its agency's checklists say for its nature and
its contract's line (app/services/claims/checklist.py, in the recording user's language);
the broker adds others and marks each received. What is still missing is what the
claim waits on (``missing``).
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Claim, ClaimDocument, ClaimStatus
from app.services.claims import checklist as expected
from app.services.errors import ConflictError, InvalidRequestError, NotFoundError

MAX_LABEL = 200


def ask_defaults(session: Session, claim: Claim, today: dt.date) -> list[ClaimDocument]:
    """The claim's checklist (its agency's for its nature and line, else the shipped
    defaults: app/services/claims/checklist.py), asked for today on a claim just recorded."""
    line = claim.policy.line_of_business if claim.policy is not None else None
    labels = expected.labels_for(session, claim.organisation_id, claim.nature, line)
    items = [
        ClaimDocument(organisation_id=claim.organisation_id, label=label, requested_on=today)
        for label in labels
    ]
    for item in items:
        item.claim = claim
    return items


def checklist(session: Session, claim: Claim) -> list[ClaimDocument]:
    return list(
        session.scalars(
            select(ClaimDocument)
            .where(ClaimDocument.claim_id == claim.id)
            .order_by(ClaimDocument.id)
        )
    )


def missing(session: Session, claim: Claim) -> list[ClaimDocument]:
    return [item for item in checklist(session, claim) if item.received_on is None]


def ask(session: Session, claim: Claim, label: str, today: dt.date) -> ClaimDocument:
    """Add a document to the checklist, asked for today."""
    _open(claim)
    text = " ".join((label or "").split())
    if not text or len(text) > MAX_LABEL:
        raise InvalidRequestError(
            _("Name the document."), {"label": _("Between 1 and 200 characters.")}
        )
    if text in {item.label for item in checklist(session, claim)}:
        raise ConflictError(_("This document is already on the list."))
    item = ClaimDocument(
        organisation_id=claim.organisation_id, claim_id=claim.id, label=text, requested_on=today
    )
    session.add(item)
    return item


def receive(
    session: Session, claim: Claim, item_id: int, received_on: dt.date, today: dt.date
) -> ClaimDocument:
    """Mark a document of the checklist received on a day (not to come)."""
    _open(claim)
    item = session.scalar(
        select(ClaimDocument).where(ClaimDocument.id == item_id, ClaimDocument.claim_id == claim.id)
    )
    if item is None:
        raise NotFoundError(_("Not found."))
    if received_on > today:
        raise InvalidRequestError(
            _("Enter today's date or an earlier one."),
            {"received_on": _("Enter today's date or an earlier one.")},
        )
    item.received_on = received_on
    return item


def _open(claim: Claim) -> None:
    if claim.status is ClaimStatus.closed:
        raise ConflictError(_("A closed claim cannot be changed: reopen it first."))
