"""What the "record a payment" screen asks before the payment is written: the client's
notices left to pay, oldest due first, and how an amount would settle them."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from app.models import NoticeKind, NoticeStatus, Policy, PremiumNotice
from app.services.premiums.payments import suggest_allocations

OPEN = (NoticeStatus.issued, NoticeStatus.partly_paid, NoticeStatus.unpaid)
MAX_SHOWN = 200  # a client with more open notices pays them in several goes


def open_notices(
    session: Session, organisation_id: int | None, client_id: int
) -> list[PremiumNotice]:
    """The client's notices left to pay in the agency (refunds aside), oldest due first."""
    query = (
        select(PremiumNotice)
        .join(Policy, Policy.id == PremiumNotice.policy_id)
        .options(contains_eager(PremiumNotice.policy))
        .where(
            Policy.client_id == client_id,
            PremiumNotice.status.in_(OPEN),
            PremiumNotice.kind != NoticeKind.refund,
            PremiumNotice.total > PremiumNotice.paid_amount,
        )
        .order_by(PremiumNotice.due_on, PremiumNotice.id)
        .limit(MAX_SHOWN)
    )
    if organisation_id is not None:
        query = query.where(PremiumNotice.organisation_id == organisation_id)
    return list(session.scalars(query))


def suggested(notices: list[PremiumNotice], amount: Decimal | None) -> dict[int, Decimal]:
    """notice id -> the share of ``amount`` it would take, oldest due first."""
    if amount is None or amount <= 0:
        return {}
    return dict(suggest_allocations(notices, amount))
