"""What a list export reads: the list screen's own filters, order and scope, all rows.

The list screens are FAB ModelViews; an export applies the same list arguments
(``_flt_<n>_<column>``, ``_oc_<View>``/``_od_<View>``) through the same FAB
machinery (the view's ``Filters``, ``datamodel.apply_all``) with the screen's
base filters (the organisation scope), so it holds exactly the rows the list
shows, on every page. Page and page-size arguments are ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_appbuilder.models.filters import Filters
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_babel import gettext as _
from sqlalchemy.orm import Query, Session

from app.services import audit
from app.services.errors import InvalidRequestError
from app.services.exports.cells import Cell, ExportColumn, cell
from app.services.timezones import reader_zone, to_local

# FAB's own patterns (flask_appbuilder.urltools): one digit picks the filter kind.
FILTER_ARG = re.compile(r"^_flt_(\d)_(.+)$")
ORDER_ARG = re.compile(r"^_(oc|od)_(.+)$")
MAX_ARGS = 50
MAX_ARG_LENGTH = 500
CHUNK_ROWS = 1000  # rows per database round trip (and per eager-load query)


@dataclass(frozen=True)
class ListExport:
    """A list screen as an export sees it (built by the screen: app/views/exports.py)."""

    name: str  # the screen's class name, as in its _oc_/_od_ arguments
    file_stem: str
    title: Any
    datamodel: Any  # the screen's SQLAInterface
    search_columns: Sequence[str]
    order_columns: Sequence[str]
    base_order: tuple[str, str] | None
    columns: Sequence[ExportColumn]

    @property
    def model(self) -> type:
        return self.datamodel.obj

    @property
    def header(self) -> list[str]:
        return [str(column.label) for column in self.columns]


@dataclass(frozen=True)
class ExportPlan:
    """The query of one export and its row count."""

    export: ListExport
    args: list[tuple[str, str]]
    query: Query
    total: int
    # The reader's time zone when the export was planned: its datetimes are written in it.
    zone: dt.tzinfo = field(default=dt.UTC)


def list_args(export: ListExport, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The filter and order arguments of this list, in their order (page arguments dropped)."""
    kept: list[tuple[str, str]] = []
    for key, value in pairs:
        order = ORDER_ARG.match(key)
        if FILTER_ARG.match(key) or (order and order.group(2) == export.name):
            kept.append((str(key), str(value)))
    if len(kept) > MAX_ARGS or any(len(v) > MAX_ARG_LENGTH for _k, v in kept):
        raise InvalidRequestError(_("Too many or too long filters."))
    return kept


def build_filters(export: ListExport, args: Sequence[tuple[str, str]]) -> Filters:
    """A fresh FAB ``Filters`` with the list's search filters set from ``args``.

    Like FAB's ``get_filter_args``, columns outside the search columns are ignored
    (so ``_flt_0_organisation_id`` cannot widen anything); an unknown filter kind
    is refused instead of raising IndexError.
    """
    filters = export.datamodel.get_filters(list(export.search_columns))
    allowed = filters.get_search_filters()
    seen: set[str] = set()
    for key, _value in args:
        match = FILTER_ARG.match(key)
        if match is None or key in seen or match.group(2) not in allowed:
            continue
        seen.add(key)
        index, column = int(match.group(1)), match.group(2)
        if index >= len(allowed[column]):
            raise InvalidRequestError(_("Unknown filter on %(column)s.", column=column))
        filters.add_filter_index(column, index, [v for k, v in args if k == key])
    return filters


def order_of(export: ListExport, args: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """The list's order: its _oc_/_od_ arguments, or the screen's default order."""
    values = dict(args)
    column = values.get(f"_oc_{export.name}")
    direction = values.get(f"_od_{export.name}")
    if column is None or direction not in ("asc", "desc"):
        return export.base_order or ("", "")  # FAB ignores an order without a direction
    if column not in export.order_columns:
        raise InvalidRequestError(_("This list cannot be sorted by %(column)s.", column=column))
    return column, direction


def organisation_scope(export: ListExport, organisation_id: int) -> Filters:
    """The scope of a job (no user, no request): one organisation's rows."""
    return export.datamodel.get_filters().add_filter(
        "organisation_id", FilterEqual, organisation_id
    )


def plan_export(
    session: Session, export: ListExport, args: Sequence[tuple[str, str]], scope: Filters
) -> ExportPlan:
    """The export's query (filters + scope + order, no page) and its row count.

    Counting runs the filters on the database, so a value the column cannot hold
    fails here, before any byte is sent.
    """
    filters = build_filters(export, args).get_joined_filters(scope)
    order_column, order_direction = order_of(export, args)
    datamodel = export.datamodel
    total = datamodel.query_count(session.query(export.model), filters)
    query = datamodel.apply_all(session.query(export.model), filters, order_column, order_direction)
    # Rows equal on the sort column come out in a stable order (the list's tie is arbitrary).
    query = query.order_by(datamodel.get_pk())
    return ExportPlan(export, list(args), query, int(total), reader_zone())


def plan_rows(plan: ExportPlan, chunk: int | None = None) -> Iterator[list[Cell]]:
    """The rows of the export, read ``chunk`` at a time (eager loads run once per chunk)."""
    columns = plan.export.columns
    zone = plan.zone
    for item in plan.query.yield_per(chunk or CHUNK_ROWS):
        yield [cell(_in_zone(column, column.value(item), zone)) for column in columns]


def _in_zone(column: ExportColumn, value: Any, zone: dt.tzinfo) -> Any:
    # Stored datetimes are UTC; the reader's spreadsheet shows them as the screen does.
    if isinstance(value, dt.datetime) and not column.in_utc:
        return to_local(value, zone)
    return value


def record_export(
    session: Session,
    plan: ExportPlan,
    output: str,
    *,
    job_id: int | None = None,
    organisation_id: int | None = None,
) -> None:
    """The audit row of an export (added to the session; the caller commits)."""
    details: dict[str, Any] = {
        "format": output,
        "filters": [list(pair) for pair in plan.args],
        "rows": plan.total,
    }
    if job_id is not None:
        details["job_id"] = job_id
    audit.record(
        session,
        "export",
        plan.export.model.__name__,
        None,
        details,
        organisation_id=organisation_id,
    )
