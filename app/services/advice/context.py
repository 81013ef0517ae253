"""What the DER and the FIC print, as plain data (the renderer sees no ORM object).

The keys follow a policy document's (docs/templates.md) where they mean the same:
``organisation``, ``client``, ``today``, ``locale``; ``policy`` carries only the file's
reference (the layout's title prints it) and ``insurer`` is empty, as no contract exists
yet. The FIC adds ``proposal``: its line, sale channel, answers, quotes, recommendation,
reasons and the withdrawal period a sale away from the agency opens.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import (
    ClientKind,
    ComplianceDocument,
    ComplianceKind,
    LineOfBusiness,
    Organisation,
    Proposal,
    Quote,
    SaleChannel,
)
from app.services.advice.withdrawal import withdrawal_window
from app.services.rendering.context import client_context, labels_in, organisation_context
from app.services.timezones import local_today, zone


def compliance_row(
    session: Session, document_id: int, organisation_id: int
) -> ComplianceDocument | None:
    return session.scalar(
        select(ComplianceDocument).where(
            ComplianceDocument.document_id == document_id,
            ComplianceDocument.organisation_id == organisation_id,
        )
    )


def reference(row: ComplianceDocument) -> str:
    """The file's reference, in its name and title: no personal data."""
    if row.kind is ComplianceKind.fic:
        return f"PROPOSITION-{row.proposal_id}"
    return f"CLIENT-{row.client_id}"


def _proposal(session: Session, proposal_id: int, today: dt.date, locale: str) -> dict[str, Any]:
    proposal = session.scalar(
        select(Proposal)
        .options(selectinload(Proposal.quotes).selectinload(Quote.company))
        .where(Proposal.id == proposal_id)
    )
    assert proposal is not None  # the FK cascades: a FIC has its proposal
    labels = labels_in(
        locale,
        {
            "line": (proposal.line_of_business, LineOfBusiness),
            "channel": (proposal.sale_channel, SaleChannel),
        },
    )
    window = withdrawal_window(proposal.sale_channel, proposal.line_of_business, today)
    return {
        "id": proposal.id,
        "line_of_business": proposal.line_of_business.value,
        "line_label": labels["line"],
        "sale_channel": proposal.sale_channel.value,
        "sale_channel_label": labels["channel"],
        "answers": [
            {"question": str(item["question"]), "answer": str(item.get("answer") or "")}
            for item in proposal.answers or []
        ],
        "recommendation": proposal.recommendation,
        "reasons": proposal.reasons,
        "quotes": [
            {
                "insurer": quote.company.name,
                "product": quote.product,
                "premium": Decimal(quote.premium) if quote.premium is not None else None,
                "valid_until": quote.valid_until,
                "status": quote.status.value,
            }
            for quote in proposal.quotes
            if quote.premium is not None
        ],
        "withdrawal_days": window.days if window else None,
        "withdrawal_article": window.article if window else None,
    }


def compliance_context(
    session: Session, row: ComplianceDocument, *, locale: str = "fr"
) -> dict[str, Any]:
    organisation = session.get(Organisation, row.organisation_id)
    assert organisation is not None
    client = row.client
    today = local_today(zone(organisation.timezone))
    kind = labels_in(locale, {"kind": (client.kind or ClientKind.person, ClientKind)})["kind"]
    context: dict[str, Any] = {
        "organisation": organisation_context(organisation),
        "client": client_context(client, kind),
        "policy": {"number": reference(row)},
        "insurer": None,
        "today": today,
        "locale": locale,
    }
    if row.kind is ComplianceKind.fic and row.proposal_id is not None:
        context["proposal"] = _proposal(session, row.proposal_id, today, locale)
    return context
