"""The dashboard's filters, read from the query string: organisation (SUPERADMIN),
insurer and period. A value that is not valid is reported and replaced by its
default, so a bad link shows a message and the default dashboard, never an error.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Company, Organisation
from app.services.dashboard.scope import Scope
from app.services.scope import is_superadmin, visible_organisation_id

PERIOD_MONTHS = (1, 3, 6, 12)
DEFAULT_MONTHS = 12
# Ids are positive SQL INTEGERs; "²".isdigit() is True, so use an ASCII pattern.
ID_PATTERN = re.compile(r"^[1-9][0-9]{0,9}$")
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Choice:
    id: int
    label: str


@dataclass
class DashboardFilters:
    """What the screen shows in its filter form, and the messages for refused values."""

    months: int = DEFAULT_MONTHS
    company_id: int | None = None
    organisation_id: int | None = None
    may_choose_organisation: bool = False
    organisations: list[Choice] = field(default_factory=list)
    insurers: list[Choice] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_id(raw: str | None) -> int | None:
    text = (raw or "").strip()
    if not ID_PATTERN.match(text):
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def period_bounds(today: dt.date, months: int) -> tuple[dt.date, dt.date]:
    """[first day of the month ``months - 1`` months ago, tomorrow): the last ``months``
    months, this one included up to today. The rest of this month is the future: it
    holds no documents yet, and policies taking effect then are not yet written business.
    """
    index = today.year * 12 + today.month - 1
    first = index - (months - 1)
    start = dt.date(first // 12, first % 12 + 1, 1)
    return start, today + dt.timedelta(days=1)


def resolve_filters(
    session: Session, user: Any, args: Mapping[str, str], *, today: dt.date, dialect: str
) -> tuple[DashboardFilters, Scope]:
    """Read and check the filters; at most two queries (agencies, insurers in scope)."""
    filters = DashboardFilters()
    organisation_id = visible_organisation_id(user)
    raw_organisation = args.get("organisation_id", "").strip()
    if is_superadmin(user):
        filters.may_choose_organisation = True
        rows = session.execute(
            select(Organisation.id, Organisation.name).order_by(Organisation.name, Organisation.id)
        )
        filters.organisations = [Choice(row.id, row.name) for row in rows]
        if raw_organisation:
            chosen = parse_id(raw_organisation)
            if chosen in {choice.id for choice in filters.organisations}:
                organisation_id = chosen
            else:
                filters.errors.append(str(_("Unknown agency: showing every agency.")))
    elif raw_organisation and parse_id(raw_organisation) != organisation_id:
        # Only a platform operator may look at another agency: same answer as an unknown one.
        filters.errors.append(str(_("Unknown agency: showing your agency.")))
    filters.organisation_id = organisation_id

    insurers = select(Company.id, Company.name).order_by(Company.name, Company.id)
    if organisation_id is not None:
        insurers = insurers.where(Company.organisation_id == organisation_id)
    filters.insurers = [Choice(row.id, row.name) for row in session.execute(insurers)]
    raw_company = args.get("company_id", "").strip()
    if raw_company:
        chosen = parse_id(raw_company)
        if chosen in {choice.id for choice in filters.insurers}:
            filters.company_id = chosen
        else:
            filters.errors.append(str(_("Unknown insurer: showing every insurer.")))

    raw_months = args.get("months", "").strip()
    if raw_months:
        if raw_months in {str(months) for months in PERIOD_MONTHS}:
            filters.months = int(raw_months)
        else:
            filters.errors.append(
                str(_("Unknown period: showing the last %(months)d months.", months=DEFAULT_MONTHS))
            )

    start, end = period_bounds(today, filters.months)
    scope = Scope(
        organisation_id=organisation_id,
        company_id=filters.company_id,
        start=start,
        end=end,
        today=today,
        dialect=dialect,
    )
    return filters, scope
