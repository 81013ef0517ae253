"""The manager dashboard (MANAGER and above: own agency; SUPERADMIN: any, or all).

A thin door: read the filters (refused values flash and fall back to defaults),
run the aggregates of app.services.dashboard, draw them as SVG.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, request
from flask_appbuilder import BaseView, expose, has_access

from app import permissions
from app.extensions import db
from app.services.dashboard import load_dashboard, resolve_filters
from app.services.dashboard.filters import PERIOD_MONTHS
from app.services.scope import current_user
from app.views.dashboard_charts import build_charts
from app.views.dates import reader_today
from app.views.labels import date_formatter


class DashboardView(BaseView):
    route_base = "/dashboard"
    class_permission_name = permissions.DASHBOARD
    method_permission_name = {"index": permissions.READ}
    default_view = "index"

    @expose("/", methods=["GET"])
    @has_access
    def index(self) -> Any:
        session = db.session
        filters, scope = resolve_filters(
            session,
            current_user(),
            request.args,
            today=reader_today(),
            dialect=session.get_bind().dialect.name,
        )
        for message in filters.errors:
            flash(message, "warning")
        data = load_dashboard(session, scope)
        return self.render_template(
            "dashboard/index.html",
            filters=filters,
            scope=scope,
            charts=build_charts(data),
            period_choices=PERIOD_MONTHS,
            agency=_agency_name(filters),
            period_start=date_formatter(scope.start),
            period_end=date_formatter(scope.end - dt.timedelta(days=1)),
        )


def _agency_name(filters: Any) -> str | None:
    """The chosen agency's name for the title (from the choices already loaded)."""
    for choice in filters.organisations:
        if choice.id == filters.organisation_id:
            return choice.label
    return None
