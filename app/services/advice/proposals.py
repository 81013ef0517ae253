"""Writing a proposal and its quotes, whatever door: the checks their API and screens run.

A proposal's answers follow its line's questionnaire; once its FIC is signed, the needs
statement the client signed is frozen (a new proposal states new needs). A quote moves
to_price → priced → sent → accepted | refused (priced → accepted too: a client may accept
on the spot); a proposal accepts one quote; a converted quote is no longer changed.
The caller commits.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.models import (
    ComplianceDocument,
    ComplianceKind,
    ComplianceStatus,
    Proposal,
    Quote,
    QuoteStatus,
)
from app.models.base import ModelValidationError
from app.services.advice.questionnaire import answers_for, questions_for
from app.services.errors import ConflictError

TEXT_LENGTH = 5_000
MAX_PREMIUM = Decimal("9999999999.99")
FROZEN_FIELDS = ("line_of_business", "sale_channel", "answers", "recommendation", "reasons")

QUOTE_MOVES: dict[QuoteStatus, frozenset[QuoteStatus]] = {
    QuoteStatus.to_price: frozenset({QuoteStatus.priced, QuoteStatus.refused}),
    QuoteStatus.priced: frozenset({QuoteStatus.sent, QuoteStatus.accepted, QuoteStatus.refused}),
    QuoteStatus.sent: frozenset({QuoteStatus.accepted, QuoteStatus.refused}),
    QuoteStatus.accepted: frozenset(),
    QuoteStatus.refused: frozenset(),
}


def fic_signed(session: Session, proposal_id: int | None) -> bool:
    if proposal_id is None:
        return False
    return (
        session.scalar(
            select(ComplianceDocument.id).where(
                ComplianceDocument.proposal_id == proposal_id,
                ComplianceDocument.kind == ComplianceKind.fic,
                ComplianceDocument.status == ComplianceStatus.signed,
            )
        )
        is not None
    )


def prepare_proposal(session: Session, proposal: Proposal, user_id: int | None) -> None:
    """Check a proposal being written and keep its answers in its questionnaire's shape."""
    errors: dict[str, str] = {}
    for key in ("recommendation", "reasons"):
        value = (getattr(proposal, key) or "").strip()
        if len(value) > TEXT_LENGTH:
            errors[key] = _("Enter %(count)d characters at most.", count=TEXT_LENGTH)
        setattr(proposal, key, value or None)
    if errors:
        raise ModelValidationError(errors)
    if proposal.id is not None:
        state = inspect(proposal)
        changed = any(state.attrs[name].history.has_changes() for name in FROZEN_FIELDS)
        if changed and fic_signed(session, proposal.id):
            raise ConflictError(
                _("The client signed this proposal's FIC: start a new proposal for new needs.")
            )
    else:
        proposal.created_by_id = user_id
    questions = questions_for(session, proposal.organisation_id, proposal.line_of_business)
    proposal.answers = answers_for(questions, proposal.answers)


def prepare_quote(session: Session, quote: Quote, today: dt.date) -> None:
    """Check a quote being written: its figures, its move, one accepted quote a proposal."""
    state = inspect(quote)
    if quote.id is not None and quote.policy_id is not None:
        raise ConflictError(_("This quote became a contract: it is no longer changed."))
    errors: dict[str, str] = {}
    if quote.premium is not None:
        premium = Decimal(quote.premium)
        if not premium.is_finite() or premium < 0 or premium > MAX_PREMIUM:
            errors["premium"] = _("Enter a premium from 0 to 9,999,999,999.99.")
        else:
            quote.premium = premium.quantize(Decimal("0.01"))
    status = quote.status or QuoteStatus.to_price
    if status is not QuoteStatus.to_price and status is not QuoteStatus.refused:
        if quote.premium is None:
            errors["premium"] = _("A priced quote has its premium.")
        if quote.valid_until is None:
            errors["valid_until"] = _("A priced quote says until when it is valid.")
    product = (quote.product or "").strip()
    if len(product) > 100:
        errors["product"] = _("Enter %(count)d characters at most.", count=100)
    quote.product = product or None
    if errors:
        raise ModelValidationError(errors)
    before = state.attrs.status.history.deleted
    previous = before[0] if before else None
    if quote.id is None:
        if status not in (QuoteStatus.to_price, QuoteStatus.priced):
            raise ConflictError(_("A new quote is to price or priced."))
    elif previous is not None and previous is not status and status not in QUOTE_MOVES[previous]:
        raise ConflictError(
            _(
                "A quote does not go from %(before)s to %(after)s.",
                before=previous.value,
                after=status.value,
            )
        )
    if status is QuoteStatus.accepted and (previous is not status):
        if quote.valid_until is not None and quote.valid_until < today:
            raise ConflictError(
                _("This quote expired on %(day)s.", day=quote.valid_until.isoformat())
            )
        other = session.scalar(
            select(Quote.id).where(
                Quote.proposal_id == quote.proposal_id,
                Quote.status == QuoteStatus.accepted,
                Quote.id != (quote.id or 0),
            )
        )
        if other is not None:
            raise ConflictError(_("The client already accepted another quote of this proposal."))
    quote.status = status
