"""Recording a claim, correcting it and moving it through its statuses.

A claim is recorded on a contract of the agency; the term in force on the day of the
loss is found (app/services/renewals/terms.term_on) and a loss outside every term is
kept with ``outside_term`` set rather than refused, since brokers record them and the
insurer decides. The deadline, the late flag and the prescription date are computed
by app/services/claims/rules.py each time the dates or the nature change.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Claim, ClaimNature, ClaimStatus, CloseReason, Policy
from app.models.claim import LIABILITY_SHARES
from app.models.policy import MAX_PREMIUM
from app.services.claims import documents, rules
from app.services.errors import ConflictError, InvalidRequestError
from app.services.renewals.terms import term_on
from app.services.vocabulary import enum_label

CENT = Decimal("0.01")

# The fields a correction may change; the others are computed or moved by the statuses.
EDITABLE = (
    "nature",
    "occurred_on",
    "known_on",
    "client_declared_on",
    "insurer_declared_on",
    "insurer_claim_number",
    "circumstances",
    "place",
    "third_parties",
    "liability_share",
    "expert",
    "estimate",
    "excess",
)
TEXTS = ("insurer_claim_number", "circumstances", "place", "third_parties", "expert")

# Where a claim may go from each status. A closed claim only reopens.
TRANSITIONS: dict[ClaimStatus, frozenset[ClaimStatus]] = {
    ClaimStatus.declared: frozenset(
        {ClaimStatus.open, ClaimStatus.expertise, ClaimStatus.waiting_documents, ClaimStatus.closed}
    ),
    ClaimStatus.open: frozenset(
        {
            ClaimStatus.expertise,
            ClaimStatus.waiting_documents,
            ClaimStatus.settlement,
            ClaimStatus.closed,
        }
    ),
    ClaimStatus.expertise: frozenset(
        {ClaimStatus.waiting_documents, ClaimStatus.settlement, ClaimStatus.closed}
    ),
    ClaimStatus.waiting_documents: frozenset(
        {ClaimStatus.expertise, ClaimStatus.settlement, ClaimStatus.closed}
    ),
    ClaimStatus.settlement: frozenset(
        {ClaimStatus.expertise, ClaimStatus.waiting_documents, ClaimStatus.closed}
    ),
    ClaimStatus.closed: frozenset({ClaimStatus.reopened}),
    ClaimStatus.reopened: frozenset(
        {
            ClaimStatus.expertise,
            ClaimStatus.waiting_documents,
            ClaimStatus.settlement,
            ClaimStatus.closed,
        }
    ),
}


def delay_for(nature: ClaimNature) -> rules.Delay:
    """Which legal delay the declaration of a loss of this nature runs under."""
    if nature in (ClaimNature.theft, ClaimNature.attempted_theft):
        return rules.Delay.theft
    if nature is ClaimNature.natural_disaster:
        return rules.Delay.natural_disaster
    return rules.Delay.general


def record_claim(session: Session, policy: Policy, *, today: dt.date, **fields: Any) -> Claim:
    """Record a claim on ``policy``; refuses with nothing written on bad input."""
    values = {name: fields.get(name) for name in EDITABLE}
    if values["known_on"] is None:
        values["known_on"] = values["occurred_on"]
    claim = Claim(
        organisation_id=policy.organisation_id,
        policy=policy,
        client_id=policy.client_id,
        status=ClaimStatus.declared,
    )
    _apply(claim, values, today)
    claim.number = _next_number(session, policy.organisation_id, today.year)
    session.add(claim)
    session.add_all(documents.ask_defaults(session, claim, today))
    return claim


def update_claim(session: Session, claim: Claim, *, today: dt.date, **changes: Any) -> Claim:
    """Correct a claim's facts; a closed claim is reopened before it is changed."""
    if claim.status is ClaimStatus.closed:
        raise ConflictError(_("A closed claim cannot be changed: reopen it first."))
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidRequestError(
            _("These fields cannot be changed."), {name: _("Unknown field.") for name in unknown}
        )
    values = {name: getattr(claim, name) for name in EDITABLE}
    values.update(changes)
    _apply(claim, values, today)
    return claim


