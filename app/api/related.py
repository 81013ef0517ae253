"""Related values of the REST API's ``_info``, through the organisation scope.

FAB's ``_info`` lists the rows a relation may point to (``add_columns`` and
``edit_columns``, paged) with the related model's own query, which knows nothing
of our base filters (design.md §5): unscoped, it names the policies, templates,
jobs and users of every agency. Every related-value query goes through here, and
its paging is checked like a list's (FAB passes a negative or huge page on as an
OFFSET PostgreSQL refuses, and reads any page size asked for).
"""

from __future__ import annotations

from typing import Any

from marshmallow.fields import Field
from werkzeug.wrappers import Response

from app.api.query import QueryArgumentError, check_page_args
from app.services.scope import visible_rows_filters

# The ``_info`` keys whose columns carry related values, paged per column.
PAGED_KEYS = ("add_columns", "edit_columns")


class ScopedRelatedValues:
    """ModelRestApi mixin: ``_info`` offers only related rows the caller may see."""

    datamodel: Any
    max_page_size: int

    def info_headless(self, **kwargs: Any) -> Response:
        args = kwargs.get("rison", {})
        cap = getattr(self, "page_size_cap", self.max_page_size)
        try:
            for key in PAGED_KEYS:
                for column_args in (args.get(key) or {}).values():
                    check_page_args(column_args, cap)
        except QueryArgumentError as error:
            return self.response_400(message=str(error))
        return super().info_headless(**kwargs)

    def _get_list_related_field(
        self,
        field: Field,
        filter_rel_field: list[Any],
        page: int | None = None,
        page_size: int | None = None,
    ) -> tuple[int, list[dict[str, Any]]]:
        model = self.datamodel.get_related_model(field.name)
        scoped = [*visible_rows_filters(model), *(filter_rel_field or [])]
        return super()._get_list_related_field(field, scoped, page=page, page_size=page_size)
