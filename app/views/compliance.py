"""Conformité > Tableau de conformité: the managers' page of app/services/compliance/page.py.

Each section's rows link to the record they are about; which screen that is depends on
the row's kind, mapped here (the service knows no URL). A kind whose screen the reader
may not open is shown without a link.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as __
from flask_babel import lazy_gettext as _

from app import permissions
from app.extensions import db
from app.services.compliance.page import Row, compliance_page
from app.services.scope import organisation_for_new_rows
from app.views.dates import reader_today
from app.views.labels import date_formatter
from app.views.training import hours_text

# Row kind -> (endpoint, the resource it needs, how the row's id goes into the URL).
LINKS: dict[str, tuple[str, str, str]] = {
    "complaint": ("ComplaintView.show", permissions.COMPLAINT, "pk"),
    "user": ("TrainingView.list", permissions.TRAINING, "_flt_0_user"),
    "client": ("ClientView.show", permissions.CLIENT, "pk"),
    "policy": ("PolicyView.show", permissions.POLICY, "pk"),
}
# A section's "open the list" link, by the screen it names.
SCREENS: dict[str, tuple[str, str]] = {
    "complaints": ("ComplaintView.list", permissions.COMPLAINT),
    "training": ("TrainingView.hours_page", permissions.TRAINING),
    "purge": ("PurgeView.list", permissions.PURGE),
    "compliance_documents": ("ComplianceDocumentView.list", permissions.PROPOSAL),
}
DEADLINES = {"acknowledgement": _("Acknowledgement due"), "answer": _("Answer due")}


class CompliancePageView(BaseView):
    route_base = "/compliance"
    default_view = "page"
    class_permission_name = permissions.COMPLIANCE
    method_permission_name = {"page": permissions.READ}

    def _may(self, resource: str) -> bool:
        return bool(self.appbuilder.sm.has_access("can_read", resource))

    def _link(self, link: tuple[str, int]) -> str | None:
        kind, row_id = link
        target = LINKS.get(kind)
        if target is None or not self._may(target[1]):
            return None
        endpoint, _resource, argument = target
        return url_for(endpoint, **{argument: row_id})

    @staticmethod
    def _detail(section: str, row: Row) -> str:
        if section == "complaints":
            return str(DEADLINES.get(row.detail, ""))
        if section == "training":
            return __("%(hours)s h of 15", hours=hours_text(row.detail))
        if section == "retention":
            return __("Retention period over")
        if section == "der":
            return __("DER not signed")
        if section == "fic":
            return __("Contract started without a signed FIC")
        return row.detail

    @expose("/")
    @has_access
    def page(self) -> Any:
        today = reader_today()
        organisation_id = organisation_for_new_rows()
        sections = (
            compliance_page(db.session, organisation_id, today)
            if organisation_id is not None
            else []
        )
        screens = {
            name: url_for(endpoint)
            for name, (endpoint, resource) in SCREENS.items()
            if self._may(resource)
        }
        return self.render_template(
            "compliance/page.html",
            sections=sections,
            screens=screens,
            links=self._link,
            details=self._detail,
            day=date_formatter,
            today=today,
            title=_("Compliance overview"),
        )
