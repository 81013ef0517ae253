"""Organisation scoping: the one place every screen, API and query asks.

A user sees the rows of their own organisation; SUPERADMIN sees every
organisation. A user who belongs to none (and is not SUPERADMIN) sees nothing.

``visible_rows_clause`` answers the same question for any model, so that the
values FAB offers for a relation (the API's ``_info``, the screens' selects,
search filters) come through the scope as the rows themselves do.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, has_request_context
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import ColumnElement, false, inspect, or_, select
from sqlalchemy.orm import Query

from app.models import Organisation, Template, TemplateVersion

SUPERADMIN = "SUPERADMIN"
NO_ORGANISATION = -1  # matches no row: ids are positive


def current_user() -> Any | None:
    """The authenticated user of this request (session or JWT), or None."""
    if not has_request_context():
        return None
    user = current_app.appbuilder.sm.current_user
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def is_superadmin(user: Any | None) -> bool:
    return user is not None and any(role.name == SUPERADMIN for role in user.roles)


def visible_organisation_id(user: Any | None = None) -> int | None:
    """The organisation this user may see, or None when they may see all of them."""
    user = user if user is not None else current_user()
    if user is None:
        return NO_ORGANISATION
    cache = g.setdefault("_organisation_scope", {})
    if user.id not in cache:
        if is_superadmin(user):
            cache[user.id] = None
        else:
            cache[user.id] = user.organisation_id or NO_ORGANISATION
    return cache[user.id]


def organisation_for_new_rows(user: Any | None = None) -> int | None:
    """The organisation a new row takes: the user's own (SUPERADMIN may have none)."""
    user = user if user is not None else current_user()
    return getattr(user, "organisation_id", None)


class FilterByOrganisation(BaseFilter):
    """FAB base filter restricting a model with ``organisation_id`` to the user's scope."""

    name = "Organisation scope"

    def apply(self, query: Query, value: Any) -> Query:
        organisation_id = visible_organisation_id()
        if organisation_id is None:
            return query
        return query.filter(self.model.organisation_id == organisation_id)


ORGANISATION_BASE_FILTERS = [["organisation_id", FilterByOrganisation, None]]


# Shared by every agency: the role catalogue is one list (which roles a user may
# grant is app/services/users.py's question, not a row scope).
SHARED_MODELS: frozenset[type] = frozenset({Role})


def visible_rows_clause(model: type, organisation_id: int | None) -> ColumnElement[bool] | None:
    """SQL condition on ``model``: the rows a user scoped to ``organisation_id`` may see.

    None when every row is visible (SUPERADMIN, whose scope is None, or a shared
    model). A model with no rule here and no ``organisation_id`` column is
    offered to no one but SUPERADMIN: a new model is closed until it says otherwise.
    """
    if organisation_id is None or model in SHARED_MODELS:
        return None
    if model is Organisation:
        return Organisation.id == organisation_id
    if model is Template:  # the agency's own templates and the shared ones (NULL)
        return or_(Template.organisation_id == organisation_id, Template.organisation_id.is_(None))
    if model is TemplateVersion:
        templates = select(Template.id).where(visible_rows_clause(Template, organisation_id))
        return TemplateVersion.template_id.in_(templates)
    column = getattr(model, "organisation_id", None)
    if column is not None:  # organisation-owned rows, users (ab_user) and jobs among them
        return column == organisation_id
    return false()


class FilterVisibleRows(BaseFilter):
    """FAB filter for any model: the rows the current user may see (visible_rows_clause)."""

    name = "Visible rows"

    def apply(self, query: Query, value: Any) -> Query:
        clause = visible_rows_clause(self.model, visible_organisation_id())
        return query if clause is None else query.filter(clause)


def visible_rows_filters(model: type) -> list[list[Any]]:
    """FAB filter list (base filters, ``*_query_rel_fields``) scoping ``model`` to the user."""
    return [[inspect(model).primary_key[0].key, FilterVisibleRows, None]]
