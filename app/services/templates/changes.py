"""Changing and deleting a template (the REST API's PUT and DELETE).

Decisions:
- ``output_format`` never changes: every version's body is written for one
  format (an HTML page is not a sheet description). Make a new template instead.
- ``kind`` may change only while the template has no version. Once versions
  exist, documents may have been made from it, and their file names and
  retention period (issue 6) follow the kind they were made as.
- A template is deleted with its versions, and only while no document points at
  it (the documents name the version that made them): 422 otherwise.
- Shared templates are changed and deleted by the platform operator only
  (ForbiddenError), like every other write (access.check_writable).

Like the rest of the package: the acting user is explicit, nothing is committed,
and each change is audited in the caller's transaction.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Document, Template, TemplateKind, TemplateVersion
from app.models.base import ModelValidationError
from app.models.validators import clean_text
from app.services.errors import InvalidRequestError
from app.services.templates.access import check_writable
from app.services.templates.authoring import (
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    _audit,
    _choice,
    _locale,
)

EDITABLE_FIELDS = ("name", "kind", "output_format", "locale", "description")


def update_template(
    session: Session, user: Any, template: Template, changes: dict[str, Any]
) -> Template:
    """Apply ``changes`` (a subset of EDITABLE_FIELDS) after checking them all at once."""
    check_writable(user, template)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for field, value in changes.items():
        try:
            values[field] = _checked(session, template, field, value)
        except ModelValidationError as error:
            errors.update(error.errors)
    if errors:
        raise ModelValidationError(errors)
    before = {field: _plain(getattr(template, field)) for field in values}
    for field, value in values.items():
        setattr(template, field, value)
    session.flush()
    diff = {
        field: [before[field], _plain(getattr(template, field))]
        for field in values
        if before[field] != _plain(getattr(template, field))
    }
    if diff:
        _audit(session, user, "update", template, diff)
    return template


def delete_template(session: Session, user: Any, template: Template) -> None:
    """Delete a template and its versions; refused while a document uses it."""
    check_writable(user, template)
    used = session.execute(
        select(Document.id).where(Document.template_id == template.id).limit(1)
    ).first()
    if used is not None:
        raise InvalidRequestError(
            _("Documents were made from this template: it cannot be deleted.")
        )
    _audit(session, user, "delete", template, {"name": template.name})
    # The template points at its published version and the versions at the
    # template: break the first link, then delete the versions, then the row.
    template.published_version = None
    session.flush()
    # Through the ORM, so the session does not try to detach the loaded versions.
    for version in list(template.versions):
        session.delete(version)
    session.flush()
    session.delete(template)
    session.flush()


def _checked(session: Session, template: Template, field: str, value: Any) -> Any:
    if field == "name":
        name = clean_text("name", value, required=True, max_length=NAME_MAX_LENGTH)
        if _name_taken(session, template, name or ""):
            raise ModelValidationError({"name": _("A template with this name already exists.")})
        return name
    if field == "description":
        return clean_text("description", value, required=False, max_length=DESCRIPTION_MAX_LENGTH)
    if field == "locale":
        return _locale(value)
    if field == "output_format":
        raise ModelValidationError(
            {"output_format": _("The output format cannot change: create a new template.")}
        )
    if field == "kind":
        kind = _choice("kind", value, TemplateKind)
        if kind != template.kind and _has_versions(session, template):
            raise ModelValidationError(
                {"kind": _("The kind cannot change once the template has versions.")}
            )
        return kind
    raise ModelValidationError({field: _("Unknown field.")})


def _name_taken(session: Session, template: Template, name: str) -> bool:
    owner = (
        Template.organisation_id.is_(None)
        if template.organisation_id is None
        else Template.organisation_id == template.organisation_id
    )
    query = select(Template.id).where(
        owner, func.lower(Template.name) == name.lower(), Template.id != template.id
    )
    return session.execute(query.limit(1)).first() is not None


def _has_versions(session: Session, template: Template) -> bool:
    query = select(TemplateVersion.id).where(TemplateVersion.template_id == template.id)
    return session.execute(query.limit(1)).first() is not None


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)
