"""Recording payments, allocating them to premium notices and rejecting them.

A payment is allocated to one or more notices of its agency (a cheque can pay three);
what is not allocated stays on the payment as the client's credit. A notice's
``paid_amount`` is the sum of the allocations of payments still received, kept here
with them; a rejected payment (a returned debit or cheque) re-opens what it paid.
Paying a suspended notice in full restores the cover at noon the next day (L113-3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from app.models import (
    Allocation,
    Client,
    NoticeKind,
    NoticeStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    PremiumNotice,
    UnpaidStage,
)
from app.models.policy import MAX_PREMIUM
from app.services.commissions.remittances import ensure_payment_not_frozen
from app.services.errors import ConflictError, InvalidRequestError, NotFoundError
from app.services.premiums.standing import refresh_stage, settle

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Any, field: str) -> Decimal:
    """A positive amount to the cent, from a Decimal or its string; refuses floats' noise."""
    try:
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        amount = Decimal("NaN")
    if isinstance(value, float) or not amount.is_finite() or amount <= 0 or amount > MAX_PREMIUM:
        raise InvalidRequestError(
            _("Enter an amount above 0, to the cent."), {field: _("Enter an amount above 0.")}
        )
    if amount != amount.quantize(CENT):
        raise InvalidRequestError(
            _("Enter an amount above 0, to the cent."), {field: _("At most two decimals.")}
        )
    return amount.quantize(CENT)


def record_payment(
    session: Session,
    organisation_id: int,
    *,
    amount: Any,
    received_on: dt.date,
    method: PaymentMethod | str,
    today: dt.date,
    allocations: Iterable[tuple[int, Any]] = (),
    reference: str | None = None,
    payer: str | None = None,
    client_id: int | None = None,
) -> Payment:
    """Record money received and allocate it; refuses with nothing written on bad input."""
    total = money(amount, "amount")
    if received_on > today:
        raise InvalidRequestError(
            _("A payment cannot be received in the future."),
            {"received_on": _("Enter today's date or an earlier one.")},
        )
    try:
        method = PaymentMethod(method)
    except ValueError:
        raise InvalidRequestError(
            _("Unknown payment method."),
            {
                "method": _(
                    "Choose one of: %(values)s.", values=", ".join(m.value for m in PaymentMethod)
                )
            },
        ) from None
    if client_id is not None and not session.scalar(
        select(Client.id).where(Client.id == client_id, Client.organisation_id == organisation_id)
    ):
        raise NotFoundError(_("Client not found."))
    payment = Payment(
        organisation_id=organisation_id,
        amount=total,
        received_on=received_on,
        method=method,
        reference=(reference or "").strip() or None,
        payer=(payer or "").strip() or None,
        client_id=client_id,
        status=PaymentStatus.received,
        allocated_amount=ZERO,
    )
    session.add(payment)
    made = allocate(session, payment, allocations, today=today)
    if payment.client_id is None and made:
        # Who paid, when not said: the client of the first contract it pays.
        payment.client_id = made[0].premium_notice.policy.client_id
    return payment


def allocate(
    session: Session, payment: Payment, allocations: Iterable[tuple[int, Any]], *, today: dt.date
) -> list[Allocation]:
    """Allocate more of a received payment to notices of its agency."""
    if payment.status is not PaymentStatus.received:
        raise ConflictError(_("A rejected payment cannot be allocated."))
    if payment.id is not None:  # a bordereau sent to the insurer counted this payment
        ensure_payment_not_frozen(session, [a.premium_notice_id for a in payment.allocations])
    wanted = [(notice_id, money(value, "allocations")) for notice_id, value in allocations]
    ids = [notice_id for notice_id, _amount in wanted]
    if len(set(ids)) != len(ids):
        raise InvalidRequestError(
            _("Allocate to each notice once."), {"allocations": _("A notice appears twice.")}
        )
    notices = _notices(session, payment.organisation_id, ids)
    already = {a.premium_notice_id for a in payment.allocations}
    added = sum((amount for _id, amount in wanted), ZERO)
    if added > payment.unallocated:
        raise InvalidRequestError(
            _("The allocations exceed the payment."),
            {"allocations": _("At most %(amount)s left to allocate.", amount=payment.unallocated)},
        )
    made = []
    for notice_id, value in wanted:
        notice = notices[notice_id]
        _check_payable(notice, value, notice_id in already)
        made.append(
            Allocation(organisation_id=payment.organisation_id, premium_notice=notice, amount=value)
        )
    for allocation in made:
        payment.allocations.append(allocation)
        notice = allocation.premium_notice
        notice.paid_amount = notice.paid_amount + allocation.amount
        settle(notice, today, paid_on=payment.received_on)
    payment.allocated_amount = payment.allocated_amount + added
    return made


