"""A contract's terms stay in step with the policy row, whichever door writes it.

The policy row keeps the contract's first effective date and mirrors its last term:
``expiry_date`` is that term's end (the coming échéance) and ``premium`` its annual
premium, so lists, indexes, the dashboard and the documents read one row. A flush
listener keeps the two in step for every door (screens, API, import, demo, CLI):

- a new policy gets its first term (its dates and premium);
- editing a policy's dates, premium or status edits its last term to match;
- a policy whose échéance falls within its agency's lead time gets its renewal cycle
  in the same flush (app/services/renewals/cycles.py), not at the next daily run.

Renewing adds a term (``next_term``): the policy row then mirrors the new one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.models import Policy, PolicyStatus, RenewalCycle, Term, TermStatus
from app.services.renewals.rules import add_months

# Policy columns the last term mirrors.
MIRRORED = ("effective_date", "expiry_date", "premium", "status")
# How a term ends when its contract stops: the rest keep the term open.
TERM_STATUS_OF = {
    PolicyStatus.cancelled: TermStatus.cancelled,
    PolicyStatus.expired: TermStatus.lapsed,
}


def install(session_class: type[Session] = Session) -> None:
    """Listen to every flush of every session (idempotent)."""
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)
    for model in (Term, RenewalCycle):
        if not event.contains(model, "before_insert", _organisation_of_policy):
            event.listen(model, "before_insert", _organisation_of_policy)


def first_term(policy: Policy) -> Term:
    """The term a new contract starts with: its own dates and premium."""
    return Term(
        sequence=1,
        start_date=policy.effective_date,
        end_date=policy.expiry_date,
        premium=policy.premium,
        status=TERM_STATUS_OF.get(policy.status, TermStatus.open),
    )


def last_term(policy: Policy) -> Term | None:
    return policy.terms[-1] if policy.terms else None


def term_on(policy: Policy, day: dt.date) -> Term | None:
    """The term that covers ``day``, else the last one (the one the contract is in)."""
    for term in policy.terms:
        if term.covers(day):
            return term
    return last_term(policy)


def next_term(policy: Policy, premium: Decimal) -> Term:
    """Add the term that follows the last one, one year long, and make the policy mirror it."""
    previous = last_term(policy)
    if previous is None:  # a policy always has a term; defensive for rows made outside the ORM
        previous = first_term(policy)
        policy.terms.append(previous)
    term = Term(
        sequence=previous.sequence + 1,
        start_date=previous.end_date,
        end_date=add_months(previous.end_date, 12),
        premium=premium,
        status=TermStatus.open,
    )
    previous.status = TermStatus.renewed
    policy.terms.append(term)
    policy.expiry_date = term.end_date
    policy.premium = premium
    return term


# --- internals ---------------------------------------------------------------


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    from app.services.renewals.cycles import open_cycle_if_due

    touched: list[Policy] = []
    for obj in list(session.new):
        if isinstance(obj, Policy) and _complete(obj):
            if not obj.terms:
                obj.terms.append(first_term(obj))
            touched.append(obj)
    for obj in list(session.dirty):
        if isinstance(obj, Policy) and obj not in session.deleted and _changed(obj):
            _mirror(obj)
            touched.append(obj)
    for policy in touched:
        open_cycle_if_due(session, policy)


def _complete(policy: Policy) -> bool:
    # A row missing its dates or premium fails its own NOT NULL checks in this flush.
    return None not in (policy.effective_date, policy.expiry_date, policy.premium)


def _changed(policy: Policy) -> bool:
    state = inspect(policy)
    return _complete(policy) and any(state.attrs[name].history.has_changes() for name in MIRRORED)


def _mirror(policy: Policy) -> None:
    term = last_term(policy)
    if term is None:
        policy.terms.append(first_term(policy))
        return
    if term.sequence == 1:
        term.start_date = policy.effective_date
    else:
        # The contract's first day is the first term's (Hamon counts the year from it).
        policy.terms[0].start_date = policy.effective_date
    term.end_date = policy.expiry_date
    term.premium = policy.premium
    ended = TERM_STATUS_OF.get(policy.status)
    if ended is not None:
        term.status = ended
    elif term.status in TERM_STATUS_OF.values():
        term.status = TermStatus.open  # the contract was put back in force


def _organisation_of_policy(_mapper: Any, connection: Any, target: Term | RenewalCycle) -> None:
    # The policy's row is inserted before its terms and cycles: read its agency from it.
    if target.organisation_id is None:
        policy = target.policy
        target.organisation_id = policy.organisation_id
