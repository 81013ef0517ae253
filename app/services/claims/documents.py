"""The documents the insurer needs for a claim: a checklist per nature, asked and received.

Recording a claim asks for its nature's defaults at once (the list below, in the
agency's language); the broker adds others and marks each received. What is still
missing is what the claim waits on (``missing``).
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Claim, ClaimDocument, ClaimNature, ClaimStatus
from app.services.errors import ConflictError, InvalidRequestError, NotFoundError

WRITTEN_DECLARATION = _l("The client's written declaration")
PHOTOS = _l("Photos of the damage")
ESTIMATE = _l("Repair estimate or invoices")
CONSTAT = _l("Constat amiable")
POLICE_REPORT = _l("Police report (dépôt de plainte)")
# The defaults each nature asks for, after the written declaration every claim needs.
DEFAULTS: dict[ClaimNature, tuple[object, ...]] = {
    ClaimNature.water_damage: (CONSTAT, PHOTOS, ESTIMATE),
    ClaimNature.theft: (POLICE_REPORT, _l("Proof of ownership of the stolen goods")),
    ClaimNature.attempted_theft: (POLICE_REPORT, PHOTOS, ESTIMATE),
    ClaimNature.fire: (PHOTOS, ESTIMATE, _l("Fire brigade report")),
    ClaimNature.glass: (_l("Replacement invoice"),),
    ClaimNature.motor_damage: (
        CONSTAT,
        _l("Driving licence"),
        _l("Vehicle registration certificate"),
        ESTIMATE,
    ),
    ClaimNature.bodily_injury: (_l("Initial medical certificate"), _l("Medical expenses")),
    ClaimNature.liability: (_l("The third party's claim"), CONSTAT),
    ClaimNature.natural_disaster: (_l("The arrêté of catastrophe naturelle"), PHOTOS, ESTIMATE),
    ClaimNature.storm: (PHOTOS, ESTIMATE),
    ClaimNature.legal_protection: (_l("Description of the dispute and its correspondence"),),
    ClaimNature.other: (),
}
MAX_LABEL = 200


def default_labels(nature: ClaimNature) -> list[str]:
    return [str(WRITTEN_DECLARATION), *(str(label) for label in DEFAULTS[nature])]


def ask_defaults(claim: Claim, today: dt.date) -> list[ClaimDocument]:
    """The nature's checklist, asked for today (on a claim just recorded)."""
    items = [
        ClaimDocument(organisation_id=claim.organisation_id, label=label, requested_on=today)
        for label in default_labels(claim.nature)
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
