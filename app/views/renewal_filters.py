"""The Échéances list's filters on the contract (insurer, line of business), the avis
and the calendar ("days before the échéance"): conditions of
app/services/renewals/listing.py offered as FAB filters, so the list
(app/views/renewals.py), its URLs and its exports read them alike."""

from __future__ import annotations

from typing import Any

from flask_appbuilder.models.filters import BaseFilter, Filters
from flask_babel import lazy_gettext as _
from sqlalchemy import false
from sqlalchemy.orm import Query

from app.services.renewals import listing
from app.views.date_filters import LocalDateFilterConverter
from app.views.dates import reader_today
from app.views.fields import parse_id
from app.views.interface import ListInterface


class _ConditionFilter(BaseFilter):
    """A FAB filter whose condition comes from app/services/renewals/listing.py.

    No ``arg_name``: FAB would register it in its global map of the API's operators.
    """

    name = _("Equal to")

    def condition(self, value: Any) -> Any:
        raise NotImplementedError

    def apply(self, query: Query, value: Any) -> Query:
        return query.filter(self.condition(value))


class InsurerFilter(_ConditionFilter):
    def condition(self, value: Any) -> Any:
        return listing.insurer_is(parse_id(value))


class LineFilter(_ConditionFilter):
    def condition(self, value: Any) -> Any:
        return listing.line_is(str(value))


class AvisSentFilter(_ConditionFilter):
    def condition(self, value: Any) -> Any:
        if value not in ("y", "n"):
            return false()  # neither yes nor no: nothing matches
        return listing.avis_sent(value == "y")


class DueWithinFilter(_ConditionFilter):
    name = _("at most")

    def condition(self, value: Any) -> Any:
        text = str(value).strip()
        days = int(text) if text.isdigit() and len(text) <= 5 else None
        return listing.due_within(days, reader_today())


# Filter columns that are not columns of the cycle: their filters, in URL order.
VIRTUAL_FILTERS: dict[str, list[type[BaseFilter]]] = {
    "due_within": [DueWithinFilter],
    "insurer": [InsurerFilter],
    "line_of_business": [LineFilter],
    "avis_sent": [AvisSentFilter],
}


class RenewalFilterConverter(LocalDateFilterConverter):
    def convert(self, col_name: str) -> Any:
        extra = VIRTUAL_FILTERS.get(col_name)
        if extra is not None:
            return [filter_class(col_name, self.datamodel) for filter_class in extra]
        return super().convert(col_name)


class RenewalFilters(Filters):
    """FAB's filters, with the virtual columns readable from ``_flt_<n>_<column>`` too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        converter = self.filter_converter(self.datamodel)
        self._all_filters = {
            **self._all_filters,
            **{name: converter.convert(name) for name in VIRTUAL_FILTERS},
        }


class RenewalListInterface(ListInterface):
    filter_converter_class = RenewalFilterConverter

    def get_filters(
        self, search_columns: list[str] | None = None, search_filters: Any = None
    ) -> Filters:
        return RenewalFilters(
            self.filter_converter_class,
            self,
            search_columns=search_columns,
            search_filters=search_filters,
        )