def reject_payment(
    payment: Payment, *, rejected_on: dt.date, reason: str | None, today: dt.date
) -> Payment:
    """A returned debit or cheque: the payment no longer counts and its notices re-open."""
    if payment.status is PaymentStatus.rejected:
        raise ConflictError(_("This payment is already rejected."))
    session = object_session(payment)
    if session is not None:  # a bordereau sent to the insurer counted this payment
        ensure_payment_not_frozen(session, [a.premium_notice_id for a in payment.allocations])
    if rejected_on < payment.received_on or rejected_on > today:
        raise InvalidRequestError(
            _("A payment is rejected on or after the day it was received, and not in the future."),
            {"rejected_on": _("Enter a date between the receipt and today.")},
        )
    payment.status = PaymentStatus.rejected
    payment.rejected_on = rejected_on
    payment.rejection_reason = (reason or "").strip()[:10] or None
    for allocation in payment.allocations:
        notice = allocation.premium_notice
        notice.paid_amount = notice.paid_amount - allocation.amount
        notice.restored_at = None
        if notice.stage is UnpaidStage.restored:
            notice.stage = UnpaidStage.up_to_date  # recomputed from the dates just below
        settle(notice, today)  # paid → unpaid, partly paid or issued again
        refresh_stage(notice, today)
    return payment


def suggest_allocations(
    notices: Iterable[PremiumNotice], amount: Decimal
) -> list[tuple[int, Decimal]]:
    """Oldest due first, each notice's balance until the amount runs out."""
    left = Decimal(amount)
    suggestions = []
    for notice in sorted(notices, key=lambda n: (n.due_on, n.id)):
        if left <= 0:
            break
        if notice.status is NoticeStatus.cancelled or notice.balance <= 0:
            continue
        share = min(left, notice.balance)
        suggestions.append((notice.id, share))
        left -= share
    return suggestions


def _notices(session: Session, organisation_id: int, ids: list[int]) -> dict[int, PremiumNotice]:
    if not ids:
        return {}
    found = {
        notice.id: notice
        for notice in session.scalars(
            select(PremiumNotice).where(
                PremiumNotice.id.in_(ids), PremiumNotice.organisation_id == organisation_id
            )
        )
    }
    if len(found) != len(ids):
        raise NotFoundError(_("Premium notice not found."))
    return found


def _check_payable(notice: PremiumNotice, amount: Decimal, already: bool) -> None:
    if notice.status is NoticeStatus.cancelled:
        raise InvalidRequestError(
            _("A cancelled notice cannot be paid."), {"allocations": notice.number}
        )
    if notice.kind is NoticeKind.refund:
        raise InvalidRequestError(
            _("A refund is paid out to the client, not allocated a payment."),
            {"allocations": notice.number},
        )
    if already:
        raise InvalidRequestError(
            _("This payment is already allocated to that notice."), {"allocations": notice.number}
        )
    if amount > notice.balance:
        raise InvalidRequestError(
            _(
                "An allocation exceeds what is left to pay on %(number)s (%(balance)s).",
                number=notice.number,
                balance=notice.balance,
            ),
            {"allocations": notice.number},
        )
