"""Sending the avis d'échéance: the document and the record that it was sent, together.

The notice is recorded in the same transaction that queues its document
(app/services/documents/requests.py commits both), so the renderer reads a cycle
that already knows its sending date (late or not) and a failed request records
nothing. The document's id is linked right after.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.models import Document, Job, NoticeChannel, Policy, RenewalCycle, Template
from app.services.documents.queries import valid_id
from app.services.documents.requests import request_batch, request_document
from app.services.errors import InvalidRequestError, NotFoundError
from app.services.renewals.contracts import agency_today
from app.services.renewals.cycles import record_notice
from app.services.scope import visible_organisation_id

AVIS_BUILTIN_KEY = "avis_echeance"


def visible_cycle(session: Session, user: Any, cycle_id: Any) -> RenewalCycle:
    """The cycle with this id if ``user`` may see it; NotFoundError otherwise (same answer)."""
    found = visible_cycles(session, user, [cycle_id])
    return found[0]


def visible_cycles(session: Session, user: Any, cycle_ids: list[Any]) -> list[RenewalCycle]:
    """Every cycle of ``cycle_ids`` (duplicates once), or NotFoundError naming none."""
    if not cycle_ids or not all(valid_id(cycle_id) for cycle_id in cycle_ids):
        raise NotFoundError(_("Renewal not found."))
    ids = list(dict.fromkeys(cycle_ids))
    # What recording the avis reads (the rules' facts: the contract, its client and its
    # cycles), loaded with the cycles: a 1,000-cycle batch in four queries, not 3,000.
    query = (
        select(RenewalCycle)
        .where(RenewalCycle.id.in_(ids))
        .options(
            selectinload(RenewalCycle.policy).options(
                joinedload(Policy.client), selectinload(Policy.renewal_cycles)
            )
        )
    )
    scope = visible_organisation_id(user)
    if scope is not None:
        query = query.where(RenewalCycle.organisation_id == scope)
    found = {cycle.id: cycle for cycle in session.scalars(query)}
    if len(found) != len(ids):
        raise NotFoundError(_("Renewal not found."))
    return [found[cycle_id] for cycle_id in ids]


def avis_template_id(session: Session) -> int:
    """The built-in avis d'échéance (shared by every agency)."""
    template_id = session.scalar(
        select(Template.id).where(Template.builtin_key == AVIS_BUILTIN_KEY)
    )
    if template_id is None:
        raise InvalidRequestError(_("The built-in avis d'échéance template is missing."))
    return template_id


def sending_day(session: Session, organisation_id: int, sent_on: dt.date | None) -> dt.date:
    """The day an avis is recorded sent: the one given, or today; never a day to come
    (a date ahead would state a Chatel window the client has not been given)."""
    today = agency_today(session, organisation_id)
    if sent_on is not None and sent_on > today:
        message = _("An avis d'échéance is recorded sent today or on a past day.")
        raise InvalidRequestError(message, {"sent_on": message})
    return sent_on or today


def send_avis(
    session: Session,
    user: Any,
    cycle_id: Any,
    *,
    sent_on: dt.date | None = None,
    channel: NoticeChannel = NoticeChannel.post,
    template_id: int | None = None,
) -> tuple[RenewalCycle, Document]:
    """Generate the avis d'échéance of one cycle and record it sent (today by default)."""
    cycle = visible_cycle(session, user, cycle_id)
    day = sending_day(session, cycle.organisation_id, sent_on)
    try:
        record_notice(cycle, sent_on=day, channel=channel)  # committed with the document
    except Exception:
        session.rollback()  # refused: nothing is written
        raise
    document = request_document(
        session,
        user,
        template_id=template_id or avis_template_id(session),
        policy_id=cycle.policy_id,
    )
    cycle = session.get(RenewalCycle, cycle.id)
    cycle.avis_document_id = document.id
    session.commit()
    return cycle, document


def send_avis_batch(
    session: Session,
    user: Any,
    cycle_ids: list[Any],
    *,
    sent_on: dt.date | None = None,
    channel: NoticeChannel = NoticeChannel.post,
    template_id: int | None = None,
) -> Job:
    """Generate the avis of many cycles of one agency as one batch job, and record them sent."""
    cycles = visible_cycles(session, user, cycle_ids)
    day = sending_day(session, cycles[0].organisation_id, sent_on)
    try:
        for cycle in cycles:
            record_notice(cycle, sent_on=day, channel=channel)  # committed with the batch
    except Exception:
        session.rollback()  # one refusal refuses the batch: nothing is written
        raise
    # Read before request_batch commits: the cycles are expired then, and each would reload.
    ids = [cycle.id for cycle in cycles]
    job = request_batch(
        session,
        user,
        template_id=template_id or avis_template_id(session),
        policy_ids=[cycle.policy_id for cycle in cycles],
    )
    # .all(): a Result has keys(), so dict() would read it as a mapping of column names.
    documents = dict(
        session.execute(
            select(Document.policy_id, Document.id).where(Document.job_id == job.id)
        ).all()
    )
    for cycle in session.scalars(select(RenewalCycle).where(RenewalCycle.id.in_(ids))):
        cycle.avis_document_id = documents.get(cycle.policy_id)
    session.commit()
    return job