def change_status(
    claim: Claim,
    status: ClaimStatus | str,
    *,
    today: dt.date,
    reason: CloseReason | str | None = None,
) -> Claim:
    """Move a claim to ``status``; closing needs a reason, and a closed claim only reopens."""
    target = _choice(ClaimStatus, status, "status")
    if target not in TRANSITIONS[claim.status]:
        raise ConflictError(
            _(
                "A claim cannot go from %(current)s to %(target)s.",
                current=enum_label(claim.status, ClaimStatus),
                target=enum_label(target, ClaimStatus),
            )
        )
    if target is ClaimStatus.closed:
        if reason is None:
            raise InvalidRequestError(
                _("Say why the claim is closed."), {"reason": _("Choose a reason.")}
            )
        claim.close_reason = _choice(CloseReason, reason, "reason")
        claim.closed_on = today
    elif reason is not None:
        raise InvalidRequestError(
            _("A reason is given only when closing."), {"reason": _("Only when closing.")}
        )
    if target is ClaimStatus.reopened:
        claim.close_reason = None
        claim.reopened_on = today
    claim.status = target
    return claim


# --- internals ---------------------------------------------------------------


def _apply(claim: Claim, values: dict[str, Any], today: dt.date) -> None:
    """Check every field, report the errors together, then write them and the computed dates."""
    errors: dict[str, str] = {}
    nature = _field(errors, "nature", lambda: _choice(ClaimNature, values["nature"], "nature"))
    occurred_on, known_on = values["occurred_on"], values["known_on"]
    if occurred_on is None:
        errors["occurred_on"] = _("Enter the date of the loss.")
    elif occurred_on > today:
        errors["occurred_on"] = _("Enter today's date or an earlier one.")
    if known_on is not None and occurred_on is not None:
        if known_on < occurred_on:
            errors["known_on"] = _("The loss is known on or after the day it occurred.")
        elif known_on > today:
            errors["known_on"] = _("Enter today's date or an earlier one.")
    for name in ("client_declared_on", "insurer_declared_on"):
        day = values[name]
        if day is None or known_on is None:
            continue
        if day > today:
            errors[name] = _("Enter today's date or an earlier one.")
        elif occurred_on is not None and day < occurred_on:
            errors[name] = _("A declaration comes after the loss.")
    share = values["liability_share"]
    if share is not None and share not in LIABILITY_SHARES:
        errors["liability_share"] = _("Choose 0, 50 or 100.")
    amounts = {
        name: _field(errors, name, lambda name=name: _amount(values[name], name))
        for name in ("estimate", "excess")
    }
    if errors:
        raise InvalidRequestError(_("The claim has invalid fields."), errors)
    assert nature is not None and occurred_on is not None and known_on is not None
    for name in TEXTS:
        setattr(claim, name, (values[name] or "").strip() or None)
    claim.nature = nature
    claim.occurred_on = occurred_on
    claim.known_on = known_on
    claim.client_declared_on = values["client_declared_on"]
    claim.insurer_declared_on = values["insurer_declared_on"]
    claim.liability_share = share
    claim.estimate = amounts["estimate"]
    claim.excess = amounts["excess"]
    declaration = rules.declaration(known_on, claim.client_declared_on, delay_for(nature))
    claim.declaration_deadline = declaration.deadline
    claim.declared_late = declaration.late
    claim.prescription_on = rules.prescription_on(known_on)
    term = term_on(claim.policy, occurred_on)
    claim.term = term
    # Recorded all the same, flagged: the insurer decides whether the loss is covered.
    claim.outside_term = term is None or not term.covers(occurred_on)


def _field(errors: dict[str, str], name: str, parse: Any) -> Any:
    try:
        return parse()
    except InvalidRequestError as error:
        errors.update(error.errors or {name: error.message})
        return None


def _choice(kind: Any, value: Any, field: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise InvalidRequestError(
            _("Unknown value."),
            {field: _("Choose one of: %(values)s.", values=", ".join(m.value for m in kind))},
        ) from None


def _amount(value: Any, field: str) -> Decimal | None:
    """An amount of 0 or more, to the cent, or none; floats' noise is refused."""
    if value is None or value == "":
        return None
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        amount = Decimal("NaN")
    if isinstance(value, float) or not amount.is_finite() or amount < 0 or amount > MAX_PREMIUM:
        raise InvalidRequestError(
            _("Enter an amount of 0 or more."), {field: _("Enter an amount of 0 or more.")}
        )
    if amount != amount.quantize(CENT):
        raise InvalidRequestError(_("At most two decimals."), {field: _("At most two decimals.")})
    return amount.quantize(CENT)


def _next_number(session: Session, organisation_id: int, year: int) -> str:
    # Numbered per agency and year; two recorded at once collide on the unique
    # constraint and the second is refused (409), never given a duplicate.
    prefix = f"SIN-{year}-"
    count = session.scalar(
        select(func.count(Claim.id)).where(
            Claim.organisation_id == organisation_id, Claim.number.like(f"{prefix}%")
        )
    )
    return f"{prefix}{(count or 0) + 1:05d}"
