"""The loss ratio: indemnities paid on claims over premiums issued, per insurer and per line.

Over a period: the indemnities (to the client and to third parties) paid in it, over the
premiums of the notices falling due in it (cancelled ones and drafts left out, refunds
counted, being negative). A group with claims and no premium has no ratio (None) rather
than an infinite one. Two aggregate queries per grouping, whatever the book's size.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Claim, ClaimPayment, Company, NoticeStatus, Policy, PremiumNotice
from app.services.claims.settlements import INDEMNITIES

ZERO = Decimal("0.00")
COUNTED_NOTICES = (
    NoticeStatus.issued,
    NoticeStatus.partly_paid,
    NoticeStatus.paid,
    NoticeStatus.unpaid,
)


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
    result: dict[str, Any] = {}
    for name, key, label in (
        ("by_insurer", Policy.company_id, Company.name),
        ("by_line", Policy.line_of_business, None),
    ):
        queries = (_paid_query(start, end), _premium_query(start, end))
        if company_id is not None:
            queries = tuple(
                (query.where(Policy.company_id == company_id), column) for query, column in queries
            )
        paid = _sums(session, organisation_id, key, label, queries[0])
        premiums = _sums(session, organisation_id, key, label, queries[1])
        rows = []
        for group in sorted(set(paid) | set(premiums), key=lambda g: str(g[1])):
            rows.append(_row(group, paid.get(group, ZERO), premiums.get(group, ZERO)))
        result[name] = rows
    paid_total = sum((Decimal(r["paid"]) for r in result["by_line"]), ZERO)
    premium_total = sum((Decimal(r["premiums"]) for r in result["by_line"]), ZERO)
    result["total"] = _row((None, None), paid_total, premium_total)
    return result


def _paid_query(start: dt.date, end: dt.date) -> Any:
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


def _premium_query(start: dt.date, end: dt.date) -> Any:
    return (
        select(func.sum(PremiumNotice.total))
        .join(Policy, Policy.id == PremiumNotice.policy_id)
        .where(
            PremiumNotice.status.in_(COUNTED_NOTICES),
            PremiumNotice.due_on >= start,
            PremiumNotice.due_on <= end,
        )
    ), PremiumNotice.organisation_id


def _sums(
    session: Session, organisation_id: int | None, key: Any, label: Any, query: Any
) -> dict[tuple[Any, Any], Decimal]:
    base, organisation_column = query
    columns = [key, label if label is not None else key]
    statement = base.add_columns(*columns).group_by(*columns)
    if label is not None:
        statement = statement.join(Company, Company.id == Policy.company_id)
    if organisation_id is not None:
        statement = statement.where(organisation_column == organisation_id)
    sums: dict[tuple[Any, Any], Decimal] = {}
    for total, group_key, group_label in session.execute(statement):
        value = getattr(group_key, "value", group_key)
        sums[(value, getattr(group_label, "value", group_label))] = Decimal(total or 0).quantize(
            Decimal("0.01")
        )
    return sums


def _row(group: tuple[Any, Any], paid: Decimal, premiums: Decimal) -> dict[str, Any]:
    ratio = (paid / premiums * 100).quantize(Decimal("0.1")) if premiums > 0 else None
    return {
        "key": group[0],
        "name": group[1],
        "paid": str(paid),
        "premiums": str(premiums),
        "ratio_percent": str(ratio) if ratio is not None else None,
    }
