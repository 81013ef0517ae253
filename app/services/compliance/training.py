"""The DDA training log: checking a record, and each person's hours in a year.

Fifteen hours a year per person who distributes insurance (DDA art. 10, Code des
assurances A512-8). From 1 October the year's log warns about anyone still under
them: a quarter is what is left to book a course. The caller commits.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from app.models import AppUser, TrainingRecord
from app.models.base import ModelValidationError

REQUIRED_HOURS = Decimal(15)
WARNING_MONTH = 10
MAX_HOURS = Decimal(200)


def check_record(session: Session, record: TrainingRecord, today: dt.date) -> None:
    errors: dict[str, str] = {}
    user = session.get(AppUser, record.user_id) if record.user_id else None
    if user is None or user.organisation_id != record.organisation_id:
        errors["user_id"] = _("Unknown id %(id)s.", id=record.user_id)
    if record.completed_on is not None and record.completed_on > today:
        errors["completed_on"] = _("This date is still to come.")
    hours = record.hours
    if hours is None or not Decimal(0) < Decimal(hours) <= MAX_HOURS:
        errors["hours"] = _("Enter more than 0 and at most %(count)d hours.", count=200)
    for key in ("title", "body"):
        value = (getattr(record, key) or "").strip()
        if not value:
            errors[key] = _("This field is required.")
        setattr(record, key, value)
    if errors:
        raise ModelValidationError(errors)


def warns(year: int, today: dt.date) -> bool:
    """Whether the year's shortfalls are to be shown: from October, and for a past year."""
    return today >= dt.date(year, WARNING_MONTH, 1)


def yearly_hours(
    session: Session, organisation_id: int, year: int, today: dt.date
) -> list[dict[str, Any]]:
    """Every active person of the agency with their hours in ``year`` (none: 0)."""
    totals = dict(
        session.execute(
            select(TrainingRecord.user_id, func.sum(TrainingRecord.hours))
            .where(
                TrainingRecord.organisation_id == organisation_id,
                extract("year", TrainingRecord.completed_on) == year,
            )
            .group_by(TrainingRecord.user_id)
        ).all()
    )
    people = session.scalars(
        select(AppUser)
        .where(AppUser.organisation_id == organisation_id, AppUser.active.is_(True))
        .order_by(AppUser.last_name, AppUser.first_name, AppUser.id)
    ).all()
    warning = warns(year, today)
    rows = []
    for person in people:
        hours = Decimal(totals.get(person.id) or 0).quantize(Decimal("0.01"))
        rows.append(
            {
                "user_id": person.id,
                "name": f"{person.first_name} {person.last_name}".strip(),
                "hours": str(hours),
                "missing": str(max(REQUIRED_HOURS - hours, Decimal(0)).quantize(Decimal("0.01"))),
                "warning": warning and hours < REQUIRED_HOURS,
            }
        )
    return rows
