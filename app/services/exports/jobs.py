"""Exports too large to answer at once: a tabular job (app/services/reports) per export.

The request checks the list arguments and stores them; the worker, which has no
user and no request, replays them through the same ``plan_export`` with the
job's organisation as the scope, so the file holds what the list showed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from babel.numbers import get_decimal_symbol
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.models import JobKind
from app.services.errors import InvalidRequestError
from app.services.exports.cells import Cell, csv_text
from app.services.exports.listing import (
    ListExport,
    build_filters,
    list_args,
    order_of,
    organisation_scope,
    plan_export,
    plan_rows,
)
from app.services.reports import Sheet, Tabular, TabularRequest, register_producer

PRODUCER = "list-export"
FORMATS = ("csv", "xlsx")

# Screen class name -> builder of its ListExport (registered by app/views/exports.py).
_EXPORTS: dict[str, Callable[[], ListExport]] = {}


def register_list_export(name: str, factory: Callable[[], ListExport]) -> None:
    """Make the list screen ``name`` exportable by a job."""
    _EXPORTS[name] = factory


def list_export(name: Any) -> ListExport | None:
    factory = _EXPORTS.get(name) if isinstance(name, str) else None
    return factory() if factory is not None else None


def check(
    session: Session, user: Any, organisation_id: int, params: dict[str, Any]
) -> dict[str, Any]:
    """The stored parameters: the screen, the format and its list arguments, validated.

    The scope needs nothing stored: the job covers ``organisation_id`` only.
    """
    export = list_export(params.get("view"))
    if export is None:
        raise InvalidRequestError(_("This list cannot be exported."))
    output = params.get("format")
    if output not in FORMATS:
        message = _("Choose xlsx or csv.")
        raise InvalidRequestError(message, {"format": message})
    raw = params.get("args") or []
    if not isinstance(raw, list) or not all(
        isinstance(pair, list | tuple) and len(pair) == 2 for pair in raw
    ):
        raise InvalidRequestError(_("Too many or too long filters."))
    args = list_args(export, [(str(key), str(value)) for key, value in raw])
    build_filters(export, args)
    order_of(export, args)
    return {"view": export.name, "format": output, "args": [list(pair) for pair in args]}


def produce(session: Session, request: TabularRequest) -> Tabular:
    """The export's one sheet, read from the database as the runner writes it."""
    params = request.params
    export = list_export(params.get("view"))
    if export is None:
        from app.services.reports import TabularError

        raise TabularError(_("This list cannot be exported."))
    args = [(str(key), str(value)) for key, value in params.get("args", [])]
    plan = plan_export(session, export, args, organisation_scope(export, request.organisation_id))

    def rows() -> Iterator[list[Cell]]:
        if params.get("format") != "csv":
            return plan_rows(plan)
        # The runner writes CSV numbers with a dot: give it the reader's text instead.
        symbol = get_decimal_symbol(str(get_locale() or "fr"))
        return ([csv_text(value, symbol) for value in row] for row in plan_rows(plan))

    sheet = Sheet(title=str(export.title), header=export.header, rows=rows, total=plan.total)
    return Tabular(file_stem=export.file_stem, sheets=[sheet])


register_producer(PRODUCER, produce, check=check, job_kind=JobKind.export)
