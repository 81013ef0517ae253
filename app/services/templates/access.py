"""Who sees and who writes which template.

A template belongs to one organisation, or to none: then it is shared, read by
every agency and written by the platform operator (SUPERADMIN) alone. The
role's permission (can_write on Template) is checked by the door; these
functions add the organisation rule every door must apply the same way.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Query, Session

from app.models import Template
from app.services.errors import ForbiddenError, NotFoundError
from app.services.scope import is_superadmin, visible_organisation_id, visible_rows_clause

MAX_ID = 2**31 - 1  # ids are SQL INTEGER: a larger one matches nothing (PostgreSQL refuses it)


def valid_id(value: object) -> bool:
    """True for an int id the database can hold (not a bool, a string or 2**40)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def templates_query(session: Session, user: Any) -> Query:
    """The templates ``user`` may read: their organisation's and the shared ones; SUPERADMIN all."""
    query = session.query(Template)
    clause = visible_rows_clause(Template, visible_organisation_id(user))
    return query if clause is None else query.filter(clause)


def visible_template(session: Session, user: Any, template_id: int) -> Template | None:
    """The template with this id if ``user`` may read it, else None (same answer as unknown)."""
    if not valid_id(template_id):
        return None
    return templates_query(session, user).filter(Template.id == template_id).one_or_none()


def may_read(user: Any, template: Template) -> bool:
    """The Python twin of templates_query, for one loaded template."""
    organisation_id = visible_organisation_id(user)
    return organisation_id is None or template.organisation_id in (None, organisation_id)


def may_write(user: Any, template: Template) -> bool:
    """True when ``user``'s organisation owns the template; shared ones: SUPERADMIN only."""
    if is_superadmin(user):
        return True
    if user is None or template.shared:
        return False
    return user.organisation_id is not None and template.organisation_id == user.organisation_id


def check_readable(user: Any, template: Template) -> None:
    """NotFoundError when ``user`` may not read the template (for callers without a scoped load)."""
    if not may_read(user, template):
        raise NotFoundError(_("Template not found."))


def check_writable(user: Any, template: Template) -> None:
    """NotFoundError outside the user's scope, ForbiddenError for a shared template."""
    check_readable(user, template)
    if not may_write(user, template):
        raise ForbiddenError(_("Only the platform operator changes shared templates."))
