"""A client's cancellation as the doors ask for it: scoped to the caller's agency.

The rights of a visible contract on a day, recording a request (the rules and the
contract's end are app/services/renewals/cancellations.py's), reading the recorded
ones back, and the acknowledgement letter as a document of the built-in template.
Another agency's contract or cancellation answers NotFoundError, like an unknown one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.models import Cancellation, Document, Policy, Template
from app.services.commissions import expected
from app.services.documents.queries import valid_id
from app.services.documents.requests import request_document
from app.services.errors import InvalidRequestError, NotFoundError
from app.services.renewals.cancellations import ENDED, cancel, rights_on
from app.services.renewals.contracts import agency_today
from app.services.renewals.facts import BASIS, Ground, GroundResult, Reason
from app.services.scope import visible_organisation_id

LETTER_BUILTIN_KEY = "lettre_resiliation"
# Dates a request may name: month arithmetic on year 9999 would overflow, and no
# cancellation of a running contract is dated outside these.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)


def check_day(day: dt.date, field: str) -> dt.date:
    """``day`` if a request may name it; InvalidRequestError on ``field`` otherwise."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidRequestError(
            _("A date must be between %(first)s and %(last)s.", first=FIRST_DAY, last=LAST_DAY),
            {field: _("Between %(first)s and %(last)s.", first=FIRST_DAY, last=LAST_DAY)},
        )
    return day


def visible_policy(session: Session, user: Any, policy_id: Any, *, lock: bool = False) -> Policy:
    """The policy with this id if ``user`` may see it; NotFoundError otherwise (same answer)."""
    if not valid_id(policy_id):
        raise NotFoundError(_("Policy not found."))
    query = select(Policy).where(Policy.id == policy_id)
    scope = visible_organisation_id(user)
    if scope is not None:
        query = query.where(Policy.organisation_id == scope)
    if lock:
        # Two requests for one contract: the second waits, then finds it cancelled (409).
        query = query.with_for_update()
    policy = session.scalar(query)
    if policy is None:
        raise NotFoundError(_("Policy not found."))
    return policy


def rights(
    session: Session, user: Any, policy_id: Any, on: dt.date | None = None
) -> tuple[dt.date, list[GroundResult]]:
    """The day asked (the agency's today by default) and every ground on it, open or not.

    A contract already cancelled or ended has no right left: every ground is closed
    with ``contract_ended`` rather than computed from facts that no longer apply.
    """
    policy = visible_policy(session, user, policy_id)
    day = check_day(on, "on") if on else agency_today(session, policy.organisation_id)
    if policy.cancellation is not None or policy.status in ENDED:
        closed = [
            GroundResult(ground, False, None, BASIS[ground], Reason.contract_ended)
            for ground in Ground
        ]
        return day, closed
    return day, rights_on(policy, day)


def record(
    session: Session,
    user: Any,
    *,
    policy_id: Any,
    ground: str,
    requested_on: dt.date,
    received_on: dt.date,
    note: str | None = None,
    situation_changed_on: dt.date | None = None,
    claim_cancellation_notified_on: dt.date | None = None,
    substitute_starts_on: dt.date | None = None,
) -> Cancellation:
    """Record the client's request on a visible contract; the caller commits.

    The contract ends on the date the law gives and its open renewal closes
    (cancellations.cancel); the audit trail records the cancellation, the policy's new
    end and the cycle's closing with the change itself. A refusal changes nothing.
    """
    dates = {
        "requested_on": requested_on,
        "received_on": received_on,
        "situation_changed_on": situation_changed_on,
        "claim_cancellation_notified_on": claim_cancellation_notified_on,
        "substitute_starts_on": substitute_starts_on,
    }
    for field, day in dates.items():
        if day is not None:
            check_day(day, field)
    policy = visible_policy(session, user, policy_id, lock=True)
    cancellation = cancel(
        session,
        policy,
        ground=ground,
        requested_on=requested_on,
        received_on=received_on,
        note=note,
        situation_changed_on=situation_changed_on,
        claim_cancellation_notified_on=claim_cancellation_notified_on,
        substitute_starts_on=substitute_starts_on,
    )
    session.flush()
    # Its cancelled notices lose their commission; an early end claws part of it back.
    expected.refresh(session, policy.organisation_id, policy_ids=[policy.id])
    return cancellation


def cancellations_query(user: Any) -> Select[tuple[Cancellation]]:
    """The cancellations ``user`` may see."""
    query = select(Cancellation)
    scope = visible_organisation_id(user)
    if scope is not None:
        query = query.where(Cancellation.organisation_id == scope)
    return query


def visible_cancellation(session: Session, user: Any, cancellation_id: Any) -> Cancellation:
    """The cancellation with this id if ``user`` may see it; NotFoundError otherwise."""
    found = None
    if valid_id(cancellation_id):
        query = cancellations_query(user).where(Cancellation.id == cancellation_id)
        found = session.scalar(query)
    if found is None:
        raise NotFoundError(_("Cancellation not found."))
    return found


def letter_template_id(session: Session) -> int:
    """The built-in acknowledgement letter (shared by every agency)."""
    template_id = session.scalar(
        select(Template.id).where(Template.builtin_key == LETTER_BUILTIN_KEY)
    )
    if template_id is None:
        raise InvalidRequestError(_("The built-in cancellation letter template is missing."))
    return template_id


def request_letter(
    session: Session, user: Any, cancellation_id: Any, *, template_id: int | None = None
) -> Document:
    """Queue the acknowledgement letter of a visible cancellation and link it to it.

    ``template_id`` (one the user may use) replaces the built-in letter, e.g. an
    agency's own wording; the document is the documents service's, rendered on the queue.
    """
    cancellation = visible_cancellation(session, user, cancellation_id)
    cancellation_id, policy_id = cancellation.id, cancellation.policy_id
    document = request_document(
        session,
        user,
        template_id=template_id or letter_template_id(session),
        policy_id=policy_id,
    )  # committed
    cancellation = session.get(Cancellation, cancellation_id)
    cancellation.letter_document_id = document.id
    session.commit()
    return document
