"""The audit log screen (MANAGER: own organisation; SUPERADMIN: all) with its exports
(app/views/exports.py), and the history of one client, policy or claim for whoever may see that
object.

Both show entries in words (app/views/audit_cells.py): local time, who, the action's
label, the object's name linked to its page."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_babel import lazy_gettext as _
from sqlalchemy import String, and_, cast, or_, select
from wtforms import SelectField

from app import permissions
from app.extensions import db
from app.models import AuditLog, Claim, Client, Message, Policy
from app.models.audit import AUDIT_FIELDS
from app.services.scope import ORGANISATION_BASE_FILTERS, visible_organisation_id
from app.services.vocabulary import ACTION_LABELS, OBJECT_LABELS, action_label, object_label
from app.views.audit_cells import AuditListInterface, entry_cells
from app.views.base import GuardedModelView
from app.views.exports import ExportMixin

HISTORY_SUBJECTS: dict[str, type] = {"client": Client, "policy": Policy, "claim": Claim}
# The message column naming each subject: its history shows the e-mails sent about it.
MESSAGE_SUBJECTS: dict[str, Any] = {
    "client": Message.client_id,
    "policy": Message.policy_id,
    "claim": Message.claim_id,
}
# The export is evidence: every field of each entry, the raw codes beside their labels,
# and the time in UTC beside the local time (docs/operations.md, "Audit trail").
EXPORT_COLUMNS = [
    "created_at",
    "created_at_utc",
    "username",
    "organisation_id",
    "action_label",
    "action",
    "object_label",
    "object_type",
    "object_id",
    "changes",
    "request_id",
    "ip",
    "user_agent",
]


def sorted_choices(labels: dict[str, Any]) -> Any:
    """(code, label) pairs in the reader's alphabetical order, built for each form."""
    return lambda: sorted(((code, str(label)) for code, label in labels.items()), key=_label)


def _label(choice: tuple[str, str]) -> str:
    return choice[1].casefold()


class AuditLogView(ExportMixin, GuardedModelView):
    class_permission_name = permissions.AUDIT_LOG
    method_permission_name = permissions.SCREEN_METHODS
    # Append-only: no add, edit or delete route exists, whoever asks.
    include_route_methods = {"list", "show", "export"}
    route_base = "/audit"
    datamodel = AuditListInterface(
        AuditLog,
        computed={
            "created_at_utc": lambda entry: entry.created_at,
            "action_label": lambda entry: action_label(entry.action),
            "object_label": lambda entry: object_label(entry.object_type),
        },
    )
    base_filters = ORGANISATION_BASE_FILTERS
    list_title = _("Audit log")
    show_title = _("Audit entry")
    list_columns = ["created_at", "username", "action", "object_type", "object_id", "ip"]
    show_columns = ["created_at", "username", "organisation_id", *AUDIT_FIELDS[3:]]
    search_columns = ["username", "action", "object_type", "object_id", "created_at"]
    order_columns = ["created_at", "username", "action", "object_type"]
    base_order = ("created_at", "desc")
    # Searched by their words; the code is what the filter compares.
    search_form_extra_fields = {
        "action": SelectField(
            _("Action"), choices=sorted_choices(ACTION_LABELS), widget=Select2Widget()
        ),
        "object_type": SelectField(
            _("Object type"), choices=sorted_choices(OBJECT_LABELS), widget=Select2Widget()
        ),
    }
    label_columns = {
        "created_at": _("Date"),
        "created_at_utc": _("Date (UTC)"),
        "username": _("User"),
        "organisation_id": _("Organisation"),
        "action": _("Action"),
        "action_label": _("Action"),
        "object_type": _("Object type"),
        "object_label": _("Object type"),
        "object_id": _("Object"),
        "changes": _("Changes"),
        "request_id": _("Request id"),
        "ip": _("IP address"),
        "user_agent": _("User agent"),
    }
    export_columns = EXPORT_COLUMNS
    export_labels = {
        "action": _("Action code"),
        "object_type": _("Object type code"),
        "object_id": _("Object id"),
    }
    export_utc_columns = ("created_at_utc",)
    export_file_stem = "audit-log"


class HistoryView(BaseView):
    """The change history of one client, policy or claim the user may see."""

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
        # The record's own changes, and the e-mails sent about it (app/services/mail).
        messages = select(cast(Message.id, String)).where(MESSAGE_SUBJECTS[subject] == pk)
        query = (
            select(AuditLog)
            .where(
                or_(
                    and_(AuditLog.object_type == model.__name__, AuditLog.object_id == str(pk)),
                    and_(AuditLog.object_type == "Message", AuditLog.object_id.in_(messages)),
                )
            )
            .order_by(AuditLog.id.desc())
            .limit(500)
        )
        rows = list(entry_cells(db.session.scalars(query).all()))
        return self.render_template("audit/history.html", item=item, subject=subject, rows=rows)


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
