"""Comptabilité › Commissions › bordereaux d'encaissement: drafted for an insurer and a
period, issued (its notices and payments frozen), marked paid; the PDF and XLSX from the
built-in templates, the SEPA transfer file (pain.001).

A mixin of CommissionView (resource Commission); the use cases are
app/services/commissions/remittances.py's, refusals are flashed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_babel import gettext
from werkzeug.wrappers import Response

from app.extensions import db
from app.models import OutputFormat, Remittance
from app.services.commissions import remittances
from app.services.commissions.remittance_documents import file_name, render_bordereau
from app.services.errors import DomainError, InvalidRequestError
from app.services.renewals.contracts import agency_today
from app.services.scope import visible_organisation_id
from app.views.commission_statements import (
    ActionForm,
    flash_refusal,
    insurers,
    own_organisation,
    pk_or_404,
)
from app.views.portfolio import enum_text
from app.views.responses import file_response


def _day(raw: str | None, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw or "")
    except ValueError:
        message = gettext("Enter a date.")
        raise InvalidRequestError(message, {field: message}) from None


def previous_month(today: dt.date) -> tuple[dt.date, dt.date]:
    last = today.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1), last


class RemittanceScreens:
    """Routes under /commissions/remittances (the methods FAB exposes on CommissionView)."""

    render_template: Any

    @expose("/remittances/new", methods=["GET"])
    @has_access
    def remittance_form(self) -> Any:
        organisation_id = own_organisation()
        first, last = previous_month(agency_today(db.session, organisation_id))
        return self.render_template(
            "commissions/remittance_new.html",
            insurers=insurers(organisation_id),
            period_from=first,
            period_to=last,
            form=ActionForm(),
        )

    @expose("/remittances/new", methods=["POST"])
    @has_access
    def remittance_create(self) -> Response:
        back = redirect(url_for("CommissionView.remittance_form"))
        if not ActionForm().validate_on_submit():
            flash(gettext("The request was refused: reload the page and try again."), "danger")
            return back
        try:
            remittance = remittances.create(
                db.session,
                own_organisation(),
                company_id=request.form.get("insurer_id", type=int) or 0,
                period_from=_day(request.form.get("period_from"), "period_from"),
                period_to=_day(request.form.get("period_to"), "period_to"),
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash_refusal(error)
            return back
        flash(gettext("Bordereau %(number)s drafted.", number=remittance.number), "success")
        return redirect(url_for("CommissionView.remittance_show", pk=remittance.id))

    @expose("/remittances/<pk>", methods=["GET"])
    @has_access
    def remittance_show(self, pk: str) -> Any:
        remittance = self._remittance(pk)
        return self.render_template(
            "commissions/remittance_show.html",
            remittance=remittance,
            today=agency_today(db.session, remittance.organisation_id),
            form=ActionForm(),
            label=enum_text,
        )

    @expose("/remittances/<pk>/issue", methods=["POST"])
    @has_access
    def remittance_issue(self, pk: str) -> Response:
        remittance = self._remittance(pk)

        def issue() -> None:
            remittances.issue(
                db.session, remittance, agency_today(db.session, remittance.organisation_id)
            )

        message = gettext("Bordereau issued: its notices and their payments are now frozen.")
        return self._step(remittance, issue, message)

    @expose("/remittances/<pk>/paid", methods=["POST"])
    @has_access
    def remittance_paid(self, pk: str) -> Response:
        remittance = self._remittance(pk)

        def paid() -> None:
            today = agency_today(db.session, remittance.organisation_id)
            raw = request.form.get("paid_on")
            remittances.mark_paid(
                db.session, remittance, _day(raw, "paid_on") if raw else today, today
            )

        return self._step(remittance, paid, gettext("Bordereau marked paid."))

    @expose("/remittances/<pk>/bordereau.<string:extension>", methods=["GET"])
    @has_access
    def remittance_file(self, pk: str, extension: str) -> Response:
        remittance = self._remittance(pk)
        today = agency_today(db.session, remittance.organisation_id)
        try:
            if extension == "xml":
                body = remittances.transfer_file(db.session, remittance, today)
                name = f"virement-{remittance.number}.xml"
                return file_response(body, "application/xml", name)
            if extension not in ("pdf", "xlsx"):
                abort(404)
            rendered = render_bordereau(db.session, remittance, OutputFormat(extension), today)
        except DomainError as error:
            flash_refusal(error)
            return redirect(url_for("CommissionView.remittance_show", pk=remittance.id))
        name = file_name(remittance, rendered.extension)
        return file_response(rendered.data, rendered.media_type, name)

    def _step(self, remittance: Remittance, work: Any, done: str) -> Response:
        back = redirect(url_for("CommissionView.remittance_show", pk=remittance.id))
        if not ActionForm().validate_on_submit():
            flash(gettext("The request was refused: reload the page and try again."), "danger")
            return back
        try:
            work()
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash_refusal(error)
        else:
            flash(done, "success")
        return back

    def _remittance(self, pk: str) -> Remittance:
        try:
            return remittances.visible(db.session, visible_organisation_id(), pk_or_404(pk))
        except DomainError:
            abort(404)
