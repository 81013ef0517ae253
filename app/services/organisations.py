"""Organisations (agencies): checks before one is written or deleted, and what a new one
starts with (the default task categories and rules). Never commits."""

from __future__ import annotations

from typing import Any

from flask_appbuilder.models.filters import BaseFilter
from flask_babel import gettext as _
from sqlalchemy import exists, func, inspect, select
from sqlalchemy.orm import Query, Session

from app.models import AppUser, Organisation
from app.models.base import ModelValidationError, OrganisationOwned
from app.models.validators import clean_email, clean_phone, clean_text
from app.services.scope import visible_organisation_id

NAME_MAX_LENGTH = 200
# What the agency's documents print (letterhead, DER): optional, field -> most characters.
LETTERHEAD_LENGTHS = {
    "address": 250,
    "postal_code": 10,
    "city": 100,
    "complaints_contact": 1000,
    "mediator": 1000,
}
LETTERHEAD_FIELDS = (
    "address",
    "postal_code",
    "city",
    "phone",
    "email",
    "complaints_contact",
    "mediator",
)

# The agency as a SEPA creditor (app/services/premiums/debits.py); checked by the model.
SEPA_CREDITOR_FIELDS = ("sepa_creditor_identifier", "sepa_creditor_iban", "sepa_creditor_bic")
# The premium run's settings (app/services/premiums, app/services/mail/reminders.py): days
# before a due date notices are issued and reminded, days after it the relance goes, and
# whether those two go by e-mail or by letter. Defaults on creation; changed on edit.
PREMIUM_SETTINGS_FIELDS = (
    "premium_issue_days",
    "reminder_days",
    "relance_days",
    "reminder_channel",
)


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
    errors.update(_clean_letterhead(organisation))
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


def add_organisation(session: Session, organisation: Organisation) -> None:
    """Check and add a new agency with its default task categories and rules (flushed).

    Both doors (the screen and /api/v1/organisation/) create agencies here, so a new
    agency's work queue works from its first day, as the demo agency's does; the caller's
    commit writes the agency and its defaults together.
    """
    from app.services.tasks.defaults import install_defaults

    check_organisation(session, organisation)
    session.add(organisation)
    session.flush()
    install_defaults(session, organisation.id)


def _clean_letterhead(organisation: Organisation) -> dict[str, str]:
    """Trim the letterhead fields (empty -> None) and return the errors of those that fail."""
    errors: dict[str, str] = {}
    for field in LETTERHEAD_FIELDS:
        value = getattr(organisation, field)
        try:
            if field == "email":
                value = clean_email(field, value)
            elif field == "phone":
                value = clean_phone(field, value)
            else:
                value = clean_text(
                    field, value, required=False, max_length=LETTERHEAD_LENGTHS[field]
                )
        except ModelValidationError as error:
            errors.update(error.errors)
            continue
        if value != getattr(organisation, field):
            setattr(organisation, field, value)
    return errors


def _settings() -> tuple[type, ...]:
    """The agency's own settings, which every agency has from its creation (add_organisation)
    or its managers configure (claim checklists): they do not make it "in use" and go with it
    when it is deleted. Rules before categories (a rule names its category)."""
    from app.models import ClaimChecklistItem, TaskCategory, TaskRule

    return (TaskRule, TaskCategory, ClaimChecklistItem)


def organisation_in_use(session: Session, organisation_id: int) -> bool:
    """True while any user or organisation-owned row (of any model, present or future) has it.

    Its settings (_settings) do not count.
    """
    owners: list[Any] = [AppUser]
    owners += [
        mapper.class_
        for mapper in inspect(Organisation).registry.mappers
        if issubclass(mapper.class_, OrganisationOwned) and mapper.class_ not in _settings()
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


def prepare_deletion(session: Session, organisation: Organisation) -> None:
    """Refuse (check_deletable), else delete the agency's settings before the agency."""
    check_deletable(session, organisation)
    for model in _settings():
        # One by one (a dozen rows): the audit trail records each, as any deletion.
        for row in session.scalars(select(model).where(model.organisation_id == organisation.id)):
            session.delete(row)
        session.flush()
