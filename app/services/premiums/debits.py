"""SEPA direct debit batches: the notices due in a period, debited as one pain.008 file.

Starting a batch (``start_debit_batch``) writes, in one transaction with its job, a
payment per notice to debit — method ``sepa_debit``, the notice's balance, received
on its collection date, allocated to the notice, naming its mandate and the job — so
the notices count as paid from then on and a second batch over the same period finds
nothing left to debit. The worker then writes those payments as a pain.008.001.02 file
(sepaxml, validated against the ISO 20022 schema) delivered as the job's document.
A debit the bank returns is rejected by importing its rejections file
(app/services/premiums/rejections.py): its notice re-opens.

Which notices: collected by the broker, issued, partly paid or unpaid, due within the
period, with something left to pay, of a contract debited under an active mandate of
the agency. Each is collected on its due date, or on the earliest day the bank can
still take the file (``COLLECTION_LEAD_DAYS`` after today) when that is later.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import (
    Allocation,
    Collection,
    Job,
    JobKind,
    Mandate,
    MandateSequence,
    MandateStatus,
    NoticeKind,
    NoticeStatus,
    Organisation,
    OutputFormat,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Policy,
    PremiumNotice,
)
from app.services.errors import InvalidRequestError
from app.services.premiums.standing import settle
from app.services.renewals.contracts import agency_today
from app.services.reports.jobs import start_tabular_job
from app.services.reports.tabular import (
    FileOutput,
    Progress,
    TabularError,
    TabularRequest,
    register_producer,
)

PRODUCER = "sepa_debits"
SCHEMA = "pain.008.001.02"
# Business days a bank wants a SEPA Core file before its collection date vary (1 to 5);
# two calendar days is the shortest most French banks accept.
COLLECTION_LEAD_DAYS = 2
MAX_PERIOD_DAYS = 366
MAX_DEBITS = 50_000  # one file; a bigger book debits in several periods
OPEN_STATUSES = (NoticeStatus.issued, NoticeStatus.partly_paid, NoticeStatus.unpaid)
ZERO = Decimal("0.00")


def start_debit_batch(
    session: Session,
    user: Any,
    *,
    due_from: dt.date,
    due_to: dt.date,
    organisation_id: Any = None,
) -> Job:
    """Record the debits of the notices due from ``due_from`` to ``due_to`` and queue their file.

    Refuses (422) an agency without its creditor details, a bad period, or a period with
    nothing to debit; nothing is written then.
    """
    if due_to < due_from or (due_to - due_from).days > MAX_PERIOD_DAYS:
        message = _("Enter a period of at most a year, its end on or after its start.")
        raise InvalidRequestError(message, {"due_to": message})

    def prepare(session: Session, job: Job) -> None:
        _record_debits(session, job, due_from, due_to)

    return start_tabular_job(
        session,
        user,
        job_kind=JobKind.report,
        name=PRODUCER,
        params={"due_from": due_from.isoformat(), "due_to": due_to.isoformat()},
        output_format=OutputFormat.xml,
        organisation_id=organisation_id,
        prepare=prepare,
    )


def creditor_missing(organisation: Organisation) -> list[str]:
    """The creditor details a pain.008 file needs that the agency has not entered."""
    fields = ("sepa_creditor_identifier", "sepa_creditor_iban", "sepa_creditor_bic")
    return [field for field in fields if not getattr(organisation, field)]


def _check(session: Session, _user: Any, organisation_id: int, params: dict) -> dict:
    organisation = session.get(Organisation, organisation_id)
    missing = creditor_missing(organisation)
    if missing:
        message = _("Enter the agency's SEPA creditor identifier, IBAN and BIC first.")
        raise InvalidRequestError(message, dict.fromkeys(missing, message))
    return params


def _record_debits(session: Session, job: Job, due_from: dt.date, due_to: dt.date) -> None:
    organisation_id = job.organisation_id
    earliest = agency_today(session, organisation_id) + dt.timedelta(days=COLLECTION_LEAD_DAYS)
    rows = session.execute(
        select(PremiumNotice, Mandate)
        .join(Policy, Policy.id == PremiumNotice.policy_id)
        .join(Mandate, Mandate.id == Policy.mandate_id)
        .where(
            PremiumNotice.organisation_id == organisation_id,
            PremiumNotice.collection == Collection.broker,
            PremiumNotice.status.in_(OPEN_STATUSES),
            PremiumNotice.kind != NoticeKind.refund,
            PremiumNotice.due_on.between(due_from, due_to),
            PremiumNotice.total > PremiumNotice.paid_amount,
            Mandate.organisation_id == organisation_id,
            Mandate.status == MandateStatus.active,
        )
        .order_by(PremiumNotice.due_on, PremiumNotice.id)
        .limit(MAX_DEBITS + 1)
    ).all()
    if not rows:
        message = _("No premium notice to debit in this period.")
        raise InvalidRequestError(message, {"due_from": message})
    if len(rows) > MAX_DEBITS:
        message = _("More than %(count)d debits: choose a shorter period.", count=MAX_DEBITS)
        raise InvalidRequestError(message, {"due_to": message})
    first_mandates = set()
    for notice, mandate in rows:
        collected_on = max(notice.due_on, earliest)
        amount = notice.balance
        payment = Payment(
            organisation_id=organisation_id,
            client_id=mandate.client_id,
            payer=mandate.debtor_name,
            amount=amount,
            currency=notice.currency,
            received_on=collected_on,
            method=PaymentMethod.sepa_debit,
            reference=end_to_end_id(job.id, notice.number),
            status=PaymentStatus.received,
            allocated_amount=amount,
            mandate_id=mandate.id,
            debit_job_id=job.id,
        )
        payment.allocations.append(
            Allocation(organisation_id=organisation_id, premium_notice=notice, amount=amount)
        )
        session.add(payment)
        notice.paid_amount = notice.paid_amount + amount
        settle(notice, collected_on, paid_on=collected_on)
        if mandate.sequence is MandateSequence.first:
            first_mandates.add(mandate.id)
    for mandate_id in first_mandates:
        session.get(Mandate, mandate_id).sequence = MandateSequence.recurring
    # The worker writes FRST for these: by then the mandates already say "recurring".
    params = {**job.params["params"], "first_mandate_ids": sorted(first_mandates)}
    job.params = {**job.params, "params": params}
    job.progress_total = len(rows)


def end_to_end_id(job_id: int, notice_number: str) -> str:
    """The debit's reference, returned by the bank with a rejection (35 characters at most)."""
    return f"D{job_id}-{notice_number}"[:35]


