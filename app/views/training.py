"""Conformité > Formation DDA: the training log, each person's hours, the certificates.

Fifteen hours a year per person who distributes insurance (DDA art. 10, Code des
assurances A512-8). The log is a list like every list (organisation scope, remembered
sort, CSV and XLSX exports); a record is checked by the same rules as on the API
(``training.check_record``). Its page keeps the certificate: uploaded, downloaded and
deleted through the attachments service (type read from the content, stored encrypted
when the server has keys, the download audited). ``/training/hours`` sums a year per
person; from 1 October the list and that page warn about anyone under 15 hours.
MANAGER and above (``Training``), as on the API.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as __
from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import InputRequired, Length, Optional

from app import permissions
from app.api.attachments import uploaded_file
from app.api.files import attachment_response
from app.models import Attachment, TrainingRecord
from app.services.attachments import files
from app.services.compliance import training
from app.services.errors import DomainError
from app.services.scope import current_user, organisation_for_new_rows
from app.services.storage import file_store
from app.views.base import OrganisationModelView
from app.views.dates import reader_today
from app.views.exports import ExportMixin
from app.views.fields import LocalizedDateField, LocalizedDecimalField
from app.views.interface import ListInterface
from app.views.labels import date_formatter
from app.views.premiums import flash_refusal

LABELS: dict[str, Any] = {
    "user": _("Person"),
    "completed_on": _("Completed on"),
    "hours": _("Hours"),
    "title": _("Training"),
    "body": _("Training body"),
    "certificate_reference": _("Certificate reference"),
    "certificate": _("Certificate"),
}


class CertificateForm(FlaskForm):
    file = FileField(_("Certificate (PDF, JPEG or PNG)"))


def hours_text(value: Any) -> str:
    """Hours as the reader writes them: 7,5 not 7.50."""
    return "" if value is None else format(Decimal(value).normalize(), "f").replace(".", ",")


def certificate_of(session: Any, record_id: int) -> Attachment | None:
    return session.scalar(
        select(Attachment)
        .where(Attachment.training_record_id == record_id)
        .order_by(Attachment.id.desc())
        .limit(1)
    )


class TrainingView(ExportMixin, OrganisationModelView):
    route_base = "/training"
    list_template = "compliance/training_list.html"
    show_template = "compliance/training_show.html"
    class_permission_name = permissions.TRAINING
    method_permission_name = {
        **permissions.SCREEN_METHODS,
        "hours_page": permissions.READ,
        "certificate": permissions.READ,
        "upload_certificate": permissions.WRITE,
        "remove_certificate": permissions.WRITE,
    }
    include_route_methods = {
        "list",
        "show",
        "add",
        "edit",
        "delete",
        "export",
        "hours_page",
        "certificate",
        "upload_certificate",
        "remove_certificate",
    }
    datamodel = ListInterface(TrainingRecord, eager=("user",))
    list_title = _("DDA training")
    show_title = _("Training followed")
    add_title = _("Record a training")
    edit_title = _("Edit the training")
    export_file_stem = "formation-dda"

    list_columns = ["user", "completed_on", "hours", "title", "body", "certificate_reference"]
    nowrap_columns = ("completed_on", "hours")
    show_columns = [*list_columns]
    add_columns = ["user", "completed_on", "hours", "title", "body", "certificate_reference"]
    edit_columns = add_columns
    search_columns = ["user", "completed_on", "body", "title"]
    order_columns = ["completed_on", "hours", "title", "body"]
    base_order = ("completed_on", "desc")
    label_columns = LABELS
    description_columns = {
        "hours": _("Hours of training, more than 0 and at most 200."),
        "body": _("The training body named on the certificate."),
    }
    formatters_columns = {
        "hours": hours_text,
        "certificate_reference": lambda value: value or "",
    }
    add_form_extra_fields = {
        "completed_on": LocalizedDateField(_("Completed on"), [InputRequired()]),
        "hours": LocalizedDecimalField(_("Hours"), [InputRequired()], places=2),
        "title": StringField(_("Training"), [InputRequired(), Length(max=200)]),
        "body": StringField(_("Training body"), [InputRequired(), Length(max=200)]),
        "certificate_reference": StringField(
            _("Certificate reference"), [Optional(), Length(max=100)]
        ),
    }
    edit_form_extra_fields = add_form_extra_fields

    def _check(self, item: TrainingRecord) -> None:
        # The form sets the relation; the rules read the id.
        if item.user is not None:
            item.user_id = item.user.id
        training.check_record(self.datamodel.session, item, reader_today())

    def pre_add(self, item: TrainingRecord) -> None:
        super().pre_add(item)
        self._check(item)

    def pre_update(self, item: TrainingRecord) -> None:
        super().pre_update(item)
        self._check(item)

    def prefill_add_form(self, form: Any) -> None:
        form.completed_on.data = reader_today()

    def render_template(self, template: str, **kwargs: Any) -> Any:
        if template == self.list_template:
            kwargs.setdefault("shortfalls", self._shortfalls())
        kwargs.setdefault("day", date_formatter)
        return super().render_template(template, **kwargs)

    def _people(self, year: int) -> list[dict[str, Any]] | None:
        organisation_id = organisation_for_new_rows()
        if organisation_id is None:
            return None
        return training.yearly_hours(self.datamodel.session, organisation_id, year, reader_today())

    def _shortfalls(self) -> list[dict[str, Any]]:
        """From October: this year's people under 15 hours (the list's warning)."""
        people = self._people(reader_today().year) or []
        return [person for person in people if person["warning"]]

    def _get_show_widget(self, pk: Any, item: TrainingRecord, **kwargs: Any) -> dict[str, Any]:
        widgets = super()._get_show_widget(pk, item, **kwargs)
        widgets["record"] = item
        widgets["attachment"] = certificate_of(self.datamodel.session, item.id)
        widgets["certificate_form"] = CertificateForm(formdata=None)
        return widgets

    def _record(self, pk: Any) -> TrainingRecord:
        item = self.datamodel.get(self._parse_pk(pk), self._base_filters)
        if item is None:
            abort(404)
        return item

    # --- the year's hours ---------------------------------------------------------------
    @expose("/hours")
    @has_access
    def hours_page(self) -> Any:
        today = reader_today()
        raw = request.args.get("year", str(today.year))
        if not raw.isdigit() or not 2000 <= int(raw) <= 2200:
            abort(400)
        year = int(raw)
        return self.render_template(
            "compliance/training_hours.html",
            people=self._people(year),
            year=year,
            years=range(today.year, max(today.year - 5, 1999), -1),
            required=training.REQUIRED_HOURS,
            warns=training.warns(year, today),
            hours_text=hours_text,
            title=__("Training hours in %(year)d", year=year),
        )

    # --- the certificate ------------------------------------------------------------------
    @expose("/certificate/<pk>", methods=["POST"])
    @has_access
    def upload_certificate(self, pk: str) -> Response:
        record = self._record(pk)
        back = redirect(url_for("TrainingView.show", pk=record.id))
        session = self.datamodel.session
        try:
            data, name = uploaded_file()
            if not CertificateForm().validate_on_submit():
                flash(__("The form has expired: please send the file again."), "danger")
                return back
            previous = certificate_of(session, record.id)
            user = current_user()
            files.add_attachment(
                session,
                file_store(),
                record,
                data=data,
                file_name=name,
                user_id=getattr(user, "id", None),
            )
            deleted = files.delete_attachment(session, previous) if previous else None
            session.commit()
        except DomainError as error:
            session.rollback()
            flash_refusal(error)
            return back
        if deleted is not None:
            deleted.remove_from(file_store())  # the replaced certificate's bytes
        flash(__("Certificate saved."), "success")
        return back

    @expose("/certificate/<pk>/download")
    @has_access
    def certificate(self, pk: str) -> Response:
        record = self._record(pk)
        session = self.datamodel.session
        attachment = certificate_of(session, record.id)
        if attachment is None:
            abort(404)
        data = files.read(session, file_store(), attachment, current_user(), thumbnail=False)
        session.commit()  # the download's audit entry
        return attachment_response(
            data, attachment.media_type, attachment.file_name, attachment.sha256, len(data)
        )

    @expose("/certificate/<pk>/remove", methods=["POST"])
    @has_access
    def remove_certificate(self, pk: str) -> Response:
        record = self._record(pk)
        back = redirect(url_for("TrainingView.show", pk=record.id))
        if not CertificateForm().validate_on_submit():
            flash(__("The form has expired: please try again."), "danger")
            return back
        session = self.datamodel.session
        attachment = certificate_of(session, record.id)
        if attachment is None:
            abort(404)
        deleted = files.delete_attachment(session, attachment)
        session.commit()
        deleted.remove_from(file_store())
        flash(__("Certificate deleted."), "success")
        return back
