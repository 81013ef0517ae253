"""Remittance bordereaux (encaissement confié): what the agency collected for an insurer.

A bordereau lists the insurer's notices collected by the broker and paid in full, by the
day of their last payment within the period, each with the commission the agency keeps;
the net is transferred to the insurer by a SEPA credit transfer (pain.001). It is drafted,
issued (its notices and their payments are frozen from then on: a payment of a frozen
notice is neither rejected nor allocated further, its notice not cancelled) and marked
paid. The caller commits.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import (
    Allocation,
    Collection,
    Company,
    ExpectedCommission,
    ExpectedStatus,
    NoticeStatus,
    Organisation,
    Payment,
    PaymentStatus,
    Policy,
    PremiumNotice,
    Remittance,
    RemittanceLine,
    RemittanceStatus,
)
from app.services import audit
from app.services.errors import ConflictError, InvalidRequestError, NotFoundError

ZERO = Decimal("0.00")
MAX_PERIOD_DAYS = 366
PAIN_001 = "pain.001.001.03"
LIVE = (
    ExpectedStatus.expected,
    ExpectedStatus.received,
    ExpectedStatus.differs,
    ExpectedStatus.clawed_back,
)
FROZEN = (RemittanceStatus.issued, RemittanceStatus.paid)


def create(
    session: Session,
    organisation_id: int,
    *,
    company_id: int,
    period_from: dt.date,
    period_to: dt.date,
) -> Remittance:
    """Draft the bordereau of a period; 422 when nothing was collected in it."""
    company = session.get(Company, company_id)
    if company is None or company.organisation_id != organisation_id:
        raise NotFoundError(_("Unknown insurer."))
    if period_to < period_from or (period_to - period_from).days > MAX_PERIOD_DAYS:
        message = _("Enter a period of at most a year, its end on or after its start.")
        raise InvalidRequestError(message, {"period_to": message})
    paid_on = (
        select(Allocation.premium_notice_id, func.max(Payment.received_on).label("paid_on"))
        .join(Payment, Payment.id == Allocation.payment_id)
        .where(
            Allocation.organisation_id == organisation_id,
            Payment.status == PaymentStatus.received,
        )
        .group_by(Allocation.premium_notice_id)
        .subquery()
    )
    commission = (
        select(
            ExpectedCommission.premium_notice_id,
            func.sum(ExpectedCommission.amount).label("amount"),
        )
        .where(
            ExpectedCommission.organisation_id == organisation_id,
            ExpectedCommission.status.in_(LIVE),
        )
        .group_by(ExpectedCommission.premium_notice_id)
        .subquery()
    )
    remitted = select(RemittanceLine.premium_notice_id)
    rows = session.execute(
        select(PremiumNotice.id, PremiumNotice.total, paid_on.c.paid_on, commission.c.amount)
        .join(Policy, Policy.id == PremiumNotice.policy_id)
        .join(paid_on, paid_on.c.premium_notice_id == PremiumNotice.id)
        .outerjoin(commission, commission.c.premium_notice_id == PremiumNotice.id)
        .where(
            PremiumNotice.organisation_id == organisation_id,
            Policy.company_id == company.id,
            PremiumNotice.collection == Collection.broker,
            PremiumNotice.status == NoticeStatus.paid,
            paid_on.c.paid_on.between(period_from, period_to),
            PremiumNotice.id.not_in(remitted),
        )
        .order_by(paid_on.c.paid_on, PremiumNotice.id)
    ).all()
    if not rows:
        raise InvalidRequestError(
            _("Nothing was collected for this insurer in this period (or it is already remitted)."),
            {"period_from": _("No premium collected in this period.")},
        )
    remittance = Remittance(
        organisation_id=organisation_id,
        company_id=company.id,
        number="-",
        period_from=period_from,
        period_to=period_to,
        status=RemittanceStatus.draft,
        premiums_collected=ZERO,
        commission_retained=ZERO,
        net_amount=ZERO,
    )
    for notice_id, total, day, amount in rows:
        remittance.lines.append(
            RemittanceLine(
                organisation_id=organisation_id,
                premium_notice_id=notice_id,
                paid_on=day,
                collected=total,
                commission=Decimal(amount or ZERO).quantize(Decimal("0.01")),
            )
        )
    remittance.premiums_collected = sum((line.collected for line in remittance.lines), ZERO)
    remittance.commission_retained = sum((line.commission for line in remittance.lines), ZERO)
    remittance.net_amount = remittance.premiums_collected - remittance.commission_retained
    session.add(remittance)
    session.flush()
    code = "".join(ch for ch in company.code if ch.isalnum())[:12] or "A"
    remittance.number = f"BE-{code}-{period_to:%Y%m}-{remittance.id}"
    _audit(session, remittance, "remittance.drafted")
    return remittance


def issue(session: Session, remittance: Remittance, today: dt.date) -> Remittance:
    if remittance.status is not RemittanceStatus.draft:
        raise ConflictError(_("Only a draft bordereau can be issued."))
    remittance.status = RemittanceStatus.issued
    remittance.issued_on = today
    _audit(session, remittance, "remittance.issued")
    return remittance


def mark_paid(
    session: Session, remittance: Remittance, paid_on: dt.date, today: dt.date
) -> Remittance:
    if remittance.status is not RemittanceStatus.issued:
        raise ConflictError(_("Only an issued bordereau can be marked paid."))
    if paid_on > today or (remittance.issued_on and paid_on < remittance.issued_on):
        message = _("Enter a day between the issue and today.")
        raise InvalidRequestError(message, {"paid_on": message})
    remittance.status = RemittanceStatus.paid
    remittance.paid_on = paid_on
    _audit(session, remittance, "remittance.paid")
    return remittance


def visible(session: Session, organisation_id: int | None, remittance_id: int) -> Remittance:
    remittance = session.get(Remittance, remittance_id)
    if remittance is None or (
        organisation_id is not None and remittance.organisation_id != organisation_id
    ):
        raise NotFoundError(_("Unknown bordereau."))
    return remittance


def ensure_not_frozen(session: Session, notice_ids: list[int]) -> None:
    """Refuse (409) a change to notices an issued bordereau has sent to their insurer."""
    number = frozen_by(session, notice_ids)
    if number is not None:
        raise ConflictError(
            _(
                "Bordereau %(number)s sent this notice to its insurer: it can no longer change.",
                number=number,
            )
        )


def ensure_payment_not_frozen(session: Session, notice_ids: list[int]) -> None:
    """Refuse (409) a change to a payment that paid notices an issued bordereau sent."""
    number = frozen_by(session, notice_ids)
    if number is not None:
        raise ConflictError(
            _(
                "Bordereau %(number)s sent what this payment paid to its insurer: "
                "the payment can no longer change.",
                number=number,
            )
        )


def frozen_by(session: Session, notice_ids: list[int]) -> str | None:
    """The number of an issued (or paid) bordereau holding one of these notices, if any."""
    if not notice_ids:
        return None
    number = session.scalar(
        select(Remittance.number)
        .join(RemittanceLine, RemittanceLine.remittance_id == Remittance.id)
        .where(
            RemittanceLine.premium_notice_id.in_(notice_ids),
            Remittance.status.in_(FROZEN),
        )
        .limit(1)
    )
    return number


def transfer_file(session: Session, remittance: Remittance, today: dt.date) -> bytes:
    """The SEPA credit transfer of the net amount (pain.001.001.03), validated by its XSD."""
    from sepaxml import SepaTransfer

    organisation = session.get(Organisation, remittance.organisation_id)
    company = remittance.company
    missing = {}
    if not organisation.sepa_creditor_iban:
        missing["sepa_creditor_iban"] = _("The agency's IBAN is missing.")
    if not company.iban:
        missing["iban"] = _("The insurer's IBAN is missing.")
    if missing:
        raise InvalidRequestError(_("Bank details are missing for the transfer."), missing)
    if remittance.net_amount <= 0:
        raise InvalidRequestError(_("Nothing is owed to the insurer: no transfer."))
    config: dict[str, Any] = {
        "name": organisation.name[:70],
        "IBAN": organisation.sepa_creditor_iban,
        "batch": False,
        "currency": "EUR",
    }
    if organisation.sepa_creditor_bic:
        config["BIC"] = organisation.sepa_creditor_bic
    document = SepaTransfer(config, schema=PAIN_001, clean=True)
    payment: dict[str, Any] = {
        "name": company.name[:70],
        "IBAN": company.iban,
        "amount": int(remittance.net_amount * 100),
        "execution_date": max(today, remittance.issued_on or today),
        "description": _("Remittance %(number)s", number=remittance.number),
        "endtoend_id": remittance.number.replace("-", "")[:35],
    }
    if company.bic:
        payment["BIC"] = company.bic
    document.add_payment(payment)
    return document.export(validate=True)


def _audit(session: Session, remittance: Remittance, action: str) -> None:
    audit.record(
        session,
        action,
        "Remittance",
        remittance.id,
        {
            "number": remittance.number,
            "status": remittance.status.value,
            "net_amount": str(remittance.net_amount),
            "notices": len(remittance.lines),
        },
        organisation_id=remittance.organisation_id,
    )
