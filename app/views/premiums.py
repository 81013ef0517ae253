"""Comptabilité: the premium notices (Quittances) and the unpaid work list (Impayés).

Both list the agency's notices (organisation scope, remembered sort) and export them as
CSV or XLSX as filtered; the work list shows only those in the unpaid procedure, one
tab per stage. A notice's page shows its
allocations and, for MANAGER and above (PremiumNotice can_write, as on the API), its
cancellation and the formal notice recorded sent. The work list's three bulk letters are
a manager's (``can_batch`` on ``PremiumNotice``, as the Échéances screen's on Renewal).
The doors call app/services/premiums; a refusal is flashed.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as __
from flask_babel import lazy_gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Query, joinedload
from werkzeug.wrappers import Response
from wtforms import DateField, StringField
from wtforms.validators import InputRequired, Length, Optional

from app import permissions
from app.extensions import db
from app.models import (
    Allocation,
    Collection,
    NoticeKind,
    NoticeStatus,
    PaymentMethod,
    PaymentStatus,
    PremiumNotice,
    UnpaidStage,
)
from app.services.errors import DomainError
from app.services.premiums import letters, procedure
from app.services.renewals.contracts import agency_today
from app.services.scope import current_user
from app.views.base import OrganisationModelView
from app.views.exports import ExportMixin
from app.views.fields import EnumSelectField, LookupSelectField
from app.views.labels import Money, date_formatter, enum_formatter, enum_label, money_formatter
from app.views.premium_cells import (
    NoticeListInterface,
    client_link,
    contract_link,
    labels,
    money_of,
)
from app.views.record_tasks import RecordTasksBlock

# The work list's tabs, in the order the procedure runs (L113-3).
WORK_STAGES = (
    UnpaidStage.reminder_due,
    UnpaidStage.overdue,
    UnpaidStage.formal_notice_possible,
    UnpaidStage.in_formal_notice,
    UnpaidStage.suspended,
    UnpaidStage.cancellable,
)
OPEN = (NoticeStatus.issued, NoticeStatus.partly_paid, NoticeStatus.unpaid)


def amount_text(amount: Any, currency: str | None) -> str:
    """An amount with its currency in the reader's style, for templates."""
    return Money(amount, currency).format()


def flash_refusal(error: DomainError) -> None:
    """The refusal's message, then each field's message (rule codes have no spaces)."""
    flash(str(error.message), "danger")
    for message in (getattr(error, "errors", None) or {}).values():
        text = str(message)
        if " " in text and text != str(error.message):
            flash(text, "danger")


class FormalNoticeForm(FlaskForm):
    sent_on = DateField(_("Sent on"), [InputRequired()])
    registered_letter_number = StringField(
        _("Registered letter number"), [Optional(), Length(max=40)]
    )


def _computed() -> dict[str, Any]:
    return {
        "client": lambda notice: notice.policy.client,
        "insurer": lambda notice: notice.policy.company,
        "total": money_of("total"),
        "paid_amount": money_of("paid_amount"),
        "balance": lambda notice: Money(notice.balance, notice.currency),
        "amount_before_tax": money_of("amount_before_tax"),
        "taxes": money_of("taxes"),
        "fees": money_of("fees"),
    }


