"""Comptabilité: Encaissements — the payments received, recording one, rejecting one.

"Record a payment" opens from the menu, a notice's page (that notice's client and
balance) or a client's page. Choosing the client and the amount, then "Suggest",
lists the client's notices left to pay with the amount spread oldest due first
(payments.suggest_allocations); the shares stay editable and the service checks them
when the payment is recorded (nothing is written on a refusal). Every staff role
records payments (Payment can_write), as on the API.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as __
from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import InputRequired, Length, Optional

from app import permissions
from app.extensions import db
from app.models import Allocation, Payment, PaymentMethod, PaymentStatus, PremiumNotice
from app.services.errors import DomainError, InvalidRequestError
from app.services.premiums import payments, recording
from app.services.renewals.contracts import agency_today
from app.services.scope import organisation_for_new_rows, visible_organisation_id
from app.views.base import OrganisationModelView
from app.views.exports import ExportMixin
from app.views.fields import (
    EnumSelectField,
    LocalizedDateField,
    LocalizedDecimalField,
    LookupSelectField,
    parse_id,
)
from app.views.interface import ListInterface
from app.views.labels import Money, date_formatter, enum_formatter, money_formatter
from app.views.premium_cells import client_link, labels, money_of, notice_link
from app.views.premiums import amount_text, flash_refusal

ALLOCATION_FIELD = re.compile(r"^alloc_([0-9]{1,12})$")


class RecordForm(FlaskForm):
    client_id = LookupSelectField(
        _("Client"), [InputRequired()], kind="client", description=_("Type a name to search.")
    )
    amount = LocalizedDecimalField(_("Amount"), [InputRequired()], places=2)
    received_on = LocalizedDateField(_("Received on"), [InputRequired()])
    method = EnumSelectField(_("Method"), [InputRequired()], enum_class=PaymentMethod)
    reference = StringField(_("Reference"), [Optional(), Length(max=100)])
    payer = StringField(_("Payer"), [Optional(), Length(max=200)])


class RejectForm(FlaskForm):
    rejected_on = LocalizedDateField(_("Rejected on"), [InputRequired()])
    reason = StringField(_("Rejection reason"), [Optional(), Length(max=10)])


def _amounts(form_data: Any) -> tuple[dict[int, Decimal], list[str]]:
    """The shares typed for each notice (``alloc_<id>``), and the fields that are no amount."""
    shares: dict[int, Decimal] = {}
    bad = []
    for key, raw in form_data.items():
        match = ALLOCATION_FIELD.match(key)
        text = re.sub(r"[\s\u00a0\u202f]", "", raw or "").replace(",", ".")
        if match is None or not text:
            continue
        try:
            value = Decimal(text)
        except InvalidOperation:
            bad.append(key)
            continue
        if value.is_finite() and value != 0:
            shares[int(match.group(1))] = value
    return shares, bad


class PaymentView(ExportMixin, OrganisationModelView):
    show_template = "premiums/payment_show.html"
    class_permission_name = permissions.PAYMENT
    method_permission_name = permissions.PAYMENT_SCREEN_METHODS
    # Payments are written through their use case (allocations, notices), not FAB's forms.
    include_route_methods = {"list", "show", "export", "record", "reject"}
    datamodel = ListInterface(
        Payment,
        eager=("client",),
        computed={
            "amount": money_of("amount"),
            "allocated_amount": money_of("allocated_amount"),
            "unallocated": lambda payment: Money(payment.unallocated, payment.currency),
        },
    )
    list_title = _("Payments")
    show_title = _("Payment")
    export_file_stem = "encaissements"
    list_columns = [
        "received_on",
        "client",
        "amount",
        "method",
        "reference",
        "allocated_amount",
        "status",
    ]
    # The export adds who paid and what is left unallocated (the client's credit).
    export_columns = [*list_columns[:4], "payer", *list_columns[4:6], "unallocated", "status"]
    nowrap_columns = ("received_on", "amount", "allocated_amount")
    show_columns = [
        "received_on",
        "client",
        "payer",
        "amount",
        "method",
        "reference",
        "allocated_amount",
        "unallocated",
        "status",
        "rejected_on",
        "rejection_reason",
        "note",
    ]
    search_columns = ["received_on", "client", "method", "status", "reference", "amount"]
    order_columns = ["received_on", "amount", "method", "status"]
    base_order = ("received_on", "desc")
    label_columns = labels(*show_columns)
    formatters_columns = {
        "client": client_link,
        "amount": money_formatter,
        "allocated_amount": money_formatter,
        "unallocated": money_formatter,
        "method": enum_formatter(PaymentMethod),
        "status": enum_formatter(PaymentStatus),
        "received_on": date_formatter,
        "rejected_on": date_formatter,
        "payer": lambda value: value or "",
        "reference": lambda value: value or "",
        "rejection_reason": lambda value: value or "",
        "note": lambda value: value or "",
    }
    search_form_extra_fields = {
        "client": LookupSelectField(_("Client"), kind="client"),
        "method": EnumSelectField(_("Method"), enum_class=PaymentMethod),
        "status": EnumSelectField(_("Status"), enum_class=PaymentStatus),
    }

    def _get_show_widget(self, pk: Any, item: Payment, **kwargs: Any) -> dict[str, Any]:
        widgets = super()._get_show_widget(pk, item, **kwargs)
        widgets["payment"] = item
        widgets["allocations"] = list(
            db.session.scalars(
                select(Allocation)
                .options(joinedload(Allocation.premium_notice).joinedload(PremiumNotice.policy))
                .where(Allocation.payment_id == item.id)
                .order_by(Allocation.id)
            )
        )
        widgets["reject_form"] = RejectForm(formdata=None)
        return widgets

    def render_template(self, template: str, **kwargs: Any) -> Any:
        kwargs.setdefault("money", amount_text)
        kwargs.setdefault("day", date_formatter)
        kwargs.setdefault("notice_link", notice_link)
        return super().render_template(template, **kwargs)

    # --- recording -------------------------------------------------------------------
    @expose("/record", methods=["GET", "POST"])
    @has_access
    def record(self) -> Any:
        """Record money received, allocated to the client's notices (suggested, editable)."""
        form = RecordForm()
        if request.method == "GET":
            self._prefill(form)
        notices = self._open_notices(form.client_id.data)
        shares, bad = _amounts(request.form) if request.method == "POST" else ({}, [])
        wants_suggestion = request.method == "GET" or "suggest" in request.form
        if wants_suggestion and isinstance(form.amount.data, Decimal):
            shares = recording.suggested(notices, form.amount.data)
        if request.method == "POST" and "suggest" not in request.form:
            if bad:
                flash(__("Enter each allocation as an amount, e.g. 120,50."), "danger")
            elif form.validate():
                payment = self._save(form, shares)
                if payment is not None:
                    flash(__("Payment recorded."), "success")
                    return redirect(url_for("PaymentView.show", pk=payment.id))
            else:
                flash(__("The form has errors: please correct the fields shown below."), "danger")
        return self.render_template(
            "premiums/payment_record.html",
            form=form,
            notices=notices,
            shares=shares,
            title=_("Record a payment"),
        )

    def _prefill(self, form: RecordForm) -> None:
        """From a notice's page: its client and balance; from a client's page: the client."""
        session = db.session
        notice_id = parse_id(request.args.get("notice", ""))
        if notice_id is not None:
            query = select(PremiumNotice).where(PremiumNotice.id == notice_id)
            scope = visible_organisation_id()
            if scope is not None:
                query = query.where(PremiumNotice.organisation_id == scope)
            notice = session.scalar(query)
            if notice is None:
                abort(404)
            form.client_id.data = notice.policy.client_id
            form.amount.data = notice.balance if notice.balance > 0 else None
        client_id = parse_id(request.args.get("client", ""))
        if client_id is not None and form.client_id.data is None:
            form.client_id.data = client_id
        organisation_id = organisation_for_new_rows()
        if organisation_id is not None:
            form.received_on.data = agency_today(session, organisation_id)

    def _open_notices(self, client_id: Any) -> list[PremiumNotice]:
        if not isinstance(client_id, int):
            return []
        return recording.open_notices(db.session, visible_organisation_id(), client_id)

    def _save(self, form: RecordForm, shares: dict[int, Decimal]) -> Payment | None:
        session = db.session
        organisation_id = organisation_for_new_rows()
        try:
            if organisation_id is None:
                raise InvalidRequestError(__("Your account belongs to no organisation."))
            payment = payments.record_payment(
                session,
                organisation_id,
                amount=form.amount.data,
                received_on=form.received_on.data,
                method=form.method.data,
                reference=form.reference.data,
                payer=form.payer.data,
                client_id=form.client_id.data,
                allocations=[(notice_id, amount) for notice_id, amount in shares.items()],
                today=agency_today(session, organisation_id),
            )
            session.commit()
        except DomainError as error:
            session.rollback()
            flash_refusal(error)
            return None
        return payment

    # --- rejecting -------------------------------------------------------------------
    @expose("/reject/<pk>", methods=["POST"])
    @has_access
    def reject(self, pk: str) -> Response:
        """A returned cheque or debit: the payment no longer counts, its notices re-open."""
        payment = self.datamodel.get(self._parse_pk(pk), self._base_filters)
        if payment is None:
            abort(404)
        form = RejectForm()
        if form.validate_on_submit():
            session = db.session
            try:
                payments.reject_payment(
                    payment,
                    rejected_on=form.rejected_on.data,
                    reason=form.reason.data,
                    today=agency_today(session, payment.organisation_id),
                )
                session.commit()
            except DomainError as error:
                session.rollback()
                flash_refusal(error)
            else:
                flash(__("Payment rejected: the notices it paid are open again."), "success")
        else:
            flash(__("Enter the date the payment was rejected."), "danger")
        return redirect(url_for("PaymentView.show", pk=payment.id))
