"""Conformité > Réclamations: the complaints register (ACPR recommendation 2022-R-01).

A list like every list (organisation scope, remembered sort, CSV and XLSX exports of
what it shows: the register the ACPR asks for). Its tabs are the register's states
(open, acknowledgement overdue, answer overdue, a deadline near, closed): a condition
of app/services/compliance/complaints.py offered as a FAB filter (``_flt_0_state``), so
the list, its URLs and its exports read it alike. Recording a complaint and, later,
its acknowledgement, answer, outcome and mediator named go through the same use case
as the API (``complaints.prepare``: deadlines stored, their tasks opened and closed).
A complaint is never deleted. ``/complaints/summary`` counts a year, as
``GET /api/v1/complaint/summary`` does.
"""

from __future__ import annotations

from typing import Any

from flask import abort, request
from flask_appbuilder import expose
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.filters import BaseFilter, Filters
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as __
from flask_babel import lazy_gettext as _
from markupsafe import Markup
from sqlalchemy.orm import Query
from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app import permissions
from app.models import Complaint, ComplaintChannel, ComplaintOutcome
from app.services.compliance import complaints
from app.services.scope import current_user, organisation_for_new_rows
from app.views.base import OrganisationModelView
from app.views.date_filters import LocalDateFilterConverter
from app.views.dates import reader_today
from app.views.exports import ExportMixin
from app.views.fields import EnumSelectField, LocalizedDateField, LookupSelectField
from app.views.interface import ListInterface
from app.views.labels import date_formatter, enum_formatter, enum_label, yes_no
from app.views.premium_cells import client_link, contract_link

SUBJECT_SHOWN = 80  # characters of the subject in the list; the page shows it all

LABELS: dict[str, Any] = {
    "received_on": _("Day of receipt"),
    "channel": _("Channel"),
    "client": _("Client"),
    "client_id": _("Client"),
    "subject": _("Subject"),
    "subject_start": _("Subject"),
    "policy": _("Contract"),
    "policy_id": _("Contract"),
    "claim": _("Claim"),
    "claim_id": _("Claim"),
    "acknowledgement_due_on": _("Acknowledgement due"),
    "acknowledged_on": _("Acknowledged on"),
    "acknowledgement_kept": _("Acknowledged in time"),
    "answer_due_on": _("Answer due"),
    "answered_on": _("Answered on"),
    "answer_kept": _("Answered in time"),
    "outcome": _("Outcome"),
    "mediator_named": _("Mediator named"),
    "state": _("State"),
    "deadline": _("Next deadline"),
}
STATE_LABELS: dict[str, Any] = {
    "open": _("Open"),
    "acknowledgement_overdue": _("Acknowledgement overdue"),
    "answer_overdue": _("Answer overdue"),
    "near_deadline": _("Deadline within 7 days"),
    "closed": _("Answered"),
}


class StateFilter(BaseFilter):
    """The complaints in one state of the register (no ``arg_name``: screens only)."""

    name = _("Equal to")

    def apply(self, query: Query, value: Any) -> Query:
        return query.filter(complaints.state_condition(str(value), reader_today()))


VIRTUAL_FILTERS: dict[str, list[type[BaseFilter]]] = {"state": [StateFilter]}


class ComplaintFilterConverter(LocalDateFilterConverter):
    def convert(self, col_name: str) -> Any:
        extra = VIRTUAL_FILTERS.get(col_name)
        if extra is not None:
            return [filter_class(col_name, self.datamodel) for filter_class in extra]
        return super().convert(col_name)


