"""Premium notices asked by hand: a one-off premium, an amendment's adjustment, a refund.

Term instalments come from the daily run (issuing.py); these come from a person, through
``POST /api/v1/premium_notice/``. Amounts are given taxes included and positive; a refund
is stored with a negative total (money owed back to the client) and stays out of the
unpaid-premium procedure (app/services/premiums/standing.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import (
    Collection,
    NoticeKind,
    NoticeStatus,
    Policy,
    PolicyStatus,
    PremiumNotice,
    Term,
    TermStatus,
    UnpaidStage,
)
from app.services import audit
from app.services.errors import InvalidRequestError, NotFoundError
from app.services.premiums.payments import money
from app.services.premiums.standing import refresh_stage
from app.services.premiums.taxes import split_taxes
from app.services.renewals.unpaid import PAYMENT_GRACE_DAYS

ZERO = Decimal("0.00")
# Asked by hand: instalments are the daily run's (their number says their term and rank).
MANUAL_KINDS = {NoticeKind.one_off: "C", NoticeKind.adjustment: "A", NoticeKind.refund: "R"}


def scoped_policy(session: Session, organisation_id: int | None, policy_id: int) -> Policy:
    """The policy if the scope (None: every agency) holds it; NotFoundError otherwise."""
    query = select(Policy).where(Policy.id == policy_id)
    if organisation_id is not None:
        query = query.where(Policy.organisation_id == organisation_id)
    policy = session.scalar(query)
    if policy is None:
        raise NotFoundError(_("Policy not found."))
    return policy


def create_notice(
    session: Session,
    policy: Policy,
    *,
    kind: NoticeKind | str,
    due_on: dt.date,
    amount: Any,
    today: dt.date,
    fees: Any = None,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    collection: Collection | str = Collection.broker,
) -> PremiumNotice:
    """Issue one notice on ``policy``; refuses with nothing written on bad input.

    ``amount`` is the premium taxes included (> 0), ``fees`` the broker's fees on top.
    The period defaults to the term that covers the due date.
    """
    kind = NoticeKind(kind)
    if kind not in MANUAL_KINDS:
        raise InvalidRequestError(
            _("Instalments are issued from the terms by the daily run."),
            {"kind": _("Choose one of: %(values)s.", values="one_off, adjustment, refund")},
        )
    if policy.status is PolicyStatus.cancelled and kind is not NoticeKind.refund:
        raise InvalidRequestError(_("A cancelled contract can only be refunded."))
    premium = money(amount, "amount")
    extra = ZERO if fees in (None, "", 0) else money(fees, "fees")
    if kind is NoticeKind.refund and extra:
        raise InvalidRequestError(
            _("A refund carries no fees."), {"fees": _("Leave it empty for a refund.")}
        )
    term = _term_covering(session, policy.id, due_on)
    if period_start is None and period_end is None:
        if term is None:
            raise InvalidRequestError(
                _("No term of the contract covers the due date: give the period."),
                {"period_start": _("Enter the period the notice covers.")},
            )
        period_start, period_end = term.start_date, term.end_date
    if period_start is None or period_end is None or period_end <= period_start:
        raise InvalidRequestError(
            _("The period must end after it starts."),
            {"period_end": _("Enter a date after the period's start.")},
        )
    before_tax, taxes = split_taxes(premium, policy.line_of_business)
    sign = -1 if kind is NoticeKind.refund else 1
    notice = PremiumNotice(
        organisation_id=policy.organisation_id,
        policy_id=policy.id,
        term_id=term.id if term is not None else None,
        number=_next_number(session, policy, kind),
        kind=kind,
        instalment=None,
        period_start=period_start,
        period_end=period_end,
        due_on=due_on,
        pay_by=due_on + dt.timedelta(days=PAYMENT_GRACE_DAYS),
        amount_before_tax=sign * before_tax,
        taxes=sign * taxes,
        fees=extra,
        total=sign * premium + extra,
        currency=policy.currency,
        collection=Collection(collection),
        status=NoticeStatus.issued,
        paid_amount=ZERO,
        issued_on=today,
        stage=UnpaidStage.up_to_date,
    )
    notice.policy = policy
    notice.term = term
    session.add(notice)
    refresh_stage(notice, today)  # a notice issued late is unpaid (and maybe overdue) at once
    session.flush()
    audit.record(
        session,
        "premium_notice.issued",
        "PremiumNotice",
        notice.id,
        {
            "number": notice.number,
            "kind": kind.value,
            "due_on": due_on.isoformat(),
            "total": str(notice.total),
        },
        organisation_id=notice.organisation_id,
    )
    return notice


def _term_covering(session: Session, policy_id: int, day: dt.date) -> Term | None:
    return session.scalar(
        select(Term)
        .where(
            Term.policy_id == policy_id,
            Term.status != TermStatus.cancelled,
            Term.start_date <= day,
            Term.end_date > day,
        )
        .order_by(Term.sequence.desc())
        .limit(1)
    )


def _next_number(session: Session, policy: Policy, kind: NoticeKind) -> str:
    """POL-1/C01: the contract, the kind's letter, its rank among the contract's notices
    of that kind (unique in the agency: a concurrent twin fails its constraint, 422)."""
    count = session.scalar(
        select(func.count())
        .select_from(PremiumNotice)
        .where(PremiumNotice.policy_id == policy.id, PremiumNotice.kind == kind)
    )
    return f"{policy.number}/{MANUAL_KINDS[kind]}{(count or 0) + 1:02d}"
