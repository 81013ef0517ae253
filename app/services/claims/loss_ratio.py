"""The loss ratio: indemnities paid on claims over premiums issued, per insurer and per line.

Over a period: the indemnities (to the client and to third parties) paid in it, over the
premiums of the notices falling due in it (cancelled ones and drafts left out, refunds
counted, being negative). A group with claims and no premium has no ratio (None) rather
than an infinite one.

One aggregate query per side (paid, premiums), whatever the book's size: each sums per
(insurer, line), the finest grain both groupings share, and the per-insurer and per-line
rows are added up here from those few cells (insurers × lines). The same figures as one
query per grouping, read from one pass over the rows instead of two (docs/benchmarks.md,
"Claims"); plain GROUP BY, so SQLite and PostgreSQL run the same statement.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.models import Claim, ClaimPayment, Company, NoticeStatus, Policy, PremiumNotice
from app.services.claims.settlements import INDEMNITIES

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
COUNTED_NOTICES = (
    NoticeStatus.issued,
    NoticeStatus.partly_paid,
    NoticeStatus.paid,
    NoticeStatus.unpaid,
)

# (insurer id, insurer name, line) -> the sum of that cell, unrounded.
Cells = dict[tuple[int, str, str], Decimal]


def loss_ratio(
    session: Session,
    organisation_id: int | None,
    start: dt.date,
    end: dt.date,
    company_id: int | None = None,
) -> dict[str, Any]:
    """``by_insurer`` and ``by_line`` rows, and the agency's ``total``; dates inclusive.

    ``company_id``: one insurer's contracts only (the dashboard's insurer filter).
    """
    paid = _cells(session, _paid_query(start, end), organisation_id, company_id)
    premiums = _cells(session, _premium_query(start, end), organisation_id, company_id)
    result: dict[str, Any] = {
        "by_insurer": _rows(_rolled_up(paid, by_insurer=True), _rolled_up(premiums, True)),
        "by_line": _rows(_rolled_up(paid, by_insurer=False), _rolled_up(premiums, False)),
    }
    paid_total = sum((Decimal(r["paid"]) for r in result["by_line"]), ZERO)
    premium_total = sum((Decimal(r["premiums"]) for r in result["by_line"]), ZERO)
    result["total"] = _row((None, None), paid_total, premium_total)
    return result


def _paid_query(start: dt.date, end: dt.date) -> tuple[Select[Any], Any]:
    return (
        select(func.sum(ClaimPayment.amount))
        .join(Claim, Claim.id == ClaimPayment.claim_id)
        .join(Policy, Policy.id == Claim.policy_id)
        .where(
            ClaimPayment.kind.in_(INDEMNITIES),
            ClaimPayment.paid_on >= start,
            ClaimPayment.paid_on <= end,
        )
    ), ClaimPayment.organisation_id


def _premium_query(start: dt.date, end: dt.date) -> tuple[Select[Any], Any]:
    return (
        select(func.sum(PremiumNotice.total))
        .join(Policy, Policy.id == PremiumNotice.policy_id)
        .where(
            PremiumNotice.status.in_(COUNTED_NOTICES),
            PremiumNotice.due_on >= start,
            PremiumNotice.due_on <= end,
        )
    ), PremiumNotice.organisation_id


def _cells(
    session: Session,
    query: tuple[Select[Any], Any],
    organisation_id: int | None,
    company_id: int | None,
) -> Cells:
    """One statement: the sums per (insurer, line) of ``query``'s rows in scope."""
    base, organisation_column = query
    columns = [Policy.company_id, Company.name, Policy.line_of_business]
    statement = (
        base.add_columns(*columns).join(Company, Company.id == Policy.company_id).group_by(*columns)
    )
    if organisation_id is not None:
        statement = statement.where(organisation_column == organisation_id)
    if company_id is not None:
        statement = statement.where(Policy.company_id == company_id)
    return {
        (insurer, name, getattr(line, "value", line)): Decimal(total or 0)
        for total, insurer, name, line in session.execute(statement)
    }


def _rolled_up(cells: Cells, by_insurer: bool) -> dict[tuple[Any, Any], Decimal]:
    """Per insurer ((id, name)) or per line ((line, line)), rounded to the cent once summed."""
    sums: dict[tuple[Any, Any], Decimal] = defaultdict(Decimal)
    for (insurer, name, line), total in cells.items():
        sums[(insurer, name) if by_insurer else (line, line)] += total
    return {group: total.quantize(CENT) for group, total in sums.items()}


def _rows(
    paid: dict[tuple[Any, Any], Decimal], premiums: dict[tuple[Any, Any], Decimal]
) -> list[dict[str, Any]]:
    groups = sorted(set(paid) | set(premiums), key=lambda g: (str(g[1]), str(g[0])))
    return [_row(group, paid.get(group, ZERO), premiums.get(group, ZERO)) for group in groups]


def _row(group: tuple[Any, Any], paid: Decimal, premiums: Decimal) -> dict[str, Any]:
    ratio = (paid / premiums * 100).quantize(Decimal("0.1")) if premiums > 0 else None
    return {
        "key": group[0],
        "name": group[1],
        "paid": str(paid),
        "premiums": str(premiums),
        "ratio_percent": str(ratio) if ratio is not None else None,
    }
