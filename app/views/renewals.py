"""The Échéances screen: the agency's renewal cycles, their deadlines, and two bulk actions.

A list of renewal cycles like every list (organisation scope, remembered sort, CSV and
XLSX exports of what it shows). Its filters on the contract (insurer, line of
business) and "days before the échéance" are conditions of
app/services/renewals/listing.py, offered as FAB filters so the list, its URLs and its
exports read them alike. Everyone reads the list; generating the avis and renewing
many contracts at once is a manager's (``can_batch`` on ``Renewal``, docs/permissions.md).
The filters and the list's interface are app/views/renewal_filters.py.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as __
from flask_babel import lazy_gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response
from wtforms import IntegerField, SelectField
from wtforms.fields.choices import SelectChoice

from app import permissions
from app.models import (
    LineOfBusiness,
    NoticeChannel,
    RenewalCycle,
    RenewalDecision,
    RenewalStatus,
)
from app.services.errors import DomainError
from app.services.renewals import listing
from app.services.renewals.batch import renew_many
from app.services.renewals.notices import send_avis_batch
from app.services.scope import current_user
from app.views.base import OrganisationModelView
from app.views.dates import reader_today
from app.views.exports import ExportMixin
from app.views.fields import EnumSelectField, LookupSelectField
from app.views.labels import (
    COLUMN_LABELS,
    Money,
    column_labels,
    date_formatter,
    enum_formatter,
    money_formatter,
    percent_change,
)
from app.views.renewal_filters import RenewalListInterface

QUICK_DAYS = (30, 60, 90)
REFUSALS_SHOWN = 10  # a flash per refused contract, up to this many


# --- cells -------------------------------------------------------------------------
def _contract_link(policy: Any) -> Any:
    if policy is None:
        return ""
    return Markup('<a href="{}">{}</a>').format(
        url_for("PolicyView.show", pk=policy.id), policy.number
    )


def _late_badge(late: Any) -> Any:
    if not late:
        return ""
    return Markup('<span class="label label-danger">{}</span>').format(__("Late avis"))


def _currency(cycle: RenewalCycle) -> str:
    return cycle.policy.currency


class RenewalCycleView(ExportMixin, OrganisationModelView):
    route_base = "/renewals"
    list_template = "renewals/list.html"
    class_permission_name = permissions.RENEWAL
    method_permission_name = permissions.RENEWAL_SCREEN_METHODS
    # Cycles are opened by the rules (app/services/renewals/cycles.py), never typed in.
    include_route_methods = {"list", "show", "export", "action", "action_post"}
    datamodel = RenewalListInterface(
        RenewalCycle,
        eager=("policy.client", "policy.company"),
        computed={
            "client": lambda cycle: cycle.policy.client,
            "insurer": lambda cycle: cycle.policy.company,
            "previous_premium": lambda cycle: Money(cycle.previous_premium, _currency(cycle)),
            "proposed_premium": lambda cycle: Money(cycle.proposed_premium, _currency(cycle)),
            # The export's number (the currency is beside the previous premium).
            "proposed_amount": lambda cycle: cycle.proposed_premium,
            "avis_late": lambda cycle: listing.avis_late(cycle, reader_today()),
        },
    )
    list_title = _("Échéances")
    show_title = _("Renewal")
    export_file_stem = "echeances"

    list_columns = [
        "policy",
        "client",
        "insurer",
        "echeance",
        "last_day_to_refuse",
        "avis_sent_on",
        "previous_premium",
        "proposed_premium",
        "change_percent",
        "decision",
        "avis_late",
    ]
    export_columns = [*list_columns[:7], "proposed_amount", *list_columns[8:]]
    export_labels = {"proposed_amount": COLUMN_LABELS["proposed_premium"]}
    nowrap_columns = ("policy", "echeance", "last_day_to_refuse", "avis_sent_on", "avis_late")
    show_columns = [
        "policy",
        "client",
        "insurer",
        "status",
        "echeance",
        "last_day_to_refuse",
        "avis_sent_on",
        "avis_channel",
        "chatel_window_end",
        "previous_premium",
        "proposed_premium",
        "change_percent",
        "decision",
        "decision_reason",
        "avis_late",
    ]
    search_columns = [
        "due_within",
        "insurer",
        "line_of_business",
        "change_percent",
        "decision",
        "avis_sent",
        "status",
        "echeance",
    ]
    order_columns = [
        "echeance",
        "last_day_to_refuse",
        "avis_sent_on",
        "previous_premium",
        "proposed_premium",
        "change_percent",
        "decision",
    ]
    base_order = ("echeance", "asc")
    label_columns = {
        **column_labels(*show_columns, *search_columns),
        "proposed_amount": COLUMN_LABELS["proposed_premium"],
    }
    formatters_columns = {
        "policy": _contract_link,
        "previous_premium": money_formatter,
        "proposed_premium": money_formatter,
        "change_percent": percent_change,
        "decision": enum_formatter(RenewalDecision),
        "status": enum_formatter(RenewalStatus),
        "avis_channel": enum_formatter(NoticeChannel),
        "avis_late": _late_badge,
        "echeance": date_formatter,
        "last_day_to_refuse": date_formatter,
        "avis_sent_on": date_formatter,
        "chatel_window_end": date_formatter,
    }
    search_form_extra_fields = {
        "due_within": IntegerField(
            COLUMN_LABELS["due_within"], widget=BS3TextFieldWidget(), default=30
        ),
        "insurer": LookupSelectField(_("Insurer"), kind="company"),
        "line_of_business": EnumSelectField(_("Line of business"), enum_class=LineOfBusiness),
        "decision": EnumSelectField(_("Decision"), enum_class=RenewalDecision),
        "status": EnumSelectField(_("Status"), enum_class=RenewalStatus),
        "avis_sent": SelectField(
            COLUMN_LABELS["avis_sent"],
            choices=[SelectChoice("y", _("Yes")), SelectChoice("n", _("No"))],
            widget=Select2Widget(),
        ),
    }

    @expose("/export/<fmt>")
    @has_access
    def export(self, fmt: str) -> Response:
        reader_today()  # before the rows stream (see reader_today)
        return super().export(fmt)

    def render_template(self, template: str, **kwargs: Any) -> Any:
        # The quick filters of the list: "dans 30 / 60 / 90 jours".
        kwargs.setdefault("quick_days", QUICK_DAYS)
        return super().render_template(template, **kwargs)

    # --- bulk actions (MANAGER and above: can_batch) ------------------------------
    @action(
        "send_avis",
        _("Generate the avis"),
        # No straight quote: FAB puts the confirmation in a quoted script string.
        _("Generate the renewal notices of the selected contracts and record them as sent today?"),
        "fa-envelope-o",
        multiple=True,
        single=False,
    )
    def send_avis(self, items: list[RenewalCycle]) -> Response:
        if not items:
            return self._nothing_selected()
        session = self.datamodel.session
        try:
            job = send_avis_batch(session, current_user(), [cycle.id for cycle in items])
        except DomainError as error:
            session.rollback()
            flash(error.message, "danger")
            return redirect(self.get_redirect())
        message = ngettext(
            "%(num)d avis d'échéance is being generated and recorded as sent.",
            "%(num)d avis d'échéance are being generated and recorded as sent.",
            len(items),
        )
        link = url_for("JobView.show", pk=job.id)
        flash(
            Markup('{} <a href="{}">{}</a>').format(message, link, __("Follow the job")),
            "success",
        )
        return redirect(self.get_redirect())

    @action(
        "email_avis",
        _("E-mail the avis"),
        _("E-mail the avis d’échéance of the selected contracts to their clients?"),
        "fa-paper-plane-o",
        multiple=True,
        single=False,
    )
    def email_avis(self, items: list[RenewalCycle]) -> Response:
        """Each cycle's avis (made first when missing) attached to the built-in e-mail."""
        if not items:
            return self._nothing_selected()
        from app.services.mail.avis import email_avis

        session = self.datamodel.session
        try:
            result = email_avis(session, current_user(), [cycle.id for cycle in items])
        except DomainError as error:
            session.rollback()
            flash(error.message, "danger")
            return redirect(self.get_redirect())
        flash(
            Markup('{} <a href="{}">{}</a>').format(
                ngettext(
                    "%(num)d avis d'échéance is being e-mailed.",
                    "%(num)d avis d'échéance are being e-mailed.",
                    len(result.message_ids),
                ),
                url_for("MessageView.list"),
                __("Outbox"),
            ),
            "success",
        )
        if result.skipped:
            flash(
                ngettext(
                    "%(num)d client has no e-mail address: nothing sent to them.",
                    "%(num)d clients have no e-mail address: nothing sent to them.",
                    len(result.skipped),
                ),
                "warning",
            )
        return redirect(self.get_redirect())

    @action(
        "renew_cycles",
        _("Renew"),
        _("Renew the selected contracts? Each one gets its next term, under the same number."),
        "fa-refresh",
        multiple=True,
        single=False,
    )
    def renew_cycles(self, items: list[RenewalCycle]) -> Response:
        if not items:
            return self._nothing_selected()
        session = self.datamodel.session
        try:
            result = renew_many(session, items)
            session.commit()
        except SQLAlchemyError:
            session.rollback()
            flash(str(self.database_error_message), "danger")
            return redirect(self.get_redirect())
        if result.renewed:
            flash(
                ngettext(
                    "%(num)d contract renewed.",
                    "%(num)d contracts renewed.",
                    len(result.renewed),
                ),
                "success",
            )
        if result.refused:
            flash(
                ngettext(
                    "%(num)d contract left as it was:",
                    "%(num)d contracts left as they were:",
                    len(result.refused),
                ),
                "warning",
            )
            for number, reason in result.refused[:REFUSALS_SHOWN]:
                flash(__("%(number)s: %(reason)s", number=number, reason=reason), "warning")
        return redirect(self.get_redirect())

    def _nothing_selected(self) -> Response:
        flash(__("No renewal selected."), "warning")
        return redirect(self.get_redirect())
