"""Portefeuille → Sinistres: the agency's claims, and the claims block of a client's and a
contract's pages (issue 17).

The list filters on the status, the nature, the late and outside-term flags, the
insurer (the contract's), the contract and the client, and exports as CSV or XLSX. A
claim is recorded and corrected through app/services/claims/lifecycle.py, never copied
field by field from the form: the declaration deadline, the late flag, the term and the
prescription date are computed there, and every field's error comes back beside it.
Claims are kept until prescription: no delete. The page shows the late and
outside-term warnings, the expected documents, the files, the settlements and their
totals, with the forms of app/views/claim_actions.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as __
from flask_babel import lazy_gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import Form, SelectField
from wtforms.validators import DataRequired, InputRequired, Optional

from app import permissions
from app.extensions import db
from app.models import (
    Claim,
    ClaimNature,
    ClaimStatus,
    CloseReason,
    SettlementKind,
    Task,
)
from app.models.task import OPEN_STATUSES
from app.services.claims import documents, lifecycle, settlements
from app.services.errors import DomainError
from app.services.premiums.notices import scoped_policy
from app.services.renewals.contracts import agency_today
from app.services.scope import visible_organisation_id
from app.services.vocabulary import enum_label
from app.views.attachments import attachments_block
from app.views.base import OrganisationModelView, show_errors
from app.views.claim_actions import ClaimActions, claim_forms
from app.views.exports import ExportMixin
from app.views.fields import (
    BLANK_CHOICE,
    MAX_INTEGER_ID,
    EnumSelectField,
    LocalizedDateField,
    LocalizedDecimalField,
    LookupSelectField,
    parse_id,
)
from app.views.labels import (
    COLUMN_LABELS,
    Money,
    date_formatter,
    enum_formatter,
    money_formatter,
    yes_no,
)
from app.views.premium_cells import NoticeListInterface, client_link, contract_link

CLAIM_LABELS: dict[str, Any] = {
    "number": _("Claim number"),
    "insurer_claim_number": _("Insurer's claim number"),
    "policy": _("Contract"),
    "policy_id": _("Contract"),
    "client": _("Client"),
    "insurer": _("Insurer"),
    "term": _("Term"),
    "nature": _("Nature"),
    "occurred_on": _("Date of loss"),
    "known_on": _("Known on"),
    "client_declared_on": _("Declared by the client on"),
    "insurer_declared_on": _("Declared to the insurer on"),
    "declaration_deadline": _("Declaration deadline"),
    "declared_late": _("Declared late"),
    "outside_term": _("Outside the contract's term"),
    "prescription_on": _("Prescription on"),
    "circumstances": _("Circumstances"),
    "place": _("Place"),
    "third_parties": _("Third parties"),
    "liability_share": _("Liability share (%)"),
    "expert": _("Expert"),
    "estimate": _("Estimate"),
    "excess": _("Excess"),
    "status": _("Status"),
    "close_reason": _("Reason for closing"),
    "closed_on": _("Closed on"),
    "reopened_on": _("Reopened on"),
    "created_at": COLUMN_LABELS["created_at"],
    "updated_at": COLUMN_LABELS["updated_at"],
}
FACTS = [
    "nature",
    "occurred_on",
    "known_on",
    "client_declared_on",
    "insurer_declared_on",
    "insurer_claim_number",
    "circumstances",
    "place",
    "third_parties",
    "liability_share",
    "expert",
    "estimate",
    "excess",
]
assert set(FACTS) == set(lifecycle.EDITABLE)


def _share(value: Any) -> int | None:
    return None if value in (None, "", "None") else int(value)


def _money(name: str) -> Any:
    return lambda claim: Money(getattr(claim, name), claim.policy.currency)


def _flag(value: Any) -> str:
    # Blank for "no": the list's eye goes to the claims that are late or outside a term.
    return str(_("Yes")) if value else ""


class ClaimView(ClaimActions, ExportMixin, OrganisationModelView):
    route_base = "/claims"
    show_template = "claims/show.html"
    # The history button: the claim's changes and the e-mails sent from it.
    extra_args = {"history_subject": "claim"}
    class_permission_name = permissions.CLAIM
    method_permission_name = permissions.CLAIM_SCREEN_METHODS
    # Kept until prescription: never deleted; moved by their statuses.
    include_route_methods = {
        "list",
        "show",
        "add",
        "edit",
        "export",
        "change_status",
        "ask_document",
        "receive_document",
        "settle",
    }
    datamodel = NoticeListInterface(
        Claim,
        eager=("client", "policy.company"),
        computed={
            "insurer": lambda claim: claim.policy.company,
            "estimate": _money("estimate"),
            "excess": _money("excess"),
        },
    )
    list_title = _("Claims")
    export_file_stem = "claims"
    show_title = _("Claim")
    add_title = _("New claim")
    edit_title = _("Edit claim")

    list_columns = [
        "number",
        "policy",
        "client",
        "insurer",
        "nature",
        "occurred_on",
        "declaration_deadline",
        "declared_late",
        "outside_term",
        "status",
    ]
    nowrap_columns = ("number", "policy", "occurred_on", "declaration_deadline")
    show_columns = [
        "number",
        "insurer_claim_number",
        "policy",
        "client",
        "insurer",
        *FACTS[:5],
        "declaration_deadline",
        "declared_late",
        "outside_term",
        "prescription_on",
        *FACTS[6:],
        "status",
        "close_reason",
        "closed_on",
        "reopened_on",
        "created_at",
        "updated_at",
    ]
    add_columns = ["policy_id", *FACTS]
    edit_columns = FACTS
    search_columns = [
        "number",
        "insurer_claim_number",
        "status",
        "nature",
        "declared_late",
        "outside_term",
        "insurer",
        "policy",
        "client",
        "occurred_on",
    ]
    order_columns = ["number", "occurred_on", "declaration_deadline", "status", "nature"]
    base_order = ("occurred_on", "desc")
    label_columns = CLAIM_LABELS
    description_columns = {
        "known_on": _("When the client learnt of the loss; the date of loss if empty."),
        "client_declared_on": _(
            "The client has 5 working days from knowing of the loss, 2 for a theft"
            " (L113-2): later, the claim is flagged late."
        ),
        "estimate": _("The expected cost, e.g. 1 250,00."),
    }
    formatters_columns = {
        "policy": contract_link,
        "client": client_link,
        "insurer": lambda company: "" if company is None else company.name,
        "nature": enum_formatter(ClaimNature),
        "status": enum_formatter(ClaimStatus),
        "close_reason": lambda value: "" if value is None else enum_label(value, CloseReason),
        "declared_late": _flag,
        "outside_term": _flag,
        "estimate": money_formatter,
        "excess": money_formatter,
        "liability_share": lambda value: "" if value is None else f"{value} %",
        **{name: (lambda value: value or "") for name in ("insurer_claim_number", "expert")},
    }
    add_form_extra_fields = {
        "policy_id": LookupSelectField(
            _("Contract"), [DataRequired()], kind="policy", description=_("Type a policy number.")
        ),
        "nature": EnumSelectField(_("Nature"), [InputRequired()], enum_class=ClaimNature),
        "occurred_on": LocalizedDateField(_("Date of loss"), [InputRequired()]),
        "known_on": LocalizedDateField(_("Known on"), [Optional()]),
        "client_declared_on": LocalizedDateField(_("Declared by the client on"), [Optional()]),
        "insurer_declared_on": LocalizedDateField(_("Declared to the insurer on"), [Optional()]),
        "liability_share": SelectField(
            _("Liability share (%)"),
            [Optional()],
            choices=[("", BLANK_CHOICE), ("0", "0 %"), ("50", "50 %"), ("100", "100 %")],
            coerce=_share,
        ),
        "estimate": LocalizedDecimalField(_("Estimate"), [Optional()], places=2),
        "excess": LocalizedDecimalField(_("Excess"), [Optional()], places=2),
    }
    edit_form_extra_fields = {
        name: field for name, field in add_form_extra_fields.items() if name != "policy_id"
    }
    search_form_extra_fields = {
        "status": EnumSelectField(_("Status"), enum_class=ClaimStatus),
        "nature": EnumSelectField(_("Nature"), enum_class=ClaimNature),
        "insurer": LookupSelectField(_("Insurer"), kind="company"),
        "policy": LookupSelectField(_("Contract"), kind="policy"),
        "client": LookupSelectField(_("Client"), kind="client"),
    }

    # --- recording and correcting: through the use cases --------------------------
    def prefill_add_form(self, form: Form) -> None:
        # "Record a claim" from a contract's page carries the contract.
        policy_id = parse_id(request.args.get("policy", ""), MAX_INTEGER_ID)
        if policy_id is not None:
            form["policy_id"].data = policy_id

    def _add(self) -> Any:
        form = self.add_form.refresh()
        if request.method == "POST":
            if form.validate():
                claim = self._write(form, None)
                if claim is not None:
                    flash(__("Claim %(number)s recorded.", number=claim.number), "success")
                    g.claim_written = claim.id
                    return None
            else:
                show_errors(form, {}, self.invalid_form_message)
        else:
            self.prefill_add_form(form)
        return self._get_add_widget(form=form)

    def _edit(self, pk: Any) -> Any:
        claim = self.scoped_claim(pk)
        if request.method == "POST":
            form = self.edit_form.refresh()
            if form.validate():
                if self._write(form, claim) is not None:
                    flash(__("Claim %(number)s updated.", number=claim.number), "success")
                    g.claim_written = claim.id
                    return None
            else:
                show_errors(form, {}, self.invalid_form_message)
        else:
            form = self.edit_form.refresh(obj=claim)
        return self._get_edit_widget(form=form)

    def _write(self, form: Form, claim: Claim | None) -> Claim | None:
        """Record (claim None) or correct; on refusal, each message beside its field."""
        session = db.session
        values = {name: form[name].data for name in FACTS}
        try:
            if claim is None:
                policy_id = form["policy_id"].data
                policy = scoped_policy(session, visible_organisation_id(), policy_id)
                today = agency_today(session, policy.organisation_id)
                claim = lifecycle.record_claim(session, policy, today=today, **values)
            else:
                today = agency_today(session, claim.organisation_id)
                lifecycle.update_claim(session, claim, today=today, **values)
            session.commit()
        except DomainError as error:
            session.rollback()
            errors = {name: str(message) for name, message in (error.errors or {}).items()}
            if "policy_id" not in form and "policy_id" in errors:
                errors[""] = errors.pop("policy_id")
            show_errors(form, errors or {"": str(error.message)}, self.invalid_form_message)
            return None
        return claim

    def post_add_redirect(self) -> Response:
        return redirect(url_for("ClaimView.show", pk=g.claim_written))

    def post_edit_redirect(self) -> Response:
        return redirect(url_for("ClaimView.show", pk=g.claim_written))

    # --- the page ----------------------------------------------------------------
    def _get_show_widget(self, pk: Any, item: Claim, **kwargs: Any) -> dict[str, Any]:
        widgets = super()._get_show_widget(pk, item, **kwargs)
        session = db.session
        today = agency_today(session, item.organisation_id)
        widgets["claim"] = item
        widgets["checklist"] = documents.checklist(session, item)
        widgets["settlements"] = settlements.settlements_of(session, item)
        totals = settlements.totals(session, item)
        currency = item.policy.currency
        widgets["totals"] = {
            key: Money(value, currency).format() for key, value in _decimal(totals).items()
        }
        widgets["currency"] = currency
        widgets.update(claim_forms(item, today))
        if self.appbuilder.sm.has_access("can_read", permissions.ATTACHMENT):
            widgets["attachments"] = attachments_block(item, "claim")
        if self.appbuilder.sm.has_access("can_read", permissions.TASK):
            # The work queue's open tasks about it (the missing documents' chase among them).
            widgets["tasks"] = list(
                session.scalars(
                    select(Task)
                    .where(Task.claim_id == item.id, Task.status.in_(OPEN_STATUSES))
                    .order_by(Task.due_on, Task.id)
                )
            )
        return widgets

    def render_template(self, template: str, **kwargs: Any) -> Any:
        kwargs.setdefault("kind_label", lambda value: enum_label(value, SettlementKind))
        kwargs.setdefault("money", lambda amount, currency: Money(amount, currency).format())
        kwargs.setdefault("yes_no", yes_no)
        kwargs.setdefault("day", date_formatter)
        return super().render_template(template, **kwargs)


def _decimal(totals: dict[str, str]) -> dict[str, Decimal]:
    return {key: Decimal(value) for key, value in totals.items()}


class ClaimsBlock:
    """ClientView and PolicyView mixin: the record's claims and files on its page."""

    appbuilder: Any
    # The attachment column of the owner, and the claims' column naming it.
    claims_owner = ""

    def _get_show_widget(self, pk: Any, item: Any, **kwargs: Any) -> dict[str, Any]:
        widgets = super()._get_show_widget(pk, item, **kwargs)  # type: ignore[misc]
        sm = self.appbuilder.sm
        if sm.has_access("can_read", permissions.CLAIM):
            column = getattr(Claim, f"{self.claims_owner}_id")
            widgets["claims"] = list(
                db.session.scalars(
                    select(Claim)
                    .where(column == item.id)
                    .order_by(Claim.occurred_on.desc(), Claim.id.desc())
                    .limit(CLAIMS_SHOWN)
                )
            )
            widgets["claims_filter"] = {f"_flt_0_{self.claims_owner}": item.id}
            widgets["claims_owner"] = self.claims_owner
        if sm.has_access("can_read", permissions.ATTACHMENT):
            widgets["attachments"] = attachments_block(item, self.claims_owner)
        return widgets

    def render_template(self, template: str, **kwargs: Any) -> Any:
        kwargs.setdefault("claim_status", lambda value: enum_label(value, ClaimStatus))
        kwargs.setdefault("claim_nature", lambda value: enum_label(value, ClaimNature))
        kwargs.setdefault("day", date_formatter)
        return super().render_template(template, **kwargs)  # type: ignore[misc]


CLAIMS_SHOWN = 20  # the newest; the list behind the button has them all
