"""The questions the Échéances list asks of renewal cycles, as SQL conditions and one rule.

The list filters cycles by their contract (insurer, line of business) without joining
it, so its count and pages still read the cycle table alone (app/api/interface.py):
each condition is an EXISTS on the contract. "Days before the échéance" counts from
the agency's today (the reader's), like every deadline here.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, false

from app.models import LineOfBusiness, Policy, RenewalCycle
from app.services.renewals.contracts import facts_for
from app.services.renewals.rules import chatel_applies

MAX_DAYS_AHEAD = 3660  # ten years: beyond, no échéance is planned


def insurer_is(company_id: int | None) -> ColumnElement[bool]:
    if company_id is None:
        return false()
    return RenewalCycle.policy.has(Policy.company_id == company_id)


def line_is(value: str) -> ColumnElement[bool]:
    try:
        line = LineOfBusiness(value)
    except ValueError:
        return false()  # a value no contract has: nothing matches
    return RenewalCycle.policy.has(Policy.line_of_business == line)


def avis_sent(sent: bool) -> ColumnElement[bool]:
    column = RenewalCycle.avis_sent_on
    return column.is_not(None) if sent else column.is_(None)


def due_within(days: int | None, today: dt.date) -> ColumnElement[bool]:
    """Échéances from today to ``days`` days ahead, both included."""
    if days is None or not 0 <= days <= MAX_DAYS_AHEAD:
        return false()
    until = today + dt.timedelta(days=days)
    return and_(RenewalCycle.echeance >= today, RenewalCycle.echeance <= until)


def avis_late(cycle: RenewalCycle, today: dt.date) -> bool:
    """The avis was late (a Chatel window is open or was), or the last day to refuse
    renewal has passed with no avis sent: the contract may be cancelled more freely.

    Only where the loi Chatel applies: a professional's, a company's, a life or group
    contract owes no avis by that law, so nothing is "late" for it.
    """
    if not chatel_applies(facts_for(cycle.policy, with_avis=False)):
        return False
    if cycle.chatel_window_end is not None:
        return True
    return cycle.avis_sent_on is None and cycle.last_day_to_refuse < today
