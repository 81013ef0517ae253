"""Portefeuille › Propositions: the advice duty before a sale, on screen.

A proposal's page shows the needs statement, its quotes and the client's DER and the
proposal's FIC, with their actions: answer the questionnaire, add a quote and move it,
generate / mark sent / mark signed the DER and the FIC, convert the accepted quote. Each
action is a small form posted to this view, which calls one service of
app/services/advice and flashes its refusal (the API's doors call the same services).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as __
from flask_babel import lazy_gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response

from app import permissions
from app.models import (
    Company,
    ComplianceKind,
    ComplianceStatus,
    DeliveryMethod,
    LineOfBusiness,
    Proposal,
    Quote,
    QuoteStatus,
    SaleChannel,
)
from app.models.base import ModelValidationError
from app.services.advice import compliance, conversion
from app.services.advice.proposals import QUOTE_MOVES, prepare_proposal, prepare_quote
from app.services.advice.questionnaire import questions_for
from app.services.errors import DomainError
from app.services.renewals.contracts import agency_today
from app.services.scope import current_user
from app.services.vocabulary import enum_label
from app.views.advice_forms import (
    CLIENT_FIELD,
    PROPOSAL_FIELDS,
    ConvertForm,
    QuoteForm,
    StepForm,
    flash_refusal,
)
from app.views.base import OrganisationModelView
from app.views.fields import (
    EnumSelectField,
    LookupSelectField,
)
from app.views.interface import ListInterface
from app.views.labels import date_formatter, enum_formatter, money_text
from app.views.premium_cells import client_link

ADVICE_SCREEN_METHODS = {
    **permissions.SCREEN_METHODS,
    "needs": permissions.WRITE,
    "add_quote": permissions.WRITE,
    "move_quote": permissions.WRITE,
    "convert_quote": permissions.WRITE,
    "generate_compliance": permissions.WRITE,
    "compliance_step": permissions.WRITE,
}


class ProposalView(OrganisationModelView):
    class_permission_name = permissions.PROPOSAL
    method_permission_name = ADVICE_SCREEN_METHODS
    include_route_methods = {
        "list",
        "show",
        "add",
        "edit",
        *[name for name in ADVICE_SCREEN_METHODS if name not in permissions.SCREEN_METHODS],
    }
    show_template = "advice/proposal_show.html"
    datamodel = ListInterface(Proposal, eager=("client",))
    list_title = _("Proposals")
    show_title = _("Proposal")
    add_title = _("New proposal")
    edit_title = _("Edit proposal")
    list_columns = ["id", "client", "line_of_business", "sale_channel", "created_at"]
    show_columns = ["client", "line_of_business", "sale_channel", "recommendation", "reasons"]
    add_columns = ["client_id", "line_of_business", "sale_channel", "recommendation", "reasons"]
    edit_columns = ["line_of_business", "sale_channel", "recommendation", "reasons"]
    search_columns = ["client", "line_of_business", "sale_channel", "created_at"]
    order_columns = ["id", "created_at"]
    base_order = ("created_at", "desc")
    label_columns = {
        "id": _("No."),
        "client": _("Client"),
        "client_id": _("Client"),
        "line_of_business": _("Line of business"),
        "sale_channel": _("Sale channel"),
        "recommendation": _("Recommendation"),
        "reasons": _("Reasons for the recommendation"),
        "created_at": _("Created on"),
    }
    description_columns = {
        "client_id": _("A prospect is a client without a contract: add them under Clients."),
        "sale_channel": _("At a distance or door to door, the client may withdraw for 14 days."),
    }
    formatters_columns = {
        "client": client_link,
        "line_of_business": enum_formatter(LineOfBusiness),
        "sale_channel": enum_formatter(SaleChannel),
        "created_at": date_formatter,
    }
    add_form_extra_fields = {"client_id": CLIENT_FIELD, **PROPOSAL_FIELDS}
    edit_form_extra_fields = PROPOSAL_FIELDS
    search_form_extra_fields = {
        "client": LookupSelectField(_("Client"), kind="client"),
        "line_of_business": EnumSelectField(_("Line of business"), enum_class=LineOfBusiness),
        "sale_channel": EnumSelectField(_("Sale channel"), enum_class=SaleChannel),
    }

    def _prepare(self, item: Proposal) -> None:
        try:
            prepare_proposal(self.datamodel.session, item, getattr(current_user(), "id", None))
        except DomainError as error:
            raise ModelValidationError({"": error.message}) from error

    def pre_add(self, item: Proposal) -> None:
        super().pre_add(item)
        self._prepare(item)

    def pre_update(self, item: Proposal) -> None:
        super().pre_update(item)
        self._prepare(item)

    # --- the page -----------------------------------------------------------------

    def _get_show_widget(self, pk: Any, item: Any, **kwargs: Any) -> dict[str, Any]:
        widgets = super()._get_show_widget(pk, item, **kwargs)
        widgets["advice"] = self._page(item)
        return widgets

    def _page(self, proposal: Proposal) -> dict[str, Any]:
        session = self.datamodel.session
        today = agency_today(session, proposal.organisation_id)
        quotes = []
        for quote in proposal.quotes:
            quotes.append(
                {
                    "id": quote.id,
                    "insurer": quote.company.name,
                    "product": quote.product or "",
                    "premium": money_text(quote.premium) if quote.premium is not None else "",
                    "valid_until": date_formatter(quote.valid_until),
                    "expired": quote.valid_until is not None and quote.valid_until < today,
                    "status": enum_label(quote.status, QuoteStatus),
                    "moves": [
                        (status.value, enum_label(status, QuoteStatus))
                        for status in QuoteStatus
                        if status in QUOTE_MOVES[quote.status] and quote.policy_id is None
                    ],
                    "convertible": quote.status is QuoteStatus.accepted and quote.policy_id is None,
                    "policy_id": quote.policy_id,
                    "policy": str(quote.policy) if quote.policy is not None else "",
                    "withdrawal_ends_on": date_formatter(quote.withdrawal_ends_on),
                }
            )
        return {
            "answers": proposal.answers or [],
            "quotes": quotes,
            "documents": [
                self._document(
                    ComplianceKind.der,
                    compliance.latest(session, ComplianceKind.der, proposal.client_id),
                ),
                self._document(
                    ComplianceKind.fic, compliance.latest(session, ComplianceKind.fic, proposal.id)
                ),
            ],
            "quote_form": QuoteForm(formdata=None),
            "step_form": StepForm(formdata=None),
            "convert_form": ConvertForm(formdata=None),
        }

    @staticmethod
    def _document(kind: ComplianceKind, row: Any) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": kind.value, "label": enum_label(kind, ComplianceKind)}
        if row is None:
            return {**data, "row": None, "status": __("Not generated")}
        steps = {
            ComplianceStatus.generated: ("sent", "signed"),
            ComplianceStatus.sent: ("signed",),
            ComplianceStatus.signed: (),
        }[row.status]
        return {
            **data,
            "row": row.id,
            "document_id": row.document_id,
            "status": enum_label(row.status, ComplianceStatus),
            "signed": row.status is ComplianceStatus.signed,
            "sent_on": date_formatter(row.sent_on),
            "signed_on": date_formatter(row.signed_on),
            "signed_by": enum_label(row.signed_by, DeliveryMethod) if row.signed_by else "",
            "steps": steps,
        }

    # --- actions ------------------------------------------------------------------

    def _proposal(self, pk: Any) -> Proposal | None:
        return self.datamodel.get(self._parse_pk(pk), self._base_filters)

    def _back(self, proposal: Proposal) -> Response:
        return redirect(url_for("ProposalView.show", pk=proposal.id))

    def _run(self, proposal: Proposal, action: Any, done: str) -> Response:
        session = self.datamodel.session
        try:
            result = action(session, agency_today(session, proposal.organisation_id))
            session.commit()
        except (DomainError, ModelValidationError) as error:
            session.rollback()
            flash_refusal(error)
            return self._back(proposal)
        if callable(result):
            result()  # after the commit: hand the document to the renderer
        flash(done, "success")
        return self._back(proposal)

    @expose("/needs/<pk>", methods=["GET", "POST"])
    @has_access
    def needs(self, pk: str) -> Any:
        """The line's questionnaire, one answer each."""
        proposal = self._proposal(pk)
        if proposal is None:
            return self._back_to_list()
        session = self.datamodel.session
        questions = questions_for(session, proposal.organisation_id, proposal.line_of_business)
        given = {item["question"]: item.get("answer", "") for item in proposal.answers or []}
        if request.method == "POST":
            answers = {
                question: request.form.get(f"answer-{index}", "")
                for index, question in enumerate(questions)
            }

            def save(session: Any, _today: Any) -> None:
                proposal.answers = answers
                prepare_proposal(session, proposal, getattr(current_user(), "id", None))

            return self._run(proposal, save, __("The needs statement is saved."))
        rows = [
            (index, question, given.get(question, "")) for index, question in enumerate(questions)
        ]
        return self.render_template(
            "advice/needs.html", proposal=proposal, rows=rows, title=__("Needs statement")
        )

    def _back_to_list(self) -> Response:
        flash(__("Proposal not found."), "danger")
        return redirect(url_for("ProposalView.list"))

    @expose("/quote/<pk>", methods=["POST"])
    @has_access
    def add_quote(self, pk: str) -> Response:
        proposal = self._proposal(pk)
        if proposal is None:
            return self._back_to_list()
        form = QuoteForm()
        if not form.validate():
            for errors in form.errors.values():
                flash(str(errors[0]), "danger")
            return self._back(proposal)

        def add(session: Any, today: Any) -> None:
            company = session.get(Company, form.company_id.data)
            if company is None or company.organisation_id != proposal.organisation_id:
                raise ModelValidationError({"company_id": __("Unknown insurer.")})
            priced = form.premium.data is not None and form.valid_until.data is not None
            quote = Quote(
                organisation_id=proposal.organisation_id,
                proposal=proposal,
                company_id=company.id,
                product=form.product.data,
                premium=form.premium.data,
                valid_until=form.valid_until.data,
                status=QuoteStatus.priced if priced else QuoteStatus.to_price,
            )
            session.add(quote)
            prepare_quote(session, quote, today)

        return self._run(proposal, add, __("The quote is added."))

    @expose("/quote/<pk>/<quote_pk>/status", methods=["POST"])
    @has_access
    def move_quote(self, pk: str, quote_pk: str) -> Response:
        proposal = self._proposal(pk)
        quote = self._quote(proposal, quote_pk)
        if proposal is None or quote is None:
            return self._back_to_list()
        try:
            status = QuoteStatus(request.form.get("status", ""))
        except ValueError:
            flash(__("Choose a status."), "danger")
            return self._back(proposal)

        def move(session: Any, today: Any) -> None:
            quote.status = status
            prepare_quote(session, quote, today)

        return self._run(proposal, move, __("The quote is updated."))

    @staticmethod
    def _quote(proposal: Proposal | None, quote_pk: str) -> Quote | None:
        if proposal is None:
            return None
        return next((quote for quote in proposal.quotes if str(quote.id) == quote_pk), None)

    @expose("/convert/<pk>/<quote_pk>", methods=["POST"])
    @has_access
    def convert_quote(self, pk: str, quote_pk: str) -> Response:
        proposal = self._proposal(pk)
        quote = self._quote(proposal, quote_pk)
        if proposal is None or quote is None:
            return self._back_to_list()
        form = ConvertForm()
        if not form.validate():
            for errors in form.errors.values():
                flash(str(errors[0]), "danger")
            return self._back(proposal)

        def convert(session: Any, today: Any) -> None:
            conversion.convert(
                session,
                quote,
                today=today,
                effective_date=form.effective_date.data,
                policy_number=(form.policy_number.data or "").strip() or None,
            )

        response = self._run(proposal, convert, __("The contract is created."))
        if quote.policy_id is not None:
            flash(
                Markup('<a href="{}">{}</a>').format(
                    url_for("PolicyView.show", pk=quote.policy_id), __("Open the contract")
                ),
                "info",
            )
        return response

    @expose("/compliance/<pk>/<kind>", methods=["POST"])
    @has_access
    def generate_compliance(self, pk: str, kind: str) -> Response:
        proposal = self._proposal(pk)
        if proposal is None or kind not in ("der", "fic"):
            return self._back_to_list()
        chosen = ComplianceKind(kind)

        def generate(session: Any, _today: Any) -> Any:
            row = compliance.generate(
                session,
                current_user(),
                chosen,
                client=proposal.client,
                proposal=proposal,
            )
            return lambda: compliance.enqueue(session, row)

        return self._run(proposal, generate, __("The document is being generated."))

    @expose("/compliance/<pk>/<kind>/<step>", methods=["POST"])
    @has_access
    def compliance_step(self, pk: str, kind: str, step: str) -> Response:
        proposal = self._proposal(pk)
        if proposal is None or kind not in ("der", "fic") or step not in ("sent", "signed"):
            return self._back_to_list()
        chosen = ComplianceKind(kind)
        subject = proposal.client_id if chosen is ComplianceKind.der else proposal.id
        row = compliance.latest(self.datamodel.session, chosen, subject)
        form = StepForm()
        if row is None or not form.validate():
            flash(__("Say how the document went."), "danger")
            return self._back(proposal)
        mark = compliance.mark_sent if step == "sent" else compliance.mark_signed

        def record(_session: Any, today: Any) -> None:
            mark(row, form.on.data, form.by.data, today)

        return self._run(proposal, record, __("The document is updated."))
