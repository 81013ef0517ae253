"""Relation selects of the screens, through the organisation scope.

FAB builds a select for each relation of an add, edit or search form from the
related model's own query, blind to our base filters (design.md §5): unscoped, a
document's form would offer every agency's policies, templates, jobs and users.
Every screen puts each relation column's query through app.services.scope; a
filter a screen declares itself (``*_query_rel_fields``) still narrows it further.
The filters run when the select is filled, so each request gets its user's scope.

A list screen renders its search form on every page: FAB fills each of its relation
selects with ``datamodel.query(filters)[1]``, a COUNT the select throws away and then
the rows. The search form's selects here read the same rows, filtered and ordered
the same way, without the COUNT.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask_appbuilder.fields import QuerySelectField, QuerySelectMultipleField
from wtforms.fields.core import UnboundField

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
        self._search_selects_without_count()

    def _search_selects_without_count(self) -> None:
        form = getattr(self, "search_form", None)
        rel_fields = getattr(self, "search_form_query_rel_fields", None) or {}
        for name in getattr(self, "search_columns", None) or []:
            field = getattr(form, name, None)
            if (
                isinstance(field, UnboundField)
                and field.field_class in (QuerySelectField, QuerySelectMultipleField)
                and name in rel_fields
            ):
                field.kwargs["query_func"] = related_rows(self.datamodel, name, rel_fields[name])


def related_rows(datamodel: Any, name: str, filters: list[Any]) -> Callable[[], list[Any]]:
    """FAB's choices for the ``name`` select (its filters, its order), without its COUNT."""
    related = datamodel.get_related_interface(name)
    built = related.get_filters().add_filter_list(filters)
    return lambda: related.apply_all(related.session.query(related.obj), built).all()


def scoped_screen(view: type) -> type:
    """``view`` with scoped relation selects, under the same name (same permissions, routes)."""
    return type(view.__name__, (ScopedRelatedFields, view), {"__doc__": view.__doc__})