class PremiumNoticeView(RecordTasksBlock, ExportMixin, OrganisationModelView):
    show_template = "premiums/notice_show.html"
    tasks_record = "premium_notice"
    class_permission_name = permissions.PREMIUM_NOTICE
    method_permission_name = permissions.PREMIUM_SCREEN_METHODS
    # Notices are issued by the daily run and the API, never typed in.
    include_route_methods = {
        "list",
        "show",
        "export",
        "action",
        "action_post",
        "cancel_notice",
        "formal_notice",
    }
    # The contract, its client and insurer: three queries per page, not three per row.
    datamodel = NoticeListInterface(
        PremiumNotice, eager=("policy.client", "policy.company"), computed=_computed()
    )
    list_title = _("Premium notices")
    show_title = _("Notice")
    # The list as the accountant reads it: amounts as numbers, the currency beside them.
    export_file_stem = "quittances"

    list_columns = [
        "number",
        "policy",
        "client",
        "insurer",
        "due_on",
        "total",
        "balance",
        "status",
        "stage",
        "collection",
    ]
    nowrap_columns = ("number", "policy", "due_on", "total", "balance")
    show_columns = [
        "number",
        "policy",
        "client",
        "insurer",
        "kind",
        "instalment",
        "period_start",
        "period_end",
        "due_on",
        "pay_by",
        "amount_before_tax",
        "taxes",
        "fees",
        "total",
        "paid_amount",
        "balance",
        "collection",
        "status",
        "stage",
        "issued_on",
        "reminded_on",
        "relanced_on",
        "formal_notice_sent_on",
        "registered_letter_number",
        "suspension_on",
        "cancellable_on",
        "restored_at",
        "cancelled_on",
    ]
    search_columns = ["number", "status", "stage", "due_on", "insurer", "collection", "kind"]
    order_columns = ["number", "due_on", "total", "status", "stage"]
    base_order = ("due_on", "asc")
    label_columns = labels(*show_columns)
    formatters_columns = {
        "policy": contract_link,
        "client": client_link,
        "total": money_formatter,
        "paid_amount": money_formatter,
        "balance": money_formatter,
        "amount_before_tax": money_formatter,
        "taxes": money_formatter,
        "fees": money_formatter,
        "status": enum_formatter(NoticeStatus),
        "stage": enum_formatter(UnpaidStage),
        "kind": enum_formatter(NoticeKind),
        "collection": enum_formatter(Collection),
        "instalment": lambda value: "" if value is None else str(value),
        "insurer": lambda company: "" if company is None else company.name,
        "registered_letter_number": lambda value: value or "",
        **{
            name: date_formatter
            for name in (
                "period_start",
                "period_end",
                "due_on",
                "pay_by",
                "issued_on",
                "reminded_on",
                "relanced_on",
                "formal_notice_sent_on",
                "suspension_on",
                "cancellable_on",
                "restored_at",
                "cancelled_on",
            )
        },
    }
    search_form_extra_fields = {
        "status": EnumSelectField(_("Status"), enum_class=NoticeStatus),
        "stage": EnumSelectField(_("Unpaid stage"), enum_class=UnpaidStage),
        "insurer": LookupSelectField(_("Insurer"), kind="company"),
        "collection": EnumSelectField(_("Collected"), enum_class=Collection),
        "kind": EnumSelectField(_("Kind"), enum_class=NoticeKind),
    }

    # --- the notice's page: its allocations, and what a manager may do -------------
    def _get_show_widget(self, pk: Any, item: PremiumNotice, **kwargs: Any) -> dict[str, Any]:
        widgets = super()._get_show_widget(pk, item, **kwargs)
        widgets["allocations"] = list(
            db.session.scalars(
                select(Allocation)
                .options(joinedload(Allocation.payment))
                .where(Allocation.premium_notice_id == item.id)
                .order_by(Allocation.id)
            )
        )
        widgets["notice"] = item
        widgets["formal_notice_form"] = FormalNoticeForm(formdata=None)
        return widgets

    def render_template(self, template: str, **kwargs: Any) -> Any:
        kwargs.setdefault("payment_method", lambda value: enum_label(value, PaymentMethod))
        kwargs.setdefault("payment_status", lambda value: enum_label(value, PaymentStatus))
        kwargs.setdefault("money", amount_text)
        kwargs.setdefault("open_statuses", OPEN)
        kwargs.setdefault("day", date_formatter)
        return super().render_template(template, **kwargs)

    def _scoped_notice(self, pk: str) -> PremiumNotice:
        notice = self.datamodel.get(self._parse_pk(pk), self._base_filters)
        if notice is None:
            abort(404)
        return notice

    @expose("/cancel/<pk>", methods=["POST"])
    @has_access
    def cancel_notice(self, pk: str) -> Response:
        """Cancel a notice nothing was paid on."""
        notice = self._scoped_notice(pk)
        form = FlaskForm()
        if form.validate_on_submit():
            session = db.session
            try:
                procedure.cancel_notice(
                    session, notice, agency_today(session, notice.organisation_id)
                )
                session.commit()
            except DomainError as error:
                session.rollback()
                flash_refusal(error)
            else:
                flash(__("Notice %(number)s cancelled.", number=notice.number), "success")
        return redirect(url_for(f"{type(self).__name__}.show", pk=notice.id))

    @expose("/formal-notice/<pk>", methods=["GET", "POST"])
    @has_access
    def formal_notice(self, pk: str) -> Any:
        """Record the mise en demeure sent: its date fixes the suspension and cancellation."""
        notice = self._scoped_notice(pk)
        form = FormalNoticeForm()
        if form.validate_on_submit():
            session = db.session
            try:
                procedure.record_formal_notice(
                    session,
                    notice,
                    sent_on=form.sent_on.data,
                    registered_letter_number=form.registered_letter_number.data,
                    today=agency_today(session, notice.organisation_id),
                )
                session.commit()
            except DomainError as error:
                session.rollback()
                flash_refusal(error)
            else:
                flash(
                    __(
                        "Formal notice recorded: cover suspended from %(day)s.",
                        day=date_formatter(notice.suspension_on),
                    ),
                    "success",
                )
                return redirect(url_for(f"{type(self).__name__}.show", pk=notice.id))
        elif request.method == "POST":
            flash(__("The form has errors: please correct the fields shown below."), "danger")
        return self.render_template(
            "premiums/formal_notice.html",
            form=form,
            notice=notice,
            title=_("Record the formal notice sent"),
        )


