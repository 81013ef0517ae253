"""Organisation scoping: the one place every screen, API and query asks.

A user sees the rows of their own organisation; SUPERADMIN sees every
organisation. A user who belongs to none (and is not SUPERADMIN) sees nothing.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, has_request_context
from flask_appbuilder.models.filters import BaseFilter
from sqlalchemy.orm import Query

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
