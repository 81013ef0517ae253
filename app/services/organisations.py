"""Organisations (agencies): checks before one is written or deleted. Never commits."""

from __future__ import annotations

from typing import Any

from flask_appbuilder.models.filters import BaseFilter
from flask_babel import gettext as _
from sqlalchemy import exists, func, inspect, select
from sqlalchemy.orm import Query, Session

from app.models import AppUser, Organisation
from app.models.base import ModelValidationError, OrganisationOwned
from app.models.validators import clean_text
from app.services.scope import visible_organisation_id

NAME_MAX_LENGTH = 200


class FilterVisibleOrganisations(BaseFilter):
    """FAB base filter on Organisation: all for SUPERADMIN, otherwise the user's own."""

    name = "Visible organisations"

    def apply(self, query: Query, value: Any) -> Query:
        organisation_id = visible_organisation_id()
        if organisation_id is None:
            return query
        return query.filter(Organisation.id == organisation_id)


ORGANISATION_SELF_FILTERS = [["id", FilterVisibleOrganisations, None]]


def check_organisation(session: Session, organisation: Organisation) -> None:
    """Clean the name and refuse a name or ORIAS number another organisation has."""
    errors: dict[str, str] = {}
    try:
        organisation.name = clean_text(
            "name", organisation.name, required=True, max_length=NAME_MAX_LENGTH
        )
    except ModelValidationError as error:
        errors.update(error.errors)
    duplicates = {
        "name": (
            func.lower(Organisation.name) == (organisation.name or "").lower(),
            _("An agency with this name already exists."),
        ),
        "orias_number": (
            Organisation.orias_number == organisation.orias_number,
            _("An agency with this ORIAS number already exists."),
        ),
    }
    for field, (condition, message) in duplicates.items():
        if field in errors or not getattr(organisation, field):
            continue
        query = select(Organisation.id).where(condition)
        if organisation.id is not None:
            query = query.where(Organisation.id != organisation.id)
        if session.execute(query.limit(1)).first() is not None:
            errors[field] = message
    if errors:
        raise ModelValidationError(errors)


def organisation_in_use(session: Session, organisation_id: int) -> bool:
    """True while any user or organisation-owned row (of any model, present or future) has it."""
    owners: list[Any] = [AppUser]
    owners += [
        mapper.class_
        for mapper in inspect(Organisation).registry.mappers
        if issubclass(mapper.class_, OrganisationOwned)
    ]
    return any(
        session.execute(select(exists().where(owner.organisation_id == organisation_id))).scalar()
        for owner in owners
    )


def check_deletable(session: Session, organisation: Organisation) -> None:
    """Refuse to delete an organisation that still has users or data (422 on the API)."""
    if organisation_in_use(session, organisation.id):
        raise ModelValidationError(
            {"": _("This agency still has users or data: it cannot be deleted.")}
        )