def _produce(session: Session, request: TabularRequest) -> FileOutput:
    organisation = session.get(Organisation, request.organisation_id)
    if creditor_missing(organisation):
        raise TabularError("the agency's SEPA creditor details are missing")
    first = set(request.params.get("first_mandate_ids") or ())
    total = session.scalar(
        select(func.count(Payment.id)).where(Payment.debit_job_id == request.job_id)
    )

    def write(target: Path, progress: Progress) -> None:
        from sepaxml import SepaDD

        document = SepaDD(
            {
                "name": organisation.name[:70],
                "IBAN": organisation.sepa_creditor_iban,
                "BIC": organisation.sepa_creditor_bic,
                "batch": True,
                "creditor_id": organisation.sepa_creditor_identifier,
                "currency": "EUR",
            },
            schema=SCHEMA,
            clean=True,
        )
        rows = session.execute(
            select(Payment, Mandate, PremiumNotice.number, Policy.number)
            .join(Mandate, Mandate.id == Payment.mandate_id)
            .join(Allocation, Allocation.payment_id == Payment.id)
            .join(PremiumNotice, PremiumNotice.id == Allocation.premium_notice_id)
            .join(Policy, Policy.id == PremiumNotice.policy_id)
            .where(
                Payment.debit_job_id == request.job_id,
                Payment.organisation_id == request.organisation_id,
            )
            .order_by(Payment.id)
            .execution_options(yield_per=1000)
        )
        for done, (payment, mandate, notice_number, policy_number) in enumerate(rows, start=1):
            entry = {
                "name": mandate.debtor_name,
                "IBAN": mandate.iban,
                "amount": int(payment.amount * 100),
                "type": "FRST" if mandate.id in first else "RCUR",
                "collection_date": payment.received_on,
                "mandate_id": mandate.reference,
                "mandate_date": mandate.signed_on,
                # On the client's bank statement, in the requester's language.
                "description": _(
                    "Premium notice %(notice)s, contract %(policy)s",
                    notice=notice_number,
                    policy=policy_number,
                ),
                "endtoend_id": payment.reference,
            }
            if mandate.bic:
                entry["BIC"] = mandate.bic
            document.add_payment(entry)
            progress(done)
        target.write_bytes(document.export(validate=True))

    return FileOutput(
        file_stem=f"prelevements-sepa-{request.params.get('due_from', '')}",
        output=OutputFormat.xml,
        total=total or 0,
        write=write,
    )


register_producer(
    PRODUCER, _produce, check=_check, job_kind=JobKind.report, formats=(OutputFormat.xml,)
)
