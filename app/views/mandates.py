"""Comptabilité: Mandats SEPA (the clients' mandates) and Prélèvements (debit batches,
the bank's rejections).

A mandate's IBAN is typed once, when it is added, and shown masked everywhere after
(``masked_iban``); a mandate is revoked (status and date), never deleted, as on the API.
The debits page starts the pain.008 batch of a period (a job delivering the file) and
imports the bank's rejections file; both are MANAGER's (DirectDebit can_write).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as __
from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms.validators import DataRequired, InputRequired, Optional

from app import permissions
from app.extensions import db
from app.models import Mandate, MandateSequence, MandateStatus
from app.services import imports
from app.services.errors import DomainError, InvalidRequestError
from app.services.premiums.debits import start_debit_batch
from app.services.premiums.mandates import check_mandate_dates
from app.services.premiums.rejections import apply_rejections
from app.services.renewals.contracts import agency_today
from app.services.scope import current_user, organisation_for_new_rows
from app.views.base import OrganisationModelView
from app.views.fields import EnumSelectField, LocalizedDateField, LookupSelectField
from app.views.imports import FORM_OVERHEAD
from app.views.interface import ListInterface
from app.views.labels import date_formatter, enum_formatter
from app.views.premium_cells import client_link, labels
from app.views.premiums import flash_refusal

REFERENCES_SHOWN = 10  # unknown references flashed, at most


class MandateView(OrganisationModelView):
    class_permission_name = permissions.MANDATE
    method_permission_name = permissions.SCREEN_METHODS
    # Revoked, never deleted: the debits made under a mandate keep naming it.
    include_route_methods = {"list", "show", "add", "edit"}
    datamodel = ListInterface(Mandate, eager=("client",))
    list_title = _("SEPA mandates")
    show_title = _("SEPA mandate")
    add_title = _("New SEPA mandate")
    edit_title = _("Edit SEPA mandate")

    list_columns = ["reference", "client", "debtor_name", "masked_iban", "signed_on", "status"]
    nowrap_columns = ("reference", "masked_iban", "signed_on")
    show_columns = [
        "reference",
        "client",
        "debtor_name",
        "masked_iban",
        "bic",
        "signed_on",
        "sequence",
        "status",
        "revoked_on",
    ]
    add_columns = ["client_id", "reference", "iban", "bic", "debtor_name", "signed_on"]
    # A new account is a new mandate (and a new first debit): the IBAN is not edited.
    edit_columns = ["bic", "debtor_name", "status", "revoked_on"]
    search_columns = ["reference", "client", "status", "signed_on"]
    order_columns = ["reference", "signed_on", "status"]
    base_order = ("signed_on", "desc")
    label_columns = labels(*show_columns, *add_columns, *edit_columns)
    description_columns = {
        "reference": _("The unique mandate reference (UMR), as signed."),
        "iban": _("Shown masked once saved: country, check digits and last four."),
        "revoked_on": _("With the status Revoked: no debit goes out under it after."),
    }
    formatters_columns = {
        "client": client_link,
        "status": enum_formatter(MandateStatus),
        "sequence": enum_formatter(MandateSequence),
        "signed_on": date_formatter,
        "revoked_on": date_formatter,
        "bic": lambda value: value or "",
    }
    add_form_extra_fields = {
        "client_id": LookupSelectField(
            _("Client"), [DataRequired()], kind="client", description=_("Type a name to search.")
        ),
        "signed_on": LocalizedDateField(_("Signed on"), [InputRequired()]),
    }
    edit_form_extra_fields = {
        "status": EnumSelectField(_("Status"), [InputRequired()], enum_class=MandateStatus),
        "revoked_on": LocalizedDateField(_("Revoked on"), [Optional()]),
    }
    search_form_extra_fields = {
        "client": LookupSelectField(_("Client"), kind="client"),
        "status": EnumSelectField(_("Status"), enum_class=MandateStatus),
    }
    unique_constraints = {
        "uq_mandate_organisation_reference": (
            "reference",
            _("A mandate with this reference already exists."),
        ),
        "mandate.organisation_id, mandate.reference": (
            "reference",
            _("A mandate with this reference already exists."),
        ),
    }

    def pre_add(self, item: Mandate) -> None:
        super().pre_add(item)
        check_mandate_dates(self.datamodel.session, item)

    def pre_update(self, item: Mandate) -> None:
        super().pre_update(item)
        check_mandate_dates(self.datamodel.session, item)


class DebitBatchForm(FlaskForm):
    due_from = LocalizedDateField(_("Due from"), [InputRequired()])
    due_to = LocalizedDateField(_("Due to"), [InputRequired()])


class RejectionsForm(FlaskForm):
    file = FileField(_("The bank's rejections file (CSV or XLSX)"))


class DebitView(BaseView):
    """Prélèvements: a period's debits as a pain.008 file; the bank's rejections."""

    route_base = "/debits"
    default_view = "debits"
    class_permission_name = permissions.DIRECT_DEBIT
    method_permission_name = permissions.DEBIT_SCREEN_METHODS

    @expose("/")
    @has_access
    def debits(self) -> Any:
        """The two forms: start a batch for a period, import the bank's rejections."""
        batch = DebitBatchForm(formdata=None)
        organisation_id = organisation_for_new_rows()
        if organisation_id is not None:
            today = agency_today(db.session, organisation_id)
            batch.due_from.data = today
            batch.due_to.data = today + dt.timedelta(days=30)
        return self._page(batch, RejectionsForm(formdata=None))

    def _page(self, batch: DebitBatchForm, rejections: RejectionsForm) -> Any:
        return self.render_template(
            "premiums/debits.html",
            batch=batch,
            rejections=rejections,
            title=_("Direct debits"),
        )

    @expose("/batch", methods=["POST"])
    @has_access
    def start_batch(self) -> Any:
        """Record the period's debits and queue their pain.008 file (a job)."""
        form = DebitBatchForm()
        if not form.validate_on_submit():
            flash(__("The form has errors: please correct the fields shown below."), "danger")
            return self._page(form, RejectionsForm(formdata=None))
        session = db.session
        try:
            job = start_debit_batch(
                session, current_user(), due_from=form.due_from.data, due_to=form.due_to.data
            )
            session.commit()
        except DomainError as error:
            session.rollback()
            flash_refusal(error)
            return self._page(form, RejectionsForm(formdata=None))
        flash(
            Markup('{} <a href="{}">{}</a>').format(
                __("The direct debit file is being prepared."),
                url_for("JobView.show", pk=job.id),
                __("Follow the job"),
            ),
            "success",
        )
        return redirect(url_for("JobView.show", pk=job.id))

    @expose("/rejections", methods=["POST"])
    @has_access
    def import_rejections(self) -> Response:
        """Reject the debits the bank's file lists (one transaction), then say what it did."""
        limits = imports.limits()
        back = redirect(url_for("DebitView.debits"))
        if (request.content_length or 0) > limits.max_bytes + FORM_OVERHEAD:
            flash(imports.too_large_message(limits), "danger")
            return back
        request.max_content_length = limits.max_bytes + FORM_OVERHEAD
        try:
            form = RejectionsForm()
            upload = request.files.get("file")
        except RequestEntityTooLarge:
            flash(imports.too_large_message(limits), "danger")
            return back
        if not form.validate_on_submit():
            flash(__("The form has expired: please send the file again."), "danger")
            return back
        if upload is None or not upload.filename:
            flash(__("Choose the bank's rejections file."), "danger")
            return back
        data = upload.stream.read(limits.max_bytes + 1)
        if len(data) > limits.max_bytes:
            flash(imports.too_large_message(limits), "danger")
            return back
        session = db.session
        organisation_id = organisation_for_new_rows()
        try:
            if organisation_id is None:
                raise InvalidRequestError(__("Your account belongs to no organisation."))
            outcome = apply_rejections(
                session,
                organisation_id,
                data,
                upload.filename,
                today=agency_today(session, organisation_id),
            )
            session.commit()
        except DomainError as error:
            session.rollback()
            flash_refusal(error)
            return back
        flash(
            __(
                "Rejections imported: %(rejected)d payment(s) rejected, %(already)d already"
                " rejected, %(unknown)d reference(s) unknown.",
                rejected=len(outcome.rejected),
                already=len(outcome.already_rejected),
                unknown=len(outcome.unknown),
            ),
            "success" if not outcome.unknown else "warning",
        )
        if outcome.unknown:
            flash(
                __(
                    "Unknown references: %(references)s",
                    references=", ".join(outcome.unknown[:REFERENCES_SHOWN]),
                ),
                "warning",
            )
        return back
