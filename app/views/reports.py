"""Starting a report from the dashboard: its buttons (dashboard/_reports.html) post here.

A thin door over app.services.reports: the dashboard's current filters come as
hidden fields, the job is started, and the browser goes to the job's screen,
which follows its progress and links to the delivered document. A refusal
flashes its message and goes back to the dashboard, never an error page.
"""

from __future__ import annotations

import re
from typing import Any

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from app import permissions
from app.extensions import db
from app.models import JobKind, OutputFormat
from app.services.claims.report import CLAIMS
from app.services.errors import DomainError
from app.services.reports import start_tabular_job
from app.services.reports.portfolio import PORTFOLIO, PREMIUMS
from app.services.reports.receipts import RECEIPTS
from app.services.scope import current_user

ID_PATTERN = re.compile(r"^[1-9][0-9]{0,9}$")
MAX_ID = 2**31 - 1
FIELDS = ("insurer_id", "date_from", "date_to", "organisation_id")


class ReportView(BaseView):
    route_base = "/reports"
    class_permission_name = permissions.REPORT
    method_permission_name = {
        "portfolio": permissions.WRITE,
        "premiums": permissions.WRITE,
        "receipts": permissions.WRITE,
        "claims": permissions.WRITE,
    }

    @expose("/portfolio", methods=["POST"])
    @has_access
    def portfolio(self) -> Response:
        return self._start(PORTFOLIO)

    @expose("/premiums", methods=["POST"])
    @has_access
    def premiums(self) -> Response:
        return self._start(PREMIUMS)

    @expose("/receipts", methods=["POST"])
    @has_access
    def receipts(self) -> Response:
        # The accountant's CSV or the XLSX: the same journal (an unknown format flashes).
        return self._start(RECEIPTS, request.form.get("format") or OutputFormat.xlsx.value)

    @expose("/claims", methods=["POST"])
    @has_access
    def claims(self) -> Response:
        return self._start(CLAIMS)

    def _start(self, name: str, output_format: str = OutputFormat.xlsx.value) -> Response:
        filters = _form_filters(request.form)
        back = url_for("DashboardView.index")
        if isinstance(filters, str):
            flash(filters, "warning")
            return redirect(back)
        organisation_id = filters.pop("organisation_id", None)
        try:
            job = start_tabular_job(
                db.session,
                current_user(),
                job_kind=JobKind.report,
                name=name,
                params=filters,
                output_format=output_format,
                organisation_id=organisation_id,
            )
        except DomainError as error:
            db.session.rollback()
            message = " ".join([error.message, *(str(text) for text in error.errors.values())])
            flash(message, "warning")
            return redirect(back)
        except SQLAlchemyError:
            db.session.rollback()
            flash(_("The database is unavailable, try again later."), "danger")
            return redirect(back)
        flash(_("Report started: it is being prepared."), "info")
        return redirect(url_for("JobView.show", pk=job.id))


def _form_filters(form: Any) -> dict[str, Any] | str:
    """The non-empty filters of the form (ids as int); a message for a malformed id."""
    filters: dict[str, Any] = {}
    for name in FIELDS:
        value = (form.get(name) or "").strip()
        if not value:
            continue
        if name.endswith("_id"):
            if not ID_PATTERN.match(value) or int(value) > MAX_ID:
                return _("The report's filters are not valid.")
            filters[name] = int(value)
        else:
            filters[name] = value
    return filters
