"""A client's cancellation: the rights open on a day, and recording a request with its effect."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.models import Cancellation, Policy, PolicyStatus, RenewalStatus
from app.services.errors import ConflictError, InvalidRequestError
from app.services.renewals.contracts import facts_for
from app.services.renewals.facts import Ground, GroundResult, RuleRefusal
from app.services.renewals.reasons import reason_text
from app.services.renewals.rules import cancellation_effect, cancellation_rights

ENDED = (PolicyStatus.cancelled, PolicyStatus.expired)


def rights_on(policy: Policy, on: dt.date) -> list[GroundResult]:
    """Every ground on ``on``, open or not, for a request sent and received that day."""
    return cancellation_rights(facts_for(policy), on)


def cancel(
    session: Session,
    policy: Policy,
    *,
    ground: str,
    requested_on: dt.date,
    received_on: dt.date,
    note: str | None = None,
    situation_changed_on: dt.date | None = None,
    claim_cancellation_notified_on: dt.date | None = None,
    substitute_starts_on: dt.date | None = None,
) -> Cancellation:
    """Record the request; the contract ends on the date the law gives, or nothing changes.

    Raises InvalidRequestError with the rule's reason when the ground does not apply, and
    ConflictError when the contract has already ended or been cancelled.
    """
    try:
        ground_value = Ground(ground)
    except ValueError:
        raise InvalidRequestError(
            _("Unknown cancellation ground."),
            {"ground": _("Choose one of: %(grounds)s.", grounds=", ".join(Ground))},
        ) from None
    if policy.cancellation is not None or policy.status in ENDED:
        raise ConflictError(_("This contract has already ended or been cancelled."))
    facts = facts_for(
        policy,
        situation_changed_on=situation_changed_on,
        claim_cancellation_notified_on=claim_cancellation_notified_on,
    )
    try:
        result = cancellation_effect(
            facts,
            ground_value,
            requested_on,
            received_on,
            substitute_starts_on=substitute_starts_on,
        )
    except RuleRefusal as refusal:
        raise InvalidRequestError(
            _(
                "This cancellation is refused (%(basis)s): %(reason)s",
                basis=refusal.basis,
                reason=reason_text(refusal.reason),
            ),
            {"ground": str(refusal.reason)},
        ) from None
    effective_on = result.effective_on
    assert effective_on is not None  # an open ground always has its date
    _end_contract(policy, effective_on)
    cancellation = Cancellation(
        organisation_id=policy.organisation_id,
        ground=str(ground_value),
        requested_on=requested_on,
        received_on=received_on,
        effective_on=effective_on,
        basis=result.basis,
        reason=str(result.reason),
        note=(note or "").strip() or None,
    )
    policy.cancellation = cancellation
    session.add(cancellation)
    return cancellation


def _end_contract(policy: Policy, effective_on: dt.date) -> None:
    # Terms that would start on or after the end never take effect; the one running then
    # ends on that day. The policy row mirrors its last term (app/services/renewals/terms.py).
    for term in list(policy.terms):
        if term.start_date >= effective_on and term.sequence > 1:
            policy.terms.remove(term)
    for cycle in policy.renewal_cycles:
        if cycle.status is RenewalStatus.open:
            cycle.status = RenewalStatus.closed
        if cycle.term is not None and cycle.term not in policy.terms:
            cycle.term = None
    policy.expiry_date = effective_on
    policy.status = PolicyStatus.cancelled
