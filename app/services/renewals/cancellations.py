"""A client's cancellation: the rights open on a day, and recording a request with its effect."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Cancellation,
    NoticeStatus,
    Policy,
    PolicyStatus,
    PremiumNotice,
    RenewalStatus,
    UnpaidStage,
)
from app.services.errors import ConflictError, InvalidRequestError
from app.services.premiums.standing import OPEN
from app.services.renewals.contracts import facts_for
from app.services.renewals.facts import Ground, GroundResult, Reason, RuleRefusal
from app.services.renewals.reasons import reason_text
from app.services.renewals.rules import cancellation_effect, cancellation_rights
from app.services.renewals.unpaid import BASIS as UNPAID_BASIS

ENDED = (PolicyStatus.cancelled, PolicyStatus.expired)
# The insurer's cancellation for an unpaid premium: not a client's right (Ground), so it
# is not among the rights of a day; recorded through the same door (issue 14).
NON_PAYMENT = "non_payment"


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
    if ground != NON_PAYMENT:
        try:
            ground_value = Ground(ground)
        except ValueError:
            grounds = ", ".join([*Ground, NON_PAYMENT])
            raise InvalidRequestError(
                _("Unknown cancellation ground."),
                {"ground": _("Choose one of: %(grounds)s.", grounds=grounds)},
            ) from None
    if policy.cancellation is not None or policy.status in ENDED:
        raise ConflictError(_("This contract has already ended or been cancelled."))
    if ground == NON_PAYMENT:
        return _cancel_for_non_payment(session, policy, requested_on, received_on, note)
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


def _cancel_for_non_payment(
    session: Session,
    policy: Policy,
    requested_on: dt.date,
    received_on: dt.date,
    note: str | None,
) -> Cancellation:
    """The insurer's cancellation of L113-3 al. 3, never before a notice's cancellable date.

    It takes effect on the day it is notified (``requested_on``); the unpaid notices stay
    owed for the periods they covered, and the notices due from that day are cancelled.
    """
    if received_on < requested_on:
        raise InvalidRequestError(
            _(
                "This cancellation is refused (%(basis)s): %(reason)s",
                basis=UNPAID_BASIS,
                reason=reason_text(Reason.received_before_requested),
            ),
            {"ground": str(Reason.received_before_requested)},
        )
    unpaid = [
        notice
        for notice in session.scalars(
            select(PremiumNotice).where(
                PremiumNotice.policy_id == policy.id,
                PremiumNotice.status.in_(OPEN),
                PremiumNotice.cancellable_on.is_not(None),
            )
        )
    ]
    if not unpaid:
        raise InvalidRequestError(
            _("No unpaid premium of this contract is in formal notice."),
            {"ground": "no_formal_notice"},
        )
    first = min(notice.cancellable_on for notice in unpaid)
    if requested_on < first:
        raise InvalidRequestError(
            _(
                "This contract may be cancelled for non-payment from %(date)s (L113-3).",
                date=first.isoformat(),
            ),
            {"ground": "before_cancellable_on"},
        )
    for notice in unpaid:
        notice.stage = UnpaidStage.cancelled
    for notice in session.scalars(
        select(PremiumNotice).where(
            PremiumNotice.policy_id == policy.id,
            PremiumNotice.status.in_(OPEN),
            PremiumNotice.due_on >= requested_on,
            PremiumNotice.paid_amount == 0,
        )
    ):
        notice.status = NoticeStatus.cancelled
        notice.cancelled_on = requested_on
    _end_contract(policy, requested_on)
    cancellation = Cancellation(
        organisation_id=policy.organisation_id,
        ground=NON_PAYMENT,
        requested_on=requested_on,
        received_on=received_on,
        effective_on=requested_on,
        basis=UNPAID_BASIS,
        reason="after_formal_notice",
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
