"""What a claim's page does besides showing it: move its status, follow its expected
documents, record its settlements (issue 17).

A mixin of ClaimView (app/views/claims.py): each route loads the claim through the
view's organisation scope (another agency's answers 404), calls one use case of
app/services/claims in one transaction and goes back to the claim's page; a refusal is
flashed there, with nothing written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as __
from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.extensions import db
from app.models import Claim, ClaimStatus, CloseReason, SettlementKind
from app.services.claims import documents, lifecycle, settlements
from app.services.errors import DomainError
from app.services.renewals.contracts import agency_today
from app.views.fields import (
    MAX_INTEGER_ID,
    EnumSelectField,
    LocalizedDateField,
    LocalizedDecimalField,
    parse_id,
)
from app.views.labels import enum_choices
from app.views.premiums import flash_refusal


class StatusForm(FlaskForm):
    status = EnumSelectField(_("New status"), [InputRequired()], enum_class=ClaimStatus)
    reason = EnumSelectField(_("Reason for closing"), [Optional()], enum_class=CloseReason)


class AskDocumentForm(FlaskForm):
    label = StringField(_("Document"), [InputRequired(), Length(max=200)])


class ReceivedForm(FlaskForm):
    received_on = LocalizedDateField(_("Received on"), [Optional()])


class SettlementForm(FlaskForm):
    kind = EnumSelectField(_("Kind"), [InputRequired()], enum_class=SettlementKind)
    amount = LocalizedDecimalField(_("Amount"), [InputRequired()], places=2)
    paid_on = LocalizedDateField(_("Paid on"), [InputRequired()])
    counterparty = StringField(_("Payer or payee"), [Optional(), Length(max=200)])
    collected_by_broker = BooleanField(_("Collected by the agency"))
    note = TextAreaField(_("Note"), [Optional(), Length(max=2000)])


def claim_forms(claim: Claim, today: dt.date) -> dict[str, FlaskForm]:
    """The page's empty forms; the statuses offered are those the claim may go to."""
    status = StatusForm(formdata=None)
    allowed = lifecycle.TRANSITIONS[claim.status]
    status.status.choices = enum_choices(
        ClaimStatus, [member for member in ClaimStatus if member in allowed]
    )
    settlement = SettlementForm(formdata=None)
    settlement.paid_on.data = today
    received = ReceivedForm(formdata=None)
    received.received_on.data = today
    return {
        "status_form": status,
        "ask_form": AskDocumentForm(formdata=None),
        "received_form": received,
        "settlement_form": settlement,
    }


class ClaimActions:
    """ClaimView's POST routes; ``scoped_claim`` is the view's scoped load."""

    datamodel: Any
    _base_filters: Any

    def _parse_pk(self, pk: Any) -> int:
        claim_id = parse_id(pk, MAX_INTEGER_ID)
        if claim_id is None:
            abort(404)
        return claim_id

    def scoped_claim(self, pk: str) -> Claim:
        claim = self.datamodel.get(self._parse_pk(pk), self._base_filters)
        if claim is None:
            abort(404)
        return claim

    @expose("/status/<pk>", methods=["POST"])
    @has_access
    def change_status(self, pk: str) -> Response:
        """Move the claim (closing needs a reason; a closed claim only reopens)."""
        claim = self.scoped_claim(pk)
        form = StatusForm()
        return self._run(
            claim,
            form,
            lambda today: lifecycle.change_status(
                claim, form.status.data, today=today, reason=form.reason.data
            ),
            lambda: __("Claim %(number)s updated.", number=claim.number),
        )

    @expose("/documents/<pk>", methods=["POST"])
    @has_access
    def ask_document(self, pk: str) -> Response:
        """Add a document to the checklist, asked for today."""
        claim = self.scoped_claim(pk)
        form = AskDocumentForm()
        return self._run(
            claim,
            form,
            lambda today: documents.ask(db.session, claim, form.label.data, today),
            lambda: __("Document added to the list."),
        )

    @expose("/documents/<pk>/<item_pk>/received", methods=["POST"])
    @has_access
    def receive_document(self, pk: str, item_pk: str) -> Response:
        """Mark one document of the checklist received (today unless a day is given)."""
        claim = self.scoped_claim(pk)
        item_id = parse_id(item_pk, MAX_INTEGER_ID)
        if item_id is None:
            abort(404)
        form = ReceivedForm()
        return self._run(
            claim,
            form,
            lambda today: documents.receive(
                db.session, claim, item_id, form.received_on.data or today, today
            ),
            lambda: __("Document marked received."),
        )

    @expose("/settlements/<pk>", methods=["POST"])
    @has_access
    def settle(self, pk: str) -> Response:
        """Record an indemnity, a refund request or a recourse (not on a closed claim)."""
        claim = self.scoped_claim(pk)
        form = SettlementForm()
        return self._run(
            claim,
            form,
            lambda today: settlements.record_settlement(
                db.session,
                claim,
                today=today,
                kind=form.kind.data,
                amount=form.amount.data,
                paid_on=form.paid_on.data,
                counterparty=form.counterparty.data,
                collected_by_broker=form.collected_by_broker.data,
                note=form.note.data,
            ),
            lambda: __("Settlement recorded."),
        )

    def _run(
        self,
        claim: Claim,
        form: FlaskForm,
        use_case: Callable[[dt.date], Any],
        done: Callable[[], str],
    ) -> Response:
        back = redirect(url_for("ClaimView.show", pk=claim.id))
        if not form.validate_on_submit():
            flash(__("The form has errors: please correct the fields shown below."), "danger")
            for name, errors in form.errors.items():
                label = form[name].label.text if name in form else name
                for error in errors:
                    flash(__("%(field)s: %(error)s", field=label, error=error), "danger")
            return back
        session = db.session
        try:
            use_case(agency_today(session, claim.organisation_id))
            session.commit()
        except DomainError as error:
            session.rollback()
            flash_refusal(error)
            return back
        flash(done(), "success")
        return back