class InWorkStages(BaseFilter):
    """Base filter of the work list: notices left to pay, somewhere in the procedure."""

    name = "in work stages"

    def apply(self, query: Query, value: Any) -> Query:
        return query.filter(PremiumNotice.stage.in_(WORK_STAGES), PremiumNotice.status.in_(OPEN))


class UnpaidNoticeView(PremiumNoticeView):
    """Impayés: the notices in the unpaid procedure, by stage, with the three bulk letters."""

    list_template = "premiums/unpaid_list.html"
    include_route_methods = {"list", "export", "action", "action_post"}
    base_filters = [*OrganisationModelView.base_filters, ["stage", InWorkStages, None]]
    list_title = _("Arrears")
    export_file_stem = "impayes"
    list_columns = [
        "number",
        "policy",
        "client",
        "insurer",
        "due_on",
        "balance",
        "stage",
        "relanced_on",
        "formal_notice_sent_on",
        "suspension_on",
    ]
    search_columns = ["number", "stage", "due_on", "insurer", "collection"]
    order_columns = ["number", "due_on", "stage"]
    search_form_extra_fields = {
        "stage": EnumSelectField(_("Unpaid stage"), enum_class=UnpaidStage, members=WORK_STAGES),
        "insurer": LookupSelectField(_("Insurer"), kind="company"),
        "collection": EnumSelectField(_("Collected"), enum_class=Collection),
    }

    def render_template(self, template: str, **kwargs: Any) -> Any:
        kwargs.setdefault(
            "stage_tabs", [(stage.value, enum_label(stage, UnpaidStage)) for stage in WORK_STAGES]
        )
        return super().render_template(template, **kwargs)

    # --- bulk letters (MANAGER and above: can_batch) --------------------------------
    @action(
        "send_reminder_letters",
        _("Send the reminder letter"),
        _(
            "Generate the reminder letter (avis de prélèvement / rappel d’échéance) for the"
            " contracts of the selected notices due soon? Clients already reminded are skipped."
        ),
        "fa-bell-o",
        multiple=True,
        single=False,
    )
    def send_reminder_letters(self, items: list[PremiumNotice]) -> Response:
        return self._letters(items, letters.send_reminder_letters)

    @action(
        "send_relances",
        _("Send the relance"),
        _("Generate a relance letter for the contracts of the selected notices?"),
        "fa-envelope-o",
        multiple=True,
        single=False,
    )
    def send_relances(self, items: list[PremiumNotice]) -> Response:
        return self._letters(items, letters.send_relances)

    @action(
        "formal_notice_letters",
        _("Generate the formal notices"),
        _(
            "Generate the mise en demeure of the contracts of the selected notices? Record"
            " each one sent, with its registered-letter number, from the notice’s page."
        ),
        "fa-gavel",
        multiple=True,
        single=False,
    )
    def formal_notice_letters(self, items: list[PremiumNotice]) -> Response:
        return self._letters(items, letters.formal_notice_letters)

    def _letters(self, items: list[PremiumNotice], make: Any) -> Response:
        if not items:
            flash(__("No premium notice selected."), "warning")
            return redirect(self.get_redirect())
        session = db.session
        try:
            job = make(session, current_user(), [notice.id for notice in items])
        except DomainError as error:
            session.rollback()
            flash_refusal(error)
            return redirect(self.get_redirect())
        # The job's own count: a reminder leaves out the clients already told.
        contracts = job.progress_total
        message = ngettext(
            "%(num)d letter is being generated.", "%(num)d letters are being generated.", contracts
        )
        link = url_for("JobView.show", pk=job.id)
        flash(
            Markup('{} <a href="{}">{}</a>').format(message, link, __("Follow the job")),
            "success",
        )
        return redirect(self.get_redirect())
