"""Export buttons of the list screens: the list as CSV or XLSX, as it is filtered and sorted.

A screen opts in with ``ExportMixin`` (first among its bases). The door parses
the list arguments, asks app.services.exports for the plan (FAB's filters, the
screen's base filters for the scope, its order), then streams the file and
audits it — or, beyond ``EXPORT_SYNC_MAX_ROWS`` rows, starts a job that
delivers the file as a Document and sends the user to the Jobs screen.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any

from babel.numbers import get_decimal_symbol
from flask import abort, current_app, flash, redirect, request, stream_with_context, url_for
from flask_appbuilder import expose
from flask_appbuilder.exceptions import ApplyFilterException
from flask_appbuilder.security.decorators import has_access
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from app.extensions import db
from app.services.errors import DomainError
from app.services.exports import (
    ExportColumn,
    ExportPlan,
    ListExport,
    list_args,
    plan_export,
    plan_rows,
    record_export,
)
from app.services.exports.writers import csv_chunks, xlsx_file
from app.services.scope import current_user, visible_organisation_id
from app.views.base import AGENCY_FILTER
from app.views.labels import COLUMN_LABELS, money_formatter
from app.views.responses import content_disposition

log = logging.getLogger(__name__)
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ExportMixin:
    """Adds ``/<view>/export/<csv|xlsx>`` and the buttons (screens/list_export.html)."""

    list_template = "screens/list_export.html"
    # The columns exported (default: the list's); labels replacing the list's ones.
    export_columns: Sequence[str] | None = None
    export_labels: dict[str, Any] = {}
    # Datetime columns written in UTC rather than in the reader's time zone.
    export_utc_columns: Sequence[str] = ()
    export_file_stem = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "datamodel", None) is not None:
            register_export(cls.__name__, partial(list_export_of, cls))

    @expose("/export/<fmt>")
    @has_access
    def export(self, fmt: str) -> Response:
        """The list's rows (every page) as a file, or a job when there are too many."""
        if fmt not in MEDIA_TYPES:
            abort(404)
        name = type(self).__name__
        export = list_export_of(type(self))
        session = db.session
        try:
            args = list_args(export, request.args.items(multi=True))
            plan = plan_export(session, export, args, self._base_filters)  # type: ignore[attr-defined]
        except DomainError as error:
            flash(error.message, "warning")
            return redirect(url_for(f"{name}.list"))
        except (SQLAlchemyError, ApplyFilterException, ValueError, TypeError):
            # A filter value the column cannot hold: the request is wrong, not the server.
            session.rollback()
            log.info("export filter refused on %s", name, exc_info=True)
            flash(_("These filters cannot be applied: change them and export again."), "warning")
            return redirect(url_for(f"{name}.list"))
        if plan.total > current_app.config["EXPORT_SYNC_MAX_ROWS"]:
            return start_export_job(plan, fmt)
        record_export(session, plan, fmt)
        session.commit()
        return export_response(plan, fmt)


def list_export_of(view: Any) -> ListExport:
    """What the export of this list screen (class) reads and writes."""
    datamodel = view.datamodel
    formatters = view.formatters_columns or {}
    columns: list[ExportColumn] = []
    for name in view.export_columns or view.list_columns:
        label = view.export_labels.get(name) or view.label_columns.get(name) or name
        formatter = formatters.get(name)
        if formatter is money_formatter:
            # The amount as a number, and its currency beside it.
            columns.append(ExportColumn(label, partial(_money_part, datamodel, name, "amount")))
            currency = partial(_money_part, datamodel, name, "currency")
            columns.append(ExportColumn(COLUMN_LABELS["currency"], currency))
        elif formatter is not None and (datamodel.is_enum(name) or datamodel.is_boolean(name)):
            # A few distinct values: translate each once per export, not once per row.
            labels: dict[Any, Any] = {}
            columns.append(ExportColumn(label, partial(_formatted, name, formatter, labels)))
        else:
            value = partial(datamodel._get_attr_value, col=name)
            columns.append(ExportColumn(label, value, in_utc=name in view.export_utc_columns))
    return ListExport(
        name=view.__name__,
        file_stem=view.export_file_stem or datamodel.obj.__tablename__,
        title=view.list_title or view.__name__,
        datamodel=datamodel,
        search_columns=tuple(view.search_columns or ()),
        order_columns=tuple(view.order_columns or ()),
        base_order=tuple(view.base_order) if view.base_order else None,
        columns=columns,
    )


