"""The audit log screen (MANAGER: own organisation; SUPERADMIN: all) with its exports
(app/views/exports.py), and the history of one client or policy for whoever may see that object."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_appbuilder import BaseView, ModelView, expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _
from sqlalchemy import select

from app import permissions
from app.extensions import db
from app.models import AuditLog, Client, Policy
from app.models.audit import AUDIT_FIELDS
from app.services.scope import ORGANISATION_BASE_FILTERS, visible_organisation_id
from app.views.exports import ExportMixin
from app.views.related import ScopedRelatedFields

EXPORT_COLUMNS = list(AUDIT_FIELDS)
HISTORY_SUBJECTS: dict[str, type] = {"client": Client, "policy": Policy}


class AuditLogView(ExportMixin, ScopedRelatedFields, ModelView):
    class_permission_name = permissions.AUDIT_LOG
    method_permission_name = permissions.SCREEN_METHODS
    # Append-only: no add, edit or delete route exists, whoever asks.
    include_route_methods = {"list", "show", "export"}
    route_base = "/audit"
    datamodel = SQLAInterface(AuditLog)
    base_filters = ORGANISATION_BASE_FILTERS
    list_title = _("Audit log")
    show_title = _("Audit entry")
    list_columns = ["created_at", "username", "action", "object_type", "object_id", "ip"]
    show_columns = ["created_at", "username", "organisation_id", *EXPORT_COLUMNS[3:]]
    search_columns = ["username", "action", "object_type", "object_id", "created_at"]
    order_columns = ["created_at", "username", "action", "object_type"]
    base_order = ("created_at", "desc")
    label_columns = {
        "created_at": _("Date (UTC)"),
        "username": _("User"),
        "organisation_id": _("Organisation"),
        "action": _("Action"),
        "object_type": _("Object"),
        "object_id": _("Id"),
        "changes": _("Changes"),
        "request_id": _("Request id"),
        "ip": _("IP address"),
        "user_agent": _("User agent"),
    }
    # An audit export is evidence: every field of each entry, not only the list's.
    export_columns = EXPORT_COLUMNS
    export_file_stem = "audit-log"


class HistoryView(BaseView):
    """The change history of one client or policy the user may see."""

    class_permission_name = permissions.HISTORY
    method_permission_name = permissions.SCREEN_METHODS

    route_base = "/history"
    default_view = "history"

    @expose("/<subject>/<int:pk>")
    @has_access
    def history(self, subject: str, pk: int) -> Any:
        model = HISTORY_SUBJECTS.get(subject)
        if model is None:
            abort(404)
        item = _visible_item(model, pk)
        query = (
            select(AuditLog)
            .where(AuditLog.object_type == model.__name__, AuditLog.object_id == str(pk))
            .order_by(AuditLog.id.desc())
            .limit(500)
        )
        entries = db.session.scalars(query).all()
        return self.render_template(
            "audit/history.html", item=item, subject=subject, entries=entries
        )


def _visible_item(model: type, pk: int) -> Any:
    if pk > 2**63 - 1:
        abort(404)
    query = select(model).where(model.id == pk)
    organisation_id = visible_organisation_id()
    if organisation_id is not None:
        query = query.where(model.organisation_id == organisation_id)
    item = db.session.scalars(query).first()
    if item is None:
        abort(404)  # not 403: existence outside the organisation must not leak
    return item