class ComplaintFilters(Filters):
    """FAB's filters, with the register's state readable from ``_flt_0_state`` too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        converter = self.filter_converter(self.datamodel)
        self._all_filters = {
            **self._all_filters,
            **{name: converter.convert(name) for name in VIRTUAL_FILTERS},
        }


class ComplaintListInterface(ListInterface):
    filter_converter_class = ComplaintFilterConverter

    def get_filters(
        self, search_columns: list[str] | None = None, search_filters: Any = None
    ) -> Filters:
        return ComplaintFilters(
            self.filter_converter_class,
            self,
            search_columns=search_columns,
            search_filters=search_filters,
        )


def _kept(value: bool | None) -> str:
    return "" if value is None else yes_no(value)


def _subject(text: Any) -> str:
    text = str(text or "")
    return text if len(text) <= SUBJECT_SHOWN else f"{text[: SUBJECT_SHOWN - 1]}…"


def _claim_link(claim: Any) -> str:
    return "" if claim is None else claim.number


def _deadline_cell(complaint: Complaint) -> Any:
    """The next deadline to keep, red once passed."""
    deadline = complaints.next_deadline(complaint)
    if deadline is None:
        return ""
    kind, day = deadline
    text = __("Acknowledge by %(day)s", day=date_formatter(day))
    if kind == "answer":
        text = __("Answer by %(day)s", day=date_formatter(day))
    if day < reader_today():
        return Markup('<span class="label label-danger">{}</span>').format(text)
    return text


class ComplaintView(ExportMixin, OrganisationModelView):
    route_base = "/complaints"
    list_template = "compliance/complaint_list.html"
    class_permission_name = permissions.COMPLAINT
    method_permission_name = {**permissions.SCREEN_METHODS, "summary": permissions.READ}
    # The register is what the ACPR reads: a complaint is never deleted.
    include_route_methods = {"list", "show", "add", "edit", "export", "summary"}
    datamodel = ComplaintListInterface(
        Complaint,
        eager=("client", "policy", "claim"),
        computed={
            "deadline": _deadline_cell,
            # The list shows the subject's start; the complaint's page shows it whole.
            "subject_start": lambda c: _subject(c.subject),
            "acknowledgement_kept": lambda c: _kept(complaints.acknowledgement_kept(c)),
            "answer_kept": lambda c: _kept(complaints.answer_kept(c)),
            "claim_number": lambda c: c.claim.number if c.claim is not None else "",
            "policy_number": lambda c: c.policy.number if c.policy is not None else "",
        },
    )
    list_title = _("Complaints")
    show_title = _("Complaint")
    add_title = _("New complaint")
    edit_title = _("Record the acknowledgement or the answer")
    export_file_stem = "registre-reclamations"

    list_columns = [
        "received_on",
        "client",
        "subject_start",
        "channel",
        "deadline",
        "acknowledged_on",
        "answered_on",
        "outcome",
    ]
    nowrap_columns = ("received_on", "acknowledged_on", "answered_on")
    # The ACPR register: every date, whether each deadline was kept, the mediator named.
    export_columns = [
        "id",
        "received_on",
        "channel",
        "client",
        "policy_number",
        "claim_number",
        "subject",
        "acknowledgement_due_on",
        "acknowledged_on",
        "acknowledgement_kept",
        "answer_due_on",
        "answered_on",
        "answer_kept",
        "outcome",
        "mediator_named",
    ]
    export_labels = {
        "id": _("Id"),
        "policy_number": LABELS["policy"],
        "claim_number": LABELS["claim"],
    }
    show_columns = [
        "received_on",
        "channel",
        "client",
        "policy",
        "claim",
        "subject",
        "acknowledgement_due_on",
        "acknowledged_on",
        "acknowledgement_kept",
        "answer_due_on",
        "answered_on",
        "answer_kept",
        "outcome",
        "mediator_named",
    ]
    add_columns = ["received_on", "channel", "client_id", "subject", "policy_id", "claim_id"]
    edit_columns = [
        "received_on",
        "channel",
        "subject",
        "policy_id",
        "claim_id",
        "acknowledged_on",
        "answered_on",
        "outcome",
        "mediator_named",
    ]
    search_columns = ["state", "client", "channel", "outcome", "received_on", "answer_due_on"]
    order_columns = ["received_on", "acknowledgement_due_on", "answer_due_on", "answered_on"]
    base_order = ("received_on", "desc")
    label_columns = LABELS
    description_columns = {
        "received_on": _("The deadlines run from this day."),
        "acknowledged_on": _(
            "Due within 10 jours ouvrables (Monday to Saturday) of the receipt; an answer"
            " within them acknowledges too."
        ),
        "answered_on": _("Due within 2 months of the receipt; give the outcome with it."),
        "mediator_named": _("The answer names the mediator the client may refer to."),
    }
    formatters_columns = {
        "client": client_link,
        "policy": contract_link,
        "claim": _claim_link,
        "channel": enum_formatter(ComplaintChannel),
        "outcome": enum_formatter(ComplaintOutcome),
        "mediator_named": yes_no,
    }
    add_form_extra_fields = {
        "received_on": LocalizedDateField(_("Day of receipt"), [InputRequired()]),
        "channel": EnumSelectField(_("Channel"), [InputRequired()], enum_class=ComplaintChannel),
        "client_id": LookupSelectField(
            _("Client"), [DataRequired()], kind="client", description=_("Type a name to search.")
        ),
        "subject": TextAreaField(_("Subject"), [DataRequired(), Length(max=5000)]),
        "policy_id": LookupSelectField(_("Contract"), [Optional()], kind="policy"),
        "claim_id": LookupSelectField(
            _("Claim"),
            [Optional()],
            kind="claim",
            description=_("A claim brings its contract with it."),
        ),
    }
    edit_form_extra_fields = {
        "received_on": add_form_extra_fields["received_on"],
        "channel": add_form_extra_fields["channel"],
        "subject": add_form_extra_fields["subject"],
        "policy_id": add_form_extra_fields["policy_id"],
        "claim_id": add_form_extra_fields["claim_id"],
        "acknowledged_on": LocalizedDateField(_("Acknowledged on"), [Optional()]),
        "answered_on": LocalizedDateField(_("Answered on"), [Optional()]),
        "outcome": EnumSelectField(_("Outcome"), [Optional()], enum_class=ComplaintOutcome),
        "mediator_named": BooleanField(_("Mediator named")),
    }
    search_form_extra_fields = {
        "state": SelectField(
            LABELS["state"],
            choices=[SelectChoice(key, label) for key, label in STATE_LABELS.items()],
            widget=Select2Widget(),
        ),
        "client": LookupSelectField(_("Client"), kind="client"),
        "channel": EnumSelectField(_("Channel"), enum_class=ComplaintChannel),
        "outcome": EnumSelectField(_("Outcome"), enum_class=ComplaintOutcome),
    }

    def prefill_add_form(self, form: Any) -> None:
        form.received_on.data = reader_today()
        form.channel.data = ComplaintChannel.letter

    def _prepare(self, item: Complaint) -> None:
        user = current_user()
        complaints.prepare(self.datamodel.session, item, getattr(user, "id", None), reader_today())

    def pre_add(self, item: Complaint) -> None:
        super().pre_add(item)
        self._prepare(item)

    def pre_update(self, item: Complaint) -> None:
        super().pre_update(item)
        self._prepare(item)

    @expose("/export/<fmt>")
    @has_access
    def export(self, fmt: str) -> Any:
        reader_today()  # before the rows stream (app/views/dates.py says why)
        return super().export(fmt)

    def render_template(self, template: str, **kwargs: Any) -> Any:
        kwargs.setdefault("state_tabs", list(STATE_LABELS.items()))
        return super().render_template(template, **kwargs)

    @expose("/summary")
    @has_access
    def summary(self) -> Any:
        """A year's complaints counted, and the deadlines kept (the ACPR's yearly view)."""
        today = reader_today()
        raw = request.args.get("year", str(today.year))
        if not raw.isdigit() or not 2000 <= int(raw) <= 2200:
            abort(400)
        year = int(raw)
        organisation_id = organisation_for_new_rows()
        counts = None
        if organisation_id is not None:
            counts = complaints.yearly_summary(self.datamodel.session, organisation_id, year, today)
            counts["by_outcome"] = {
                enum_label(key, ComplaintOutcome): value
                for key, value in counts["by_outcome"].items()
            }
            counts["by_channel"] = {
                enum_label(key, ComplaintChannel): value
                for key, value in counts["by_channel"].items()
            }
        return self.render_template(
            "compliance/complaint_summary.html",
            counts=counts,
            year=year,
            years=range(today.year, max(today.year - 5, 1999), -1),
            title=__("Complaints in %(year)d", year=year),
        )
