"""The managers' compliance page: what an ACPR or CNIL auditor would ask about first.

One section per obligation, each a small function ``(session, organisation_id, today)
-> Section`` listed in SECTIONS, so a new obligation (clients without a signed DER,
contracts without a FIC, data due for anonymisation) adds its function and its line
there. A section holds rows to act on; a row names the record it is about by kind and
id, and the screen (app/views/compliance.py) turns that into a link. No Flask here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.models import (
    Client,
    ComplianceDocument,
    ComplianceKind,
    ComplianceStatus,
    Policy,
    PolicyStatus,
    Proposal,
    Quote,
)
from app.services.compliance import complaints, training
from app.services.privacy import retention

ROWS_SHOWN = 50  # per section: the page is a to-do list, the screens behind hold the rest


@dataclass(frozen=True)
class Row:
    text: str
    detail: str = ""
    day: dt.date | None = None  # the deadline or date the row is about
    late: bool = False  # past its deadline: shown first, in red
    link: tuple[str, int] | None = None  # (kind, id): "complaint", "user", "client", …


@dataclass(frozen=True)
class Section:
    key: str
    title: Any
    empty: Any  # said when the section has no row: the obligation is met
    rows: list[Row] = field(default_factory=list)
    more: int = 0  # rows beyond ROWS_SHOWN
    # Where the whole list is kept, by screen name: "complaints", "training".
    screen: str | None = None


def complaints_near_deadline(session: Session, organisation_id: int, today: dt.date) -> Section:
    """Open complaints whose acknowledgement or answer is due within 7 days, or passed."""
    rows = []
    for complaint in complaints.near_deadlines(session, organisation_id, today):
        deadline = complaints.next_deadline(complaint)
        if deadline is None:
            continue
        kind, day = deadline
        rows.append(
            Row(
                text=f"{complaint.client.display_name} — {complaint.subject[:80]}",
                detail=kind,  # "acknowledgement" or "answer": the screen words it
                day=day,
                late=day < today,
                link=("complaint", complaint.id),
            )
        )
    return _section(
        "complaints",
        _("Complaints near their deadlines"),
        _("No complaint has a deadline within 7 days."),
        rows,
        screen="complaints",
    )


def staff_under_training_hours(session: Session, organisation_id: int, today: dt.date) -> Section:
    """People of the agency under 15 hours this year; late from October (the log's warning)."""
    rows = [
        Row(
            text=person["name"],
            detail=person["hours"],
            late=person["warning"],
            link=("user", person["user_id"]),
        )
        for person in training.yearly_hours(session, organisation_id, today.year, today)
        if Decimal(person["hours"]) < training.REQUIRED_HOURS
    ]
    return _section(
        "training",
        _("Staff under their 15 hours of training this year"),
        _("Everyone has followed their 15 hours this year."),
        rows,
        screen="training",
    )


def data_due_for_anonymisation(session: Session, organisation_id: int, today: dt.date) -> Section:
    """Clients kept past their retention period (app/services/privacy/retention.py, the
    agency's periods): the purge's next apply anonymises them; until then they are due."""
    rows = []
    for _agency, client_id, due in retention.due_clients(session, organisation_id):
        client = session.get(Client, client_id)
        if client is None:
            continue
        rows.append(
            Row(
                text=client.display_name,
                detail="retention",
                day=due.since,
                late=due.since <= today,
                link=("client", client_id),
            )
        )
    return _section(
        "retention",
        _("Client data due for anonymisation"),
        _("No client's data is kept past its retention period."),
        sorted(rows, key=lambda row: row.day or today),
        screen="purge",
    )


def clients_without_signed_der(session: Session, organisation_id: int, today: dt.date) -> Section:
    """Clients in a sale (a proposal) whose DER is not signed: the broker's information
    document comes before any advice (Code des assurances L521-2, R521-2)."""
    signed_der = exists().where(
        ComplianceDocument.client_id == Client.id,
        ComplianceDocument.kind == ComplianceKind.der,
        ComplianceDocument.status == ComplianceStatus.signed,
    )
    in_sale = exists().where(Proposal.client_id == Client.id)
    where = (Client.organisation_id == organisation_id, in_sale, ~signed_der)
    total = session.scalar(select(func.count()).select_from(Client).where(*where)) or 0
    clients = session.scalars(
        select(Client).where(*where).order_by(Client.last_name, Client.id).limit(ROWS_SHOWN)
    )
    rows = [
        Row(text=client.display_name, detail="der", link=("client", client.id))
        for client in clients
    ]
    return _limited(
        "der",
        _("Clients without a signed DER"),
        _("Every client in a sale has signed the DER."),
        rows,
        total,
        screen="compliance_documents",
    )


def contracts_without_signed_fic(session: Session, organisation_id: int, today: dt.date) -> Section:
    """Contracts started in the last twelve months that no signed FIC covers: the needs
    statement and advice come before each contract (L521-4). Older contracts are left out:
    they predate the agency's record of its sales."""
    signed_fic = exists().where(
        Quote.policy_id == Policy.id,
        ComplianceDocument.proposal_id == Quote.proposal_id,
        ComplianceDocument.kind == ComplianceKind.fic,
        ComplianceDocument.status == ComplianceStatus.signed,
    )
    where = (
        Policy.organisation_id == organisation_id,
        Policy.status.in_((PolicyStatus.draft, PolicyStatus.active, PolicyStatus.suspended)),
        Policy.effective_date > today - dt.timedelta(days=365),
        ~signed_fic,
    )
    total = session.scalar(select(func.count()).select_from(Policy).where(*where)) or 0
    contracts = session.execute(
        select(Policy.id, Policy.number, Policy.effective_date, Client)
        .join(Client, Client.id == Policy.client_id)
        .where(*where)
        .order_by(Policy.effective_date.desc(), Policy.id)
        .limit(ROWS_SHOWN)
    )
    rows = [
        Row(
            text=f"{number} — {client.display_name}",
            detail="fic",
            day=effective,
            link=("policy", policy_id),
        )
        for policy_id, number, effective, client in contracts
    ]
    return _limited(
        "fic",
        _("Contracts of the last twelve months without a signed FIC"),
        _("Every contract of the last twelve months has its signed FIC."),
        rows,
        total,
    )


SectionBuilder = Callable[[Session, int, dt.date], Section]
# In the page's order.
SECTIONS: list[SectionBuilder] = [
    clients_without_signed_der,
    contracts_without_signed_fic,
    complaints_near_deadline,
    staff_under_training_hours,
    data_due_for_anonymisation,
]


def compliance_page(session: Session, organisation_id: int, today: dt.date) -> list[Section]:
    return [build(session, organisation_id, today) for build in SECTIONS]


def _section(
    key: str, title: Any, empty: Any, rows: list[Row], *, screen: str | None = None
) -> Section:
    # Late rows first, each group in its own order (soonest deadline, or name).
    ordered = sorted(rows, key=lambda row: not row.late)
    return Section(
        key=key,
        title=title,
        empty=empty,
        rows=ordered[:ROWS_SHOWN],
        more=max(len(ordered) - ROWS_SHOWN, 0),
        screen=screen,
    )


def _limited(
    key: str,
    title: Any,
    empty: Any,
    rows: list[Row],
    total: int,
    *,
    screen: str | None = None,
) -> Section:
    # Sections over the whole portfolio read ROWS_SHOWN rows and count the rest in SQL.
    return Section(
        key=key,
        title=title,
        empty=empty,
        rows=rows,
        more=max(total - len(rows), 0),
        screen=screen,
    )
