"""Relation selects of the screens, through the organisation scope.

FAB builds a select for each relation of an add, edit or search form from the
related model's own query, blind to our base filters (design.md §5): unscoped, a
document's form would offer every agency's policies, templates, jobs and users.
Every screen puts each relation column's query through app.services.scope; a
filter a screen declares itself (``*_query_rel_fields``) still narrows it further.
The filters run when the select is filled, so each request gets its user's scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.services.scope import visible_rows_filters

# Form attribute of FAB's views -> the view attribute naming that form's columns.
FORM_COLUMNS = {
    "add_form_query_rel_fields": "add_columns",
    "edit_form_query_rel_fields": "edit_columns",
    "search_form_query_rel_fields": "search_columns",
}


def scoped_rel_fields(
    datamodel: Any, columns: Iterable[str], declared: dict[str, list[Any]] | None
) -> dict[str, list[Any]]:
    """``declared`` with the scope filter put first on every relation among ``columns``."""
    fields = {name: list(filters) for name, filters in (declared or {}).items()}
    for name in columns:
        if datamodel.is_relation(name):
            model = datamodel.get_related_model(name)
            fields[name] = [*visible_rows_filters(model), *fields.get(name, [])]
    return fields


class ScopedRelatedFields:
    """ModelView (or chart view) mixin: relation selects offer only rows the user may see."""

    datamodel: Any

    def _init_forms(self) -> None:
        # Set on the instance, before FAB builds the forms: class attributes stay as declared.
        for attribute, columns in FORM_COLUMNS.items():
            declared = getattr(self, attribute, None)
            names = getattr(self, columns, None) or []
            setattr(self, attribute, scoped_rel_fields(self.datamodel, names, declared))
        super()._init_forms()


def scoped_screen(view: type) -> type:
    """``view`` with scoped relation selects, under the same name (same permissions, routes)."""
    return type(view.__name__, (ScopedRelatedFields, view), {"__doc__": view.__doc__})
