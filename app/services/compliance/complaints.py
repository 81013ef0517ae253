"""The complaints register: recording a complaint, its deadlines and their tasks; the
register as the ACPR reads it and its yearly summary.

The API's writes go through ``prepare`` (app/api/complaints.py, pre_add/pre_update): it
checks the dates, stores both deadlines computed from the day of receipt, opens a task
for each (due on the deadline, given to whoever records the complaint) and closes a
task when its deadline is kept. The changes flush through the ORM, so the audit trail
records them (app/services/audit.py). The caller commits.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, extract, false, or_, select
from sqlalchemy.orm import Session

from app.models import (
    Claim,
    Complaint,
    Policy,
    Task,
    TaskPriority,
    TaskSource,
    TaskStatus,
    TaskType,
)
from app.models.base import ModelValidationError, utcnow
from app.models.task import OPEN_STATUSES
from app.services.compliance.deadlines import acknowledgement_due, answer_due, met

SUBJECT_LENGTH = 5_000
# A deadline this close (or passed) puts a complaint on the managers' compliance page.
NEAR_DAYS = 7
# The register's quick filters (the screen's tabs, its exports' URLs).
STATES = ("open", "acknowledgement_overdue", "answer_overdue", "near_deadline", "closed")
REGISTER_COLUMNS = (
    "id",
    "received_on",
    "channel",
    "client_id",
    "client",
    "policy_id",
    "claim_id",
    "subject",
    "acknowledgement_due_on",
    "acknowledged_on",
    "acknowledgement_met",
    "answer_due_on",
    "answered_on",
    "answer_met",
    "outcome",
    "mediator_named",
)


def check(complaint: Complaint, today: dt.date) -> None:
    """Refuse dates the register cannot hold: in the future, or before the receipt."""
    errors: dict[str, str] = {}
    subject = (complaint.subject or "").strip()
    if not subject or len(subject) > SUBJECT_LENGTH:
        errors["subject"] = _("Enter 1 to %(count)d characters.", count=SUBJECT_LENGTH)
    for key in ("received_on", "acknowledged_on", "answered_on"):
        value = getattr(complaint, key)
        if value is not None and value > today:
            errors[key] = _("This date is still to come.")
    received = complaint.received_on
    for key in ("acknowledged_on", "answered_on"):
        value = getattr(complaint, key)
        if value is not None and received is not None and value < received:
            errors.setdefault(key, _("This date is before the complaint was received."))
    if complaint.answered_on is not None and complaint.outcome is None:
        errors["outcome"] = _("Say how the complaint ends when it is answered.")
    if complaint.outcome is not None and complaint.answered_on is None:
        errors["answered_on"] = _("Give the day of the answer with its outcome.")
    if errors:
        raise ModelValidationError(errors)
    complaint.subject = subject


def _linked_client(session: Session, complaint: Complaint) -> None:
    # A complaint about a contract or a claim is its holder's; a claim names its contract.
    errors: dict[str, str] = {}
    if complaint.claim_id is not None:
        claim = session.get(Claim, complaint.claim_id)
        if claim is not None and claim.client_id != complaint.client_id:
            errors["claim_id"] = _("This claim is another client's.")
        elif claim is not None and complaint.policy_id is None:
            complaint.policy_id = claim.policy_id
    if complaint.policy_id is not None:
        policy = session.get(Policy, complaint.policy_id)
        if policy is not None and policy.client_id != complaint.client_id:
            errors["policy_id"] = _("This contract is another client's.")
    if errors:
        raise ModelValidationError(errors)


def _task(complaint: Complaint, user_id: int | None, title: str, due_on: dt.date) -> Task:
    return Task(
        organisation_id=complaint.organisation_id,
        title=title[:200],
        type=TaskType.action,
        priority=TaskPriority.high,
        due_on=due_on,
        assignee_id=user_id,
        status=TaskStatus.todo,
        source=TaskSource.manual,
        created_by_id=user_id,
        client_id=complaint.client_id,
        policy_id=complaint.policy_id,
    )


def _sync_task(task: Task | None, due_on: dt.date, done_on: dt.date | None) -> None:
    """Keep a deadline's task in step: its due date, and closed once the deadline is kept."""
    if task is None or task.status not in OPEN_STATUSES:
        return
    task.due_on = due_on
    if done_on is not None:
        task.status = TaskStatus.done
        task.completed_at = utcnow()


def prepare(session: Session, complaint: Complaint, user_id: int | None, today: dt.date) -> None:
    """Check a complaint being written, set its deadlines and keep their tasks in step."""
    check(complaint, today)
    _linked_client(session, complaint)
    complaint.acknowledgement_due_on = acknowledgement_due(complaint.received_on)
    complaint.answer_due_on = answer_due(complaint.received_on)
    if complaint.id is None:
        session.add(complaint)
        received = complaint.received_on.strftime("%d/%m/%Y")
        if complaint.acknowledged_on is None and complaint.answered_on is None:
            complaint.acknowledgement_task = _task(
                complaint,
                user_id,
                _("Acknowledge the complaint received on %(day)s", day=received),
                complaint.acknowledgement_due_on,
            )
        if complaint.answered_on is None:
            complaint.answer_task = _task(
                complaint,
                user_id,
                _("Answer the complaint received on %(day)s", day=received),
                complaint.answer_due_on,
            )
        return
    # An answer within the 10 days acknowledges the complaint as well.
    acknowledged = complaint.acknowledged_on or complaint.answered_on
    _sync_task(complaint.acknowledgement_task, complaint.acknowledgement_due_on, acknowledged)
    _sync_task(complaint.answer_task, complaint.answer_due_on, complaint.answered_on)


