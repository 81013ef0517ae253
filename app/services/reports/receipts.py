"""The receipts journal for the accountant: every payment received in a period, line by line.

One row per allocation (the payment's date, client, contract, premium notice, amount, method,
reference), then the part of a payment left unallocated (the client's credit) on a row of
its own, so the rows add up to the money received. Rejected payments (a returned debit or
cheque) are not receipts and are left out. Filters as the premiums report: ``date_from`` /
``date_to`` on the date received (the last twelve months by default), ``insurer_id`` on the
notice's contract (which leaves unallocated credit out). Rows stream in date order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, literal, null, select, union_all
from sqlalchemy.orm import Session

from app.models import (
    Allocation,
    Client,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Policy,
    PremiumNotice,
)
from app.services.renewals.contracts import agency_today
from app.services.reports.portfolio import (
    MONEY,
    STREAM_CHUNK,
    check_premium_filters,
    client_name,
    enum_labels,
    report_period,
)
from app.services.reports.tabular import Sheet, Tabular, TabularRequest, register_producer

RECEIPTS = "receipts"


def produce_receipts(session: Session, request: TabularRequest) -> Tabular:
    start, end = report_period(request.params, agency_today(session, request.organisation_id))
    insurer = request.params.get("insurer_id")
    received = [
        Payment.organisation_id == request.organisation_id,
        Payment.status == PaymentStatus.received,
        Payment.received_on >= start,
        Payment.received_on <= end,
    ]
    allocated = (
        select(
            Payment.received_on.label("received_on"),
            Payment.id.label("payment_id"),
            Client.kind,
            Client.first_name,
            Client.last_name,
            Client.company_name,
            Payment.payer,
            Policy.number.label("policy"),
            PremiumNotice.number.label("notice"),
            Allocation.amount.label("amount"),
            Payment.method,
            Payment.reference,
        )
        .select_from(Allocation)
        .join(Payment, Payment.id == Allocation.payment_id)
        .join(PremiumNotice, PremiumNotice.id == Allocation.premium_notice_id)
        .join(Policy, Policy.id == PremiumNotice.policy_id)
        .outerjoin(Client, Client.id == Payment.client_id)
        .where(*received)
    )
    if insurer:
        allocated = allocated.where(Policy.company_id == insurer)
    parts = [allocated]
    if not insurer:
        parts.append(
            select(
                Payment.received_on,
                Payment.id,
                Client.kind,
                Client.first_name,
                Client.last_name,
                Client.company_name,
                Payment.payer,
                null(),
                literal(None).label("notice"),
                Payment.amount - Payment.allocated_amount,
                Payment.method,
                Payment.reference,
            )
            .select_from(Payment)
            .outerjoin(Client, Client.id == Payment.client_id)
            .where(*received, Payment.amount > Payment.allocated_amount)
        )
    journal = union_all(*parts).subquery()
    total = session.scalar(select(func.count()).select_from(journal)) or 0
    methods = enum_labels(PaymentMethod)
    unallocated = _("Unallocated (client's credit)")

    def rows() -> Iterator[Sequence[Any]]:
        query = (
            select(journal)
            # A payment's allocations, then its unallocated rest (NULL sorts apart by base).
            .order_by(
                journal.c.received_on,
                journal.c.payment_id,
                journal.c.notice.is_(None),
                journal.c.notice,
            )
            .execution_options(yield_per=STREAM_CHUNK)
        )
        for row in session.execute(query):
            client = client_name(row.kind, row.first_name, row.last_name, row.company_name)
            yield (
                row.received_on,
                # None, not "": an empty cell in the XLSX (the CSV writes it as "").
                client or row.payer or None,
                row.policy or None,
                row.notice or unallocated,
                Decimal(row.amount).quantize(Decimal("0.01")),
                methods[PaymentMethod(row.method)] if row.method else None,
                row.reference or None,
                row.payment_id,
            )

    return Tabular(
        file_stem="journal-encaissements",
        sheets=[
            Sheet(
                title=_("Receipts"),
                header=[
                    _("Date received"),
                    _("Client"),
                    _("Policy number"),
                    _("Premium notice"),
                    _("Amount"),
                    _("Payment method"),
                    _("Reference"),
                    _("Payment"),
                ],
                rows=rows,
                total=total,
                column_widths=(14, 30, 18, 22, 14, 18, 22, 10),
                number_formats={4: MONEY},
            ),
            _summary(session, received, insurer, methods),
        ],
    )


def _summary(session: Session, received: list[Any], insurer: Any, methods: dict[Any, str]) -> Sheet:
    """Totals by payment method (what the bank statement shows, per method)."""
    if insurer:
        statement = (
            select(
                Payment.method, func.count(func.distinct(Payment.id)), func.sum(Allocation.amount)
            )
            .join(Allocation, Allocation.payment_id == Payment.id)
            .join(PremiumNotice, PremiumNotice.id == Allocation.premium_notice_id)
            .join(Policy, Policy.id == PremiumNotice.policy_id)
            .where(*received, Policy.company_id == insurer)
        )
    else:
        statement = select(Payment.method, func.count(), func.sum(Payment.amount)).where(*received)
    totals = session.execute(statement.group_by(Payment.method).order_by(Payment.method)).all()
    rows = [
        (methods[PaymentMethod(method)], count, Decimal(amount or 0).quantize(Decimal("0.01")))
        for method, count, amount in totals
    ]
    rows.append((_("Total"), sum(r[1] for r in rows), sum((r[2] for r in rows), Decimal(0))))
    return Sheet(
        title=_("Summary"),
        header=[_("Payment method"), _("Payments"), _("Amount")],
        rows=lambda: iter(rows),
        total=len(rows),
        column_widths=(22, 12, 18),
        number_formats={2: MONEY},
    )


register_producer(RECEIPTS, produce_receipts, check=check_premium_filters)
