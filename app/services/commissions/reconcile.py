"""Matching a statement's lines to expected commissions: plain data in, results out.

A line is looked up by its notice reference when it gives one, else by its policy
number and the month its period starts, else by its policy number alone. Among the
candidates not taken yet, one within the tolerance is matched; otherwise the first
is taken with the result "amount differs"; no candidate leaves the line unknown. A
negative line (a claw-back) is compared with what the expectation says is owed back.
Expected commissions due in the statement's period that no line took are missing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from app.models.commission import ExpectedStatus, LineResult
from app.services.commissions.statement_file import StatementRow


@dataclass(frozen=True)
class Candidate:
    id: int
    policy_number: str
    notice_number: str
    period_start: dt.date
    amount: Decimal
    clawback_amount: Decimal | None
    status: ExpectedStatus
    due_on: dt.date | None

    def owed(self, negative: bool) -> Decimal:
        """What a line should say: the commission, or minus the share owed back."""
        if negative and self.clawback_amount is not None:
            return -self.clawback_amount
        return self.amount


@dataclass(frozen=True)
class Outcome:
    row: StatementRow | None
    result: LineResult
    candidate: Candidate | None

    @property
    def expected_amount(self) -> Decimal | None:
        if self.candidate is None:
            return None
        negative = self.row is not None and self.row.commission < 0
        return self.candidate.owed(negative)


def norm(value: str) -> str:
    return "".join(value.split()).upper()


def reconcile(
    rows: Iterable[StatementRow],
    candidates: Iterable[Candidate],
    tolerance: Decimal,
    period: tuple[dt.date, dt.date],
) -> list[Outcome]:
    by_reference: dict[str, list[Candidate]] = defaultdict(list)
    by_month: dict[tuple[str, int, int], list[Candidate]] = defaultdict(list)
    by_policy: dict[str, list[Candidate]] = defaultdict(list)
    pool = list(candidates)
    for candidate in pool:
        policy = norm(candidate.policy_number)
        by_reference[norm(candidate.notice_number)].append(candidate)
        start = candidate.period_start
        by_month[(policy, start.year, start.month)].append(candidate)
        by_policy[policy].append(candidate)
    taken: set[int] = set()
    outcomes: list[Outcome] = []
    for row in rows:
        if row.notice_reference:
            found = by_reference.get(norm(row.notice_reference), [])
        elif row.period_start is not None:
            start = row.period_start
            found = by_month.get((norm(row.policy_number), start.year, start.month), [])
        else:
            found = by_policy.get(norm(row.policy_number), [])
        free = [
            c
            for c in found
            if c.id not in taken and norm(c.policy_number) == norm(row.policy_number)
        ]
        negative = row.commission < 0
        if negative:  # a claw-back line settles what is owed back first
            free.sort(key=lambda c: c.status is not ExpectedStatus.clawed_back)
        close = next((c for c in free if abs(row.commission - c.owed(negative)) <= tolerance), None)
        if close is not None:
            taken.add(close.id)
            outcomes.append(Outcome(row, LineResult.matched, close))
        elif free:
            taken.add(free[0].id)
            outcomes.append(Outcome(row, LineResult.amount_differs, free[0]))
        else:
            outcomes.append(Outcome(row, LineResult.unknown, None))
    first, last = period
    for candidate in pool:
        if (
            candidate.id not in taken
            and candidate.status is ExpectedStatus.expected
            and candidate.due_on is not None
            and first <= candidate.due_on <= last
        ):
            outcomes.append(Outcome(None, LineResult.missing, candidate))
    return outcomes
