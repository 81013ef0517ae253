"""A contract's account: its notices, the payments allocated to them, and what is owed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.models import Allocation, NoticeStatus, Payment, PaymentStatus, Policy, PremiumNotice

ZERO = Decimal("0.00")


def policy_account(session: Session, policy: Policy) -> dict[str, Any]:
    """Plain data (Decimals, dates): notices by due date, payments, allocations, balance.

    ``balance`` is what the client still owes on the contract's notices (cancelled ones
    aside); ``credit`` what their payments to it hold unallocated.
    """
    notices = list(
        session.scalars(
            select(PremiumNotice)
            .where(PremiumNotice.policy_id == policy.id)
            .order_by(PremiumNotice.due_on, PremiumNotice.id)
        )
    )
    allocations = list(
        session.scalars(
            select(Allocation)
            .options(joinedload(Allocation.payment))
            .join(PremiumNotice, PremiumNotice.id == Allocation.premium_notice_id)
            .where(PremiumNotice.policy_id == policy.id)
            .order_by(Allocation.id)
        )
    )
    payments: dict[int, Payment] = {a.payment.id: a.payment for a in allocations}
    live = [n for n in notices if n.status is not NoticeStatus.cancelled]
    credit = sum(
        (p.unallocated for p in payments.values() if p.status is PaymentStatus.received), ZERO
    )
    return {
        "policy_id": policy.id,
        "currency": policy.currency,
        "notices": [_notice(n) for n in notices],
        "payments": [_payment(p) for p in sorted(payments.values(), key=lambda p: p.id)],
        "allocations": [
            {
                "id": a.id,
                "payment_id": a.payment_id,
                "premium_notice_id": a.premium_notice_id,
                "amount": a.amount,
                "counts": a.payment.status is PaymentStatus.received,
            }
            for a in allocations
        ],
        "total_due": sum((n.total for n in live), ZERO),
        "total_paid": sum((n.paid_amount for n in live), ZERO),
        "balance": sum((n.balance for n in live), ZERO),
        "credit": credit,
    }


def _notice(notice: PremiumNotice) -> dict[str, Any]:
    return {
        "id": notice.id,
        "number": notice.number,
        "kind": notice.kind.value,
        "instalment": notice.instalment,
        "period_start": notice.period_start,
        "period_end": notice.period_end,
        "due_on": notice.due_on,
        "total": notice.total,
        "paid_amount": notice.paid_amount,
        "balance": notice.balance,
        "status": notice.status.value,
        "stage": notice.stage.value,
    }


def _payment(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "received_on": payment.received_on,
        "amount": payment.amount,
        "method": payment.method.value,
        "reference": payment.reference,
        "status": payment.status.value,
        "allocated_amount": payment.allocated_amount,
        "unallocated": payment.unallocated,
    }
