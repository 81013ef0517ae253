"""The loss ratio as it was before one query per side: four aggregates (indemnities paid and
premiums due, each grouped per insurer, then per line). Kept only as bench/claims.py's
in-run reference, so that the gain is measured at the same load and the figures compared."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.models import Company, Policy
from app.services.claims.loss_ratio import ZERO, _paid_query, _premium_query, _row


def loss_ratio_four_queries(
    session: Session, organisation_id: int | None, start: dt.date, end: dt.date
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, key, label in (
        ("by_insurer", Policy.company_id, Company.name),
        ("by_line", Policy.line_of_business, None),
    ):
        paid = _sums(session, organisation_id, key, label, _paid_query(start, end))
        premiums = _sums(session, organisation_id, key, label, _premium_query(start, end))
        groups = sorted(set(paid) | set(premiums), key=lambda g: (str(g[1]), str(g[0])))
        result[name] = [_row(g, paid.get(g, ZERO), premiums.get(g, ZERO)) for g in groups]
    paid_total = sum((Decimal(r["paid"]) for r in result["by_line"]), ZERO)
    premium_total = sum((Decimal(r["premiums"]) for r in result["by_line"]), ZERO)
    result["total"] = _row((None, None), paid_total, premium_total)
    return result


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