def acknowledgement_kept(complaint: Complaint) -> bool | None:
    done = complaint.acknowledged_on or complaint.answered_on
    return met(done, complaint.acknowledgement_due_on)


def answer_kept(complaint: Complaint) -> bool | None:
    return met(complaint.answered_on, complaint.answer_due_on)


def _received_in(organisation_id: int, year: int | None) -> Any:
    query = select(Complaint).where(Complaint.organisation_id == organisation_id)
    if year is not None:
        query = query.where(extract("year", Complaint.received_on) == year)
    return query.order_by(Complaint.received_on, Complaint.id)


def register_rows(
    session: Session, organisation_id: int, year: int | None = None
) -> list[dict[str, Any]]:
    """The register, one row per complaint in the order received."""
    rows = []
    for complaint in session.scalars(_received_in(organisation_id, year)):
        client = complaint.client
        rows.append(
            {
                "id": complaint.id,
                "received_on": complaint.received_on.isoformat(),
                "channel": complaint.channel.value,
                "client_id": complaint.client_id,
                "client": client.display_name if client is not None else "",
                "policy_id": complaint.policy_id,
                "claim_id": complaint.claim_id,
                "subject": complaint.subject,
                "acknowledgement_due_on": complaint.acknowledgement_due_on.isoformat(),
                "acknowledged_on": _iso(complaint.acknowledged_on),
                "acknowledgement_met": acknowledgement_kept(complaint),
                "answer_due_on": complaint.answer_due_on.isoformat(),
                "answered_on": _iso(complaint.answered_on),
                "answer_met": answer_kept(complaint),
                "outcome": complaint.outcome.value if complaint.outcome else None,
                "mediator_named": complaint.mediator_named,
            }
        )
    return rows


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def register_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=REGISTER_COLUMNS, delimiter=";")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return buffer.getvalue()


def yearly_summary(
    session: Session, organisation_id: int, year: int, today: dt.date
) -> dict[str, Any]:
    """The year's complaints counted: received, answered, deadlines kept or missed."""
    complaints = session.scalars(_received_in(organisation_id, year)).all()
    summary: dict[str, Any] = {
        "year": year,
        "received": len(complaints),
        "acknowledged": 0,
        "acknowledged_in_time": 0,
        "answered": 0,
        "answered_in_time": 0,
        "open": 0,
        "overdue": 0,
        "mediator_named": 0,
    }
    outcomes: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    for complaint in complaints:
        channels[complaint.channel.value] += 1
        kept = acknowledgement_kept(complaint)
        if kept is not None:
            summary["acknowledged"] += 1
            summary["acknowledged_in_time"] += int(kept)
        if complaint.answered_on is None:
            summary["open"] += 1
            summary["overdue"] += int(complaint.answer_due_on < today)
            continue
        summary["answered"] += 1
        summary["answered_in_time"] += int(bool(answer_kept(complaint)))
        summary["mediator_named"] += int(complaint.mediator_named)
        outcomes[complaint.outcome.value] += 1
    summary["by_outcome"] = dict(sorted(outcomes.items()))
    summary["by_channel"] = dict(sorted(channels.items()))
    return summary


def _not_acknowledged() -> ColumnElement[bool]:
    # An answer acknowledges too (prepare closes the acknowledgement task on it).
    return and_(Complaint.acknowledged_on.is_(None), Complaint.answered_on.is_(None))


def state_condition(state: str, today: dt.date) -> ColumnElement[bool]:
    """The complaints in ``state`` (one of STATES) on ``today``; an unknown state: none."""
    open_ = Complaint.answered_on.is_(None)
    if state == "open":
        return open_
    if state == "closed":
        return Complaint.answered_on.is_not(None)
    if state == "acknowledgement_overdue":
        return and_(_not_acknowledged(), Complaint.acknowledgement_due_on < today)
    if state == "answer_overdue":
        return and_(open_, Complaint.answer_due_on < today)
    if state == "near_deadline":
        near = today + dt.timedelta(days=NEAR_DAYS)
        return or_(
            and_(_not_acknowledged(), Complaint.acknowledgement_due_on <= near),
            and_(open_, Complaint.answer_due_on <= near),
        )
    return false()


def next_deadline(complaint: Complaint) -> tuple[str, dt.date] | None:
    """The deadline still to keep first: ("acknowledgement" | "answer", its day), or None."""
    if complaint.answered_on is not None:
        return None
    if complaint.acknowledged_on is None:
        return "acknowledgement", complaint.acknowledgement_due_on
    return "answer", complaint.answer_due_on


def near_deadlines(session: Session, organisation_id: int, today: dt.date) -> list[Complaint]:
    """The agency's open complaints with a deadline passed or within NEAR_DAYS, soonest first."""
    complaints = session.scalars(
        select(Complaint).where(
            Complaint.organisation_id == organisation_id,
            state_condition("near_deadline", today),
        )
    ).all()
    return sorted(complaints, key=lambda c: (next_deadline(c) or ("", c.answer_due_on))[1])
