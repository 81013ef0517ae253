"""Converting an accepted quote into the contract, once the advice duty is met.

The contract is created with its first term (app/services/renewals/terms.py adds it in
the same flush) from the quote's insurer, product and premium and the proposal's client
and line. It stays a draft, under a provisional number, until the insurer's policy
number is entered (``enter_policy_number``, or given at the conversion). Refused:

- while the client's DER or the proposal's FIC is not signed (409, with the missing
  items): L521-2 and L521-4 ask for both before the contract;
- for a quote not accepted, refused or expired (422), or already converted (409).

A sale at a distance or door to door starts the withdrawal window (withdrawal.py), kept
on the quote and shown on the contract. The caller commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.models import PaymentFrequency, Policy, PolicyStatus, Quote, QuoteStatus
from app.models.base import utcnow
from app.services import audit
from app.services.advice.compliance import signed_der
from app.services.advice.proposals import fic_signed
from app.services.advice.withdrawal import withdrawal_window
from app.services.errors import ConflictError, InvalidRequestError
from app.services.renewals.rules import add_months

PROVISIONAL_PREFIX = "DEVIS-"


class MissingItemsError(ConflictError):
    """The advice documents a contract needs first; ``details`` lists them for the API."""

    def __init__(self, message: str, missing: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.missing = missing
        self.details = {"missing": missing}


def missing_items(session: Session, quote: Quote) -> list[dict[str, str]]:
    """What the client must have signed before this quote becomes a contract."""
    proposal = quote.proposal
    missing = []
    if not signed_der(session, proposal.client_id):
        missing.append({"item": "der", "label": _("The client's DER is not signed.")})
    if not fic_signed(session, proposal.id):
        missing.append({"item": "fic", "label": _("The proposal's FIC is not signed.")})
    return missing


def check_convertible(quote: Quote, today: dt.date) -> None:
    """Refuse a quote that cannot become a contract, whatever the documents."""
    if quote.policy_id is not None:
        raise ConflictError(_("This quote already became a contract."))
    if quote.status is QuoteStatus.refused:
        raise InvalidRequestError(_("The client refused this quote: it cannot become a contract."))
    if quote.status is not QuoteStatus.accepted:
        raise InvalidRequestError(_("Only a quote the client accepted becomes a contract."))
    if quote.valid_until is not None and quote.valid_until < today:
        raise InvalidRequestError(
            _(
                "This quote expired on %(day)s: ask the insurer for a new one.",
                day=quote.valid_until.isoformat(),
            )
        )


def convert(
    session: Session,
    quote: Quote,
    *,
    today: dt.date,
    effective_date: dt.date | None = None,
    policy_number: str | None = None,
    payment_frequency: PaymentFrequency | None = None,
) -> Policy:
    """Create the contract of an accepted quote (see the module's docstring)."""
    check_convertible(quote, today)
    missing = missing_items(session, quote)
    if missing:
        raise MissingItemsError(
            _("The contract needs the client's signed DER and FIC first."), missing
        )
    proposal = quote.proposal
    effective = effective_date or today
    policy = Policy(
        organisation_id=quote.organisation_id,
        number=policy_number or f"{PROVISIONAL_PREFIX}{quote.id}",
        client_id=proposal.client_id,
        company_id=quote.company_id,
        line_of_business=proposal.line_of_business,
        status=PolicyStatus.active if policy_number else PolicyStatus.draft,
        effective_date=effective,
        expiry_date=add_months(effective, 12),
        premium=quote.premium,
        payment_frequency=payment_frequency or PaymentFrequency.annual,
        product=quote.product,
    )
    policy.check_invariants()
    session.add(policy)
    window = withdrawal_window(proposal.sale_channel, proposal.line_of_business, today)
    quote.policy = policy
    quote.converted_at = utcnow()
    quote.withdrawal_ends_on = window.ends_on if window else None
    session.flush()
    changes: dict[str, Any] = {"policy_id": policy.id, "proposal_id": proposal.id}
    if window:
        changes.update(withdrawal_ends_on=window.ends_on.isoformat(), article=window.article)
    audit.record(
        session,
        "quote.converted",
        "Quote",
        quote.id,
        changes,
        organisation_id=quote.organisation_id,
    )
    return policy


def enter_policy_number(quote: Quote, number: str) -> Policy:
    """The insurer's number of a converted quote's contract: the draft becomes active."""
    policy = quote.policy
    if policy is None:
        raise ConflictError(_("This quote has not become a contract yet."))
    policy.number = number
    if policy.status is PolicyStatus.draft:
        policy.status = PolicyStatus.active
    return policy
