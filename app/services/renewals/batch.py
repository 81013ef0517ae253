"""Renewing many contracts at once (the Échéances screen's "Renouveler").

One transaction for the lot: each cycle the rules refuse (closed, decided against,
contract not tacitly renewed...) is left as it was and named with its reason; the
others get their next term. The caller commits. The new terms and the cycles' changes
are audited by the session (app/services/audit.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.models import RenewalCycle, Term
from app.services.errors import DomainError
from app.services.renewals.cycles import renew


@dataclass
class RenewalBatch:
    renewed: list[Term] = field(default_factory=list)
    # (contract number, why it was not renewed)
    refused: list[tuple[str, str]] = field(default_factory=list)


def renew_many(session: Session, cycles: list[RenewalCycle]) -> RenewalBatch:
    """Renew each cycle the rules allow; the refused ones change nothing."""
    result = RenewalBatch()
    for cycle in cycles:
        try:
            # renew() checks everything before it changes anything: a refusal leaves
            # this contract untouched, with no savepoint needed.
            term = renew(cycle)
        except DomainError as error:
            result.refused.append((cycle.policy.number, error.message))
            continue
        result.renewed.append(term)
    session.flush()
    return result
