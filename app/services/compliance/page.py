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
from sqlalchemy.orm import Session

from app.models import Client
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


SectionBuilder = Callable[[Session, int, dt.date], Section]
# In the page's order. The DER and FIC sections (the quotes issue) are to come here.
SECTIONS: list[SectionBuilder] = [
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
