"""The money of a claim: indemnities paid, refunds asked, recourses, and their totals.

Recorded while the claim is open: a closed claim is reopened first (409 otherwise), so
that what closed a file is never changed behind it. Amounts are above 0; the kind says
which way the money goes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Claim, ClaimPayment, ClaimStatus, SettlementKind
from app.services.errors import ConflictError, InvalidRequestError
from app.services.premiums.payments import money

ZERO = Decimal("0.00")
INDEMNITIES = (SettlementKind.indemnity_client, SettlementKind.indemnity_third_party)


def record_settlement(
    session: Session,
    claim: Claim,
    *,
    today: dt.date,
    kind: SettlementKind | str,
    amount: Any,
    paid_on: dt.date,
    counterparty: str | None = None,
    collected_by_broker: bool = False,
    note: str | None = None,
) -> ClaimPayment:
    """Record one payment on an open claim; nothing is written on refusal."""
    if claim.status is ClaimStatus.closed:
        raise ConflictError(_("A closed claim takes no settlement: reopen it first."))
    try:
        kind = SettlementKind(kind)
    except ValueError:
        raise InvalidRequestError(
            _("Unknown value."),
            {
                "kind": _(
                    "Choose one of: %(values)s.", values=", ".join(k.value for k in SettlementKind)
                )
            },
        ) from None
    value = money(amount, "amount")
    if paid_on > today:
        raise InvalidRequestError(
            _("Enter today's date or an earlier one."),
            {"paid_on": _("Enter today's date or an earlier one.")},
        )
    if paid_on < claim.occurred_on:
        raise InvalidRequestError(
            _("A settlement comes after the loss."),
            {"paid_on": _("A settlement comes after the loss.")},
        )
    payment = ClaimPayment(
        organisation_id=claim.organisation_id,
        claim_id=claim.id,
        kind=kind,
        amount=value,
        paid_on=paid_on,
        counterparty=(counterparty or "").strip() or None,
        collected_by_broker=bool(collected_by_broker),
        note=(note or "").strip() or None,
    )
    session.add(payment)
    return payment


def totals(session: Session, claim: Claim) -> dict[str, str]:
    """Per kind; ``indemnities`` paid, and ``net_cost``: indemnities less the insurer's recourse.

    Refund requests and the client's own recourse are shown apart: they are asked, not
    the insurer's money recovered.
    """
    rows = session.execute(
        select(ClaimPayment.kind, func.sum(ClaimPayment.amount))
        .where(ClaimPayment.claim_id == claim.id)
        .group_by(ClaimPayment.kind)
    ).all()
    sums = {kind: ZERO for kind in SettlementKind}
    for kind, total in rows:
        sums[kind] = Decimal(total).quantize(Decimal("0.01"))
    indemnities = sum((sums[k] for k in INDEMNITIES), ZERO)
    result = {kind.value: str(total) for kind, total in sums.items()}
    result["indemnities"] = str(indemnities)
    result["net_cost"] = str(indemnities - sums[SettlementKind.insurer_recourse])
    return result


def settlements_of(session: Session, claim: Claim) -> list[ClaimPayment]:
    return list(
        session.scalars(
            select(ClaimPayment)
            .where(ClaimPayment.claim_id == claim.id)
            .order_by(ClaimPayment.paid_on, ClaimPayment.id)
        )
    )
