"""The claims report, a tabular job (XLSX): the claims of a period and their loss ratio.

Sheet 1, one row per claim whose loss occurred in the period (``date_from`` / ``date_to``,
the last twelve months by default; ``insurer_id`` on the claim's contract), streamed in
date order with what was paid on it (indemnities, net of the insurer's recourse); sheets 2
and 3, the loss ratio of the period per insurer and per line (app/services/claims/
loss_ratio.py, the dashboard's and the API's figures). Started from the dashboard's report
buttons or ``POST /api/v1/report/claims`` (``Report`` write, MANAGER and above).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.models import (
    Claim,
    ClaimNature,
    ClaimPayment,
    ClaimStatus,
    Client,
    CloseReason,
    Company,
    LineOfBusiness,
    Policy,
    SettlementKind,
)
from app.services.claims.loss_ratio import loss_ratio
from app.services.claims.settlements import INDEMNITIES
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

CLAIMS = "claims"


def produce_claims(session: Session, request: TabularRequest) -> Tabular:
    start, end = report_period(request.params, agency_today(session, request.organisation_id))
    insurer = request.params.get("insurer_id")
    where: list[Any] = [
        Claim.organisation_id == request.organisation_id,
        Claim.occurred_on >= start,
        Claim.occurred_on <= end,
    ]
    if insurer:
        where.append(Policy.company_id == insurer)
    total = session.execute(
        select(func.count())
        .select_from(Claim)
        .join(Policy, Policy.id == Claim.policy_id)
        .where(*where)
    ).scalar_one()
    natures, statuses, reasons = (
        enum_labels(ClaimNature),
        enum_labels(ClaimStatus),
        enum_labels(CloseReason),
    )
    yes, no = _("Yes"), _("No")
    # What was paid on each claim, all dates: one grouped subquery joined once.
    indemnity = case((ClaimPayment.kind.in_(INDEMNITIES), ClaimPayment.amount), else_=0)
    recourse = case(
        (ClaimPayment.kind == SettlementKind.insurer_recourse, ClaimPayment.amount), else_=0
    )
    paid = (
        select(
            ClaimPayment.claim_id,
            func.sum(indemnity).label("indemnities"),
            func.sum(recourse).label("recourse"),
        )
        .where(ClaimPayment.organisation_id == request.organisation_id)
        .group_by(ClaimPayment.claim_id)
        .subquery()
    )

    def claim_rows() -> Iterator[Sequence[Any]]:
        query = (
            select(
                Claim.number,
                Claim.insurer_claim_number,
                Policy.number,
                Client.kind,
                Client.first_name,
                Client.last_name,
                Client.company_name,
                Company.name,
                Claim.nature,
                Claim.occurred_on,
                Claim.client_declared_on,
                Claim.declaration_deadline,
                Claim.declared_late,
                Claim.outside_term,
                Claim.status,
                Claim.close_reason,
                Claim.estimate,
                paid.c.indemnities,
                paid.c.recourse,
            )
            .join(Policy, Policy.id == Claim.policy_id)
            .join(Client, Client.id == Claim.client_id)
            .join(Company, Company.id == Policy.company_id)
            .outerjoin(paid, paid.c.claim_id == Claim.id)
            .where(*where)
            .order_by(Claim.occurred_on, Claim.id)
            .execution_options(yield_per=STREAM_CHUNK)
        )
        for row in session.execute(query):
            indemnities, recovered = _money(row[17]), _money(row[18])
            yield (
                row[0],
                row[1] or "",
                row[2],
                client_name(row[3], row[4], row[5], row[6]),
                row[7],
                natures[row[8]],
                row[9],
                row[10],
                row[11],
                yes if row[12] else no,
                yes if row[13] else no,
                statuses[row[14]],
                reasons[row[15]] if row[15] is not None else "",
                row[16],
                indemnities,
                indemnities - recovered,
            )

    ratio = loss_ratio(session, request.organisation_id, start, end, company_id=insurer)
    lines = enum_labels(LineOfBusiness)
    return Tabular(
        file_stem="rapport-sinistres",
        sheets=[
            Sheet(
                title=_("Claims"),
                header=[
                    _("Claim number"),
                    _("Insurer's claim number"),
                    _("Contract"),
                    _("Client"),
                    _("Insurer"),
                    _("Nature"),
                    _("Date of loss"),
                    _("Declared by the client on"),
                    _("Declaration deadline"),
                    _("Declared late"),
                    _("Outside the contract's term"),
                    _("Status"),
                    _("Reason for closing"),
                    _("Estimate"),
                    _("Indemnities"),
                    _("Net cost"),
                ],
                rows=claim_rows,
                total=total,
                column_widths=(16, 16, 16, 28, 24, 18, 12, 12, 12, 8, 8, 16, 16, 12, 12, 12),
                number_formats={13: MONEY, 14: MONEY, 15: MONEY},
            ),
            _ratio_sheet(_("Loss ratio by insurer"), _("Insurer"), ratio["by_insurer"], None),
            _ratio_sheet(_("Loss ratio by line"), _("Line of business"), ratio["by_line"], lines),
        ],
    )


def _ratio_sheet(
    title: str, first: str, rows: list[dict[str, Any]], names: dict[Any, str] | None
) -> Sheet:
    values = [
        (
            names[LineOfBusiness(row["key"])] if names is not None else row["name"],
            Decimal(row["paid"]),
            Decimal(row["premiums"]),
            Decimal(row["ratio_percent"]) if row["ratio_percent"] is not None else None,
        )
        for row in rows
    ]
    return Sheet(
        title=title,
        header=[first, _("Claims paid"), _("Premiums"), _("Loss ratio (%)")],
        rows=lambda: iter(values),
        total=len(values),
        column_widths=(28, 14, 14, 10),
        number_formats={1: MONEY, 2: MONEY},
    )


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


register_producer(CLAIMS, produce_claims, check=check_premium_filters)