def export_response(plan: ExportPlan, fmt: str) -> Response:
    """CSV streamed as the rows are read; XLSX from its spooled file."""
    export = plan.export
    file_name = f"{export.file_stem}-{dt.datetime.now(dt.UTC).date().isoformat()}.{fmt}"
    if fmt == "csv":
        symbol = get_decimal_symbol(str(get_locale() or "fr"))
        chunks = csv_chunks(export.header, _streamed_rows(plan), decimal_symbol=symbol)
        response = Response(stream_with_context(chunks))
    else:
        spool = xlsx_file(export.header, plan_rows(plan), title=str(export.title))
        response = Response(wrap_file(request.environ, spool), direct_passthrough=True)
    response.headers["Content-Type"] = MEDIA_TYPES[fmt]
    response.headers["Content-Disposition"] = content_disposition(file_name)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _streamed_rows(plan: ExportPlan) -> Iterator[list[Any]]:
    """The rows, read while the answer streams, after the request's own teardown.

    That teardown already removed the session the query is bound to; reading
    opens a new transaction on it, which nothing else would end: close it here,
    or the connection stays "idle in transaction", holding its locks.
    """
    session = plan.query.session
    try:
        yield from plan_rows(plan)
    finally:
        session.close()


def start_export_job(plan: ExportPlan, fmt: str) -> Response:
    """Too many rows for one answer: a job writes the file, the Jobs screen follows it."""
    name = plan.export.name
    limit = current_app.config["EXPORT_SYNC_MAX_ROWS"]
    organisation_id = None
    if visible_organisation_id() is None:
        # A job covers one organisation; this list spans all of them (SUPERADMIN),
        # unless its agency filter (the policy list's) picks one.
        organisation_id = _chosen_agency(plan.args)
        if organisation_id is None:
            flash(
                _(
                    "%(count)d rows across every organisation: exports beyond %(limit)d rows"
                    " run for one organisation. Narrow the filters.",
                    count=plan.total,
                    limit=limit,
                ),
                "warning",
            )
            return redirect(url_for(f"{name}.list"))
    from app.models import JobKind
    from app.services.exports.jobs import PRODUCER
    from app.services.reports import start_tabular_job

    session = db.session
    user = current_user()
    params = {"view": name, "format": fmt, "args": [list(pair) for pair in plan.args]}
    try:
        job = start_tabular_job(
            session,
            user,
            job_kind=JobKind.export,
            name=PRODUCER,
            params=params,
            output_format=fmt,
            organisation_id=organisation_id,
        )
    except DomainError as error:
        session.rollback()
        flash(error.message, "warning")
        return redirect(url_for(f"{name}.list"))
    record_export(session, plan, fmt, job_id=job.id, organisation_id=job.organisation_id)
    session.commit()
    message = _(
        "%(count)d rows are more than an export answers at once (%(limit)d): a job is"
        " preparing the file, which will be among your documents.",
        count=plan.total,
        limit=limit,
    )
    link = url_for("JobView.show", pk=job.id)
    flash(Markup('{} <a href="{}">{}</a>').format(message, link, _("Follow the job")), "info")
    return redirect(url_for("JobView.list"))


def _chosen_agency(args: Sequence[tuple[str, str]]) -> int | None:
    """The one agency an "agency equal to" filter of the list names, if exactly one."""
    chosen = {value for key, value in args if key == AGENCY_FILTER}
    if len(chosen) != 1:
        return None
    value = chosen.pop()
    return int(value) if value.isdigit() else None


def register_export(name: str, factory: Callable[[], ListExport]) -> None:
    from app.services.exports.jobs import register_list_export

    register_list_export(name, factory)


def _money_part(datamodel: Any, name: str, part: str, item: Any) -> Any:
    money = datamodel._get_attr_value(item, name)
    return getattr(money, part, None)


def _formatted(
    name: str, formatter: Callable[[Any], Any], labels: dict[Any, Any], item: Any
) -> Any:
    value = getattr(item, name)
    if value not in labels:
        labels[value] = formatter(value)
    return labels[value]
