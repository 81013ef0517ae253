"""A contract's life as its page shows it: terms, open cancellation grounds, renewals,
and two terms side by side.

The terms compared may belong to the contract or to the ones it replaced
(``renewal_of``, a new number, often another insurer): that is where the insurer
changes, a contract's own terms all have the same one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.models import Policy, RenewalCycle, Term
from app.services.renewals.cancellations import ENDED, rights_on
from app.services.renewals.contracts import agency_today
from app.services.renewals.cycles import change_percent
from app.services.renewals.reasons import ground_label, reason_text

PREDECESSORS_MAX = 10  # contracts replaced one after the other, followed back at most


@dataclass(frozen=True)
class OpenGround:
    """A cancellation the client may ask for today, in words."""

    ground: str
    label: str
    effective_on: dt.date | None
    basis: str
    reason: str


@dataclass(frozen=True)
class ContractLife:
    today: dt.date
    terms: list[Term]  # oldest first
    grounds: list[OpenGround]  # open today; none once the contract has ended
    cycles: list[RenewalCycle]  # newest échéance first
    ended: bool


def contract_life(session: Session, policy: Policy) -> ContractLife:
    """What the policy page shows below the contract's fields."""
    today = agency_today(session, policy.organisation_id)
    ended = policy.status in ENDED or policy.cancellation is not None
    grounds = []
    if not ended:
        grounds = [
            OpenGround(
                ground=str(result.ground),
                label=ground_label(result.ground),
                effective_on=result.effective_on,
                basis=result.basis,
                reason=reason_text(result.reason),
            )
            for result in rights_on(policy, today)
            if result.open
        ]
    cycles = sorted(policy.renewal_cycles, key=lambda cycle: cycle.echeance, reverse=True)
    return ContractLife(today, list(policy.terms), grounds, cycles, ended)


def comparable_terms(policy: Policy) -> list[Term]:
    """The contract's terms and those of the contracts it replaced, oldest first."""
    chain: list[Policy] = []
    current: Policy | None = policy
    while current is not None and current not in chain and len(chain) <= PREDECESSORS_MAX:
        # renewal_of stays within the agency (app/services/validation.py checks references).
        chain.append(current)
        current = current.renewal_of
    terms = [term for contract in reversed(chain) for term in contract.terms]
    return sorted(terms, key=lambda term: (term.start_date, term.id or 0))


@dataclass(frozen=True)
class DiffRow:
    field: str  # the column name, for the label
    before: Any
    after: Any

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class TermsDiff:
    before: Term
    after: Term
    rows: list[DiffRow]
    premium_change: Decimal | None  # percent

    @property
    def identical(self) -> bool:
        return not any(row.changed for row in self.rows)


def terms_diff(before: Term, after: Term) -> TermsDiff:
    """Two terms field by field: contract, insurer, dates, premium."""
    rows = [
        DiffRow("number", before.policy.number, after.policy.number),
        DiffRow("company", before.policy.company, after.policy.company),
        DiffRow("start_date", before.start_date, after.start_date),
        DiffRow("end_date", before.end_date, after.end_date),
        DiffRow("premium", before.premium, after.premium),
    ]
    return TermsDiff(before, after, rows, change_percent(before.premium, after.premium))


def default_pair(terms: list[Term]) -> tuple[Term, Term] | None:
    """The last two terms (the current one and the one before), if there are two."""
    if len(terms) < 2:
        return None
    return terms[-2], terms[-1]
