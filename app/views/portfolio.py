"""Generated screens for insurers, clients and policies, scoped to the organisation."""

from __future__ import annotations

from typing import Any

from babel.dates import get_month_names
from flask import abort, flash, redirect, request
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_appbuilder.security.decorators import has_access
from flask_babel import get_locale, ngettext
from flask_babel import lazy_gettext as _
from sqlalchemy import exists, select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response
from wtforms import BooleanField, Form, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Optional

from app import metrics, permissions
from app.models import (
    Client,
    ClientKind,
    Company,
    ContractUse,
    LineOfBusiness,
    PaymentFrequency,
    Policy,
    PolicyStatus,
)
from app.models.base import ModelValidationError
from app.models.policy import DEFAULT_NOTICE_MONTHS, WORK_ORDER
from app.services.renewals.history import (
    comparable_terms,
    contract_life,
    default_pair,
    terms_diff,
)
from app.views.advice_lists import PolicyWithdrawalBlock
from app.views.base import OrganisationModelView
from app.views.claims import ClaimsBlock
from app.views.exports import ExportMixin
from app.views.fields import (
    BLANK_CHOICE,
    EnumSelectField,
    LocalizedDecimalField,
    LookupSelectField,
    parse_id,
)
from app.views.generation import generate_documents_step
from app.views.interface import ListInterface
from app.views.labels import (
    COLUMN_LABELS,
    Money,
    column_labels,
    date_formatter,
    enum_formatter,
    enum_label,
    money_formatter,
    money_text,
    percent_change,
    yes_no,
)
from app.views.premium_account import PolicyAccountBlock
from app.views.privacy import PRIVACY_ACTIONS, ClientPrivacyActions
from app.views.record_tasks import RecordTasksBlock
from app.views.status_changes import change_status

RECORD_DATES = ["created_at", "updated_at"]
PREMIUM_HELP = _(
    "The annual premium, taxes included, e.g. 420,50: the documents split it"
    " by the payment frequency."
)
DATE_FORMATTERS = {name: date_formatter for name in RECORD_DATES}
# What the cancellation rules read of a contract (app/services/renewals/facts.py).
CONTRACT_TERMS = [
    "echeance_day",
    "echeance_month",
    "tacit_renewal",
    "notice_months",
    "use",
    "borrower",
    "group_contract",
]


def enum_text(member: Any) -> str:
    """An enum member's label, blank for none (for templates)."""
    return "" if member is None else enum_label(member, type(member))


def month_choices() -> list[SelectChoice]:
    """The twelve months in the reader's language, after an empty choice."""
    names = get_month_names("wide", locale=str(get_locale() or "fr"))
    return [SelectChoice("", BLANK_CHOICE)] + [
        SelectChoice(str(month), names[month].capitalize()) for month in range(1, 13)
    ]


def month_name(month: int | None) -> str:
    if not month:
        return ""
    return get_month_names("wide", locale=str(get_locale() or "fr"))[month].capitalize()


def _month_number(value: Any) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)


def _duplicate(session: Any, model: type, item: Any, column: str) -> bool:
    """True when another row of the item's organisation has the same value in ``column``."""
    value = getattr(item, column)
    query = select(model.id).where(
        model.organisation_id == item.organisation_id, getattr(model, column) == value
    )
    if item.id is not None:
        query = query.where(model.id != item.id)
    return session.execute(query.limit(1)).first() is not None


def _has_policies(session: Any, column: Any, row_id: int) -> bool:
    return bool(session.execute(select(exists().where(column == row_id))).scalar())


class PolicyView(
    PolicyWithdrawalBlock,
    ClaimsBlock,
    RecordTasksBlock,
    PolicyAccountBlock,
    ExportMixin,
    OrganisationModelView,
):
    claims_owner = "policy"
    tasks_record = "policy"
    # The history button, and "Generate a document" (app/views/generation.py).
    show_template = "documents/policy_show.html"
    # The page's terms, cancellation grounds and renewals (renewals/_policy_life.html).
    extra_args = {
        "history_subject": "policy",
        "money": money_text,
        "percent": percent_change,
        "enum_text": enum_text,
        "column_label": COLUMN_LABELS.get,
    }
    class_permission_name = permissions.POLICY
    method_permission_name = permissions.SCREEN_METHODS
    datamodel = ListInterface(
        Policy,
        eager=("client", "company"),
        computed={"premium": lambda policy: Money(policy.premium, policy.currency)},
        orders={"work_order": WORK_ORDER},
    )
    list_title = _("Policies")
    export_file_stem = "policies"
    show_title = _("Policy")
    add_title = _("New policy")
    edit_title = _("Edit policy")

    nowrap_columns = ("number", "effective_date", "expiry_date")
    list_columns = [
        "number",
        "client",
        "company",
        "line_of_business",
        "status",
        "effective_date",
        "expiry_date",
        "premium",
    ]
    add_columns = [
        "number",
        "client_id",
        "company_id",
        "line_of_business",
        "status",
        "effective_date",
        "expiry_date",
        "premium",
        "currency",
        "payment_frequency",
        "renewal_of_id",
        *CONTRACT_TERMS,
    ]
    edit_columns = add_columns
    show_columns = [
        "number",
        "client",
        "company",
        "line_of_business",
        "status",
        "effective_date",
        "expiry_date",
        "premium",
        "payment_frequency",
        "renewal_of",
        *CONTRACT_TERMS,
        *RECORD_DATES,
    ]
    search_columns = [
        "number",
        "client",
        "company",
        "line_of_business",
        "status",
        "effective_date",
        "expiry_date",
        "premium",
        "payment_frequency",
        # So SUPERADMIN's dashboard links narrow to the agency it chose; everyone else's
        # choice is their own agency (the scope of relation selects, app/views/related.py).
        "organisation",
    ]
    order_columns = [
        "number",
        "line_of_business",
        "status",
        "effective_date",
        "expiry_date",
        "premium",
    ]
    # Opens on what staff work on: active policies, nearest expiry first, then suspended
    # ones and drafts, the history last (app/models/policy.py). A sort the user picks
    # is kept for the session (GuardedModelView).
    base_order = ("work_order", "asc")
    label_columns = column_labels(*add_columns, *show_columns, *search_columns)
    description_columns = {
        "number": _("Letters, digits, '.', '/', '_' or '-'; unique in your agency."),
        "currency": _("ISO 4217 code, EUR by default."),
        "renewal_of_id": _("The policy this one renews, if any."),
        "echeance_day": _(
            "The contract's main échéance, day and month; empty, the end of its current term."
        ),
        "tacit_renewal": _("Renewed each year unless refused (tacite reconduction)."),
        "notice_months": _("How long before the échéance the client must refuse renewal."),
        "use": _("Professional contracts have neither the Chatel nor the Hamon right."),
        "borrower": _("Insurance of a loan: its own cancellation right (loi Lemoine)."),
        "group_contract": _("Taken out by an employer or an association for its members."),
    }
    formatters_columns = {
        "line_of_business": enum_formatter(LineOfBusiness),
        "status": enum_formatter(PolicyStatus),
        "payment_frequency": enum_formatter(PaymentFrequency),
        "effective_date": date_formatter,
        "expiry_date": date_formatter,
        "premium": money_formatter,
        # FAB prints a missing relation as "None".
        "renewal_of": lambda policy: str(policy) if policy is not None else "",
        "echeance_month": month_name,
        "tacit_renewal": yes_no,
        "use": enum_formatter(ContractUse),
        "borrower": yes_no,
        "group_contract": yes_no,
        **DATE_FORMATTERS,
    }
    add_form_extra_fields = {
        "client_id": LookupSelectField(
            _("Client"), [DataRequired()], kind="client", description=_("Type a name to search.")
        ),
        "company_id": LookupSelectField(
            _("Insurer"), [DataRequired()], kind="company", description=_("Type a name or code.")
        ),
        "renewal_of_id": LookupSelectField(
            _("Renewal of"), [Optional()], kind="policy", description=_("Type a policy number.")
        ),
        "line_of_business": EnumSelectField(
            _("Line of business"), [InputRequired()], enum_class=LineOfBusiness
        ),
        "status": EnumSelectField(
            _("Status"), [InputRequired()], enum_class=PolicyStatus, default=PolicyStatus.draft
        ),
        "payment_frequency": EnumSelectField(
            _("Payment frequency"),
            [InputRequired()],
            enum_class=PaymentFrequency,
            default=PaymentFrequency.annual,
        ),
        "premium": LocalizedDecimalField(
            COLUMN_LABELS["premium"],
            [InputRequired()],
            places=2,
            description=PREMIUM_HELP,
        ),
        "echeance_day": IntegerField(
            COLUMN_LABELS["echeance_day"], [Optional()], widget=BS3TextFieldWidget()
        ),
        "echeance_month": SelectField(
            COLUMN_LABELS["echeance_month"],
            choices=month_choices,
            coerce=_month_number,
            widget=Select2Widget(),
        ),
        "tacit_renewal": BooleanField(COLUMN_LABELS["tacit_renewal"], default=True),
        "notice_months": IntegerField(
            COLUMN_LABELS["notice_months"],
            [Optional()],
            widget=BS3TextFieldWidget(),
            default=DEFAULT_NOTICE_MONTHS,
        ),
        # Absent from a posted form, it keeps its value (the default for a new contract).
        "use": EnumSelectField(
            COLUMN_LABELS["use"], enum_class=ContractUse, default=ContractUse.consumer
        ),
        "borrower": BooleanField(COLUMN_LABELS["borrower"]),
        "group_contract": BooleanField(COLUMN_LABELS["group_contract"]),
    }
    edit_form_extra_fields = add_form_extra_fields
    search_form_extra_fields = {
        "client": LookupSelectField(_("Client"), kind="client"),
        "company": LookupSelectField(_("Insurer"), kind="company"),
        "line_of_business": EnumSelectField(_("Line of business"), enum_class=LineOfBusiness),
        "status": EnumSelectField(_("Status"), enum_class=PolicyStatus),
        "payment_frequency": EnumSelectField(_("Payment frequency"), enum_class=PaymentFrequency),
    }
    # Constraint name on PostgreSQL, column list on SQLite.
    unique_constraints = {
        "uq_policy_organisation_number": ("number", _("A policy with this number already exists.")),
        "policy.organisation_id, policy.number": (
            "number",
            _("A policy with this number already exists."),
        ),
    }

    def check_unique(self, item: Policy) -> None:
        if item.number and _duplicate(self.datamodel.session, Policy, item, "number"):
            raise ModelValidationError(
                {"number": str(_("A policy with this number already exists."))}
            )

    def prefill_add_form(self, form: Form) -> None:
        # "Add" from a client's or an insurer's page carries its id as a list filter.
        for relation, field_name in (("client", "client_id"), ("company", "company_id")):
            row_id = parse_id(request.args.get(f"_flt_0_{relation}", ""))
            if row_id is not None:
                form[field_name].data = row_id

    def post_add(self, item: Policy) -> None:
        metrics.POLICIES_CREATED.labels(channel="screen").inc()

    # --- the contract's life: terms, cancellation grounds, renewals --------------
    def _get_show_widget(self, pk: Any, item: Policy, **kwargs: Any) -> dict[str, Any]:
        widgets = super()._get_show_widget(pk, item, **kwargs)
        widgets["contract_life"] = contract_life(self.datamodel.session, item)
        return widgets

    @expose("/terms-diff/<pk>")
    @has_access
    def terms_diff(self, pk: str) -> Any:
        """Two terms side by side: ?a=<term id>&b=<term id>, by default the last two."""
        policy = self.datamodel.get(self._parse_pk(pk), self._base_filters)
        if policy is None:
            abort(404)
        terms = comparable_terms(policy)
        pair = default_pair(terms)
        if request.args.get("a") or request.args.get("b"):
            by_id = {term.id: term for term in terms}
            chosen = [by_id.get(parse_id(request.args.get(key, ""))) for key in ("a", "b")]
            if None in chosen:
                abort(404)  # not a term of this contract or of those it replaced
            pair = (chosen[0], chosen[1])
        return self.render_template(
            "renewals/terms_diff.html",
            title=_("Compare two terms"),
            policy=policy,
            terms=terms,
            diff=terms_diff(*pair) if pair else None,
        )

    # --- bulk status changes ---------------------------------------------------
    @action(
        "activate",
        _("Activate policies"),
        _("Activate the selected policies?"),
        "fa-play",
        multiple=True,
        single=False,
    )
    def activate(self, items: list[Policy]) -> Response:
        return self._change_status(items, PolicyStatus.active)

    @action(
        "suspend",
        _("Suspend policies"),
        _("Suspend the selected policies?"),
        "fa-pause",
        multiple=True,
        single=False,
    )
    def suspend(self, items: list[Policy]) -> Response:
        return self._change_status(items, PolicyStatus.suspended)

    @action(
        "cancel",
        _("Cancel policies"),
        _("Cancel the selected policies? This cannot be undone."),
        "fa-ban",
        multiple=True,
        single=False,
    )
    def cancel(self, items: list[Policy]) -> Response:
        return self._change_status(items, PolicyStatus.cancelled)

    @action(
        "generate_documents",
        _("Generate documents"),
        "",  # no browser prompt: the next page asks for the template and confirms
        "fa-file-pdf-o",
        multiple=True,
        single=False,
    )
    def generate_documents(self, items: list[Policy]) -> Response:
        return generate_documents_step(self, items)

    def _change_status(self, items: list[Policy], target: PolicyStatus) -> Response:
        if not items:
            flash(str(_("No policy selected.")), "warning")
            return redirect(self.get_redirect())
        result = change_status(items, target)
        session = self.datamodel.session
        try:
            session.commit()
        except SQLAlchemyError:
            session.rollback()
            flash(str(self.database_error_message), "danger")
            return redirect(self.get_redirect())
        status = enum_label(target, PolicyStatus)
        if result.changed:
            flash(
                ngettext(
                    "%(num)d policy changed to %(status)s.",
                    "%(num)d policies changed to %(status)s.",
                    result.changed,
                    status=status,
                ),
                "success",
            )
        if result.refused:
            flash(
                ngettext(
                    "%(num)d policy left unchanged: its status does not allow %(status)s.",
                    "%(num)d policies left unchanged: their status does not allow %(status)s.",
                    result.refused,
                    status=status,
                ),
                "warning",
            )
        return redirect(self.get_redirect())


class ClientView(
    ClaimsBlock, RecordTasksBlock, ClientPrivacyActions, ExportMixin, OrganisationModelView
):
    claims_owner = "client"
    tasks_record = "client"
    # The history button, and "Record a payment" (app/views/payments.py).
    show_template = "premiums/client_show.html"
    extra_args = {"history_subject": "client"}
    class_permission_name = permissions.CLIENT
    # The RGPD actions need can_privacy (app/views/privacy.py).
    method_permission_name = {**permissions.SCREEN_METHODS, **PRIVACY_ACTIONS}
    datamodel = ListInterface(Client)
    list_title = _("Clients")
    export_file_stem = "clients"
    show_title = _("Client")
    add_title = _("New client")
    edit_title = _("Edit client")
    related_views = [PolicyView]

    list_columns = ["last_name", "first_name", "company_name", "kind", "email", "phone", "city"]
    nowrap_columns = ("phone",)
    add_columns = [
        "kind",
        "first_name",
        "last_name",
        "company_name",
        "siren",
        "email",
        "phone",
        "address",
        "postal_code",
        "city",
        "birth_date",
        "notes",
    ]
    edit_columns = add_columns
    show_columns = [*add_columns, "erased_at", *RECORD_DATES]
    search_columns = [
        "last_name",
        "first_name",
        "company_name",
        "email",
        "city",
        "postal_code",
        "kind",
    ]
    order_columns = ["last_name", "first_name", "company_name", "city", "email"]
    base_order = ("last_name", "asc")
    label_columns = column_labels(*show_columns)
    description_columns = {
        "company_name": _("For a business client."),
        "siren": _("9 digits, for a business client."),
    }
    formatters_columns = {
        "kind": enum_formatter(ClientKind),
        "birth_date": date_formatter,
        "erased_at": date_formatter,
        **DATE_FORMATTERS,
    }
    add_form_extra_fields = {
        "kind": EnumSelectField(
            _("Kind"), [InputRequired()], enum_class=ClientKind, default=ClientKind.person
        ),
    }
    edit_form_extra_fields = add_form_extra_fields
    search_form_extra_fields = {"kind": EnumSelectField(_("Kind"), enum_class=ClientKind)}

    def pre_delete(self, item: Client) -> None:
        if _has_policies(self.datamodel.session, Policy.client_id, item.id):
            raise ModelValidationError(
                {"": str(_("This client still has policies: delete or move them first."))}
            )

    def post_add(self, item: Client) -> None:
        metrics.CLIENTS_CREATED.labels(channel="screen").inc()


class CompanyView(ExportMixin, OrganisationModelView):
    class_permission_name = permissions.COMPANY
    method_permission_name = permissions.SCREEN_METHODS
    datamodel = ListInterface(Company)
    list_title = _("Insurers")
    export_file_stem = "insurers"
    show_title = _("Insurer")
    add_title = _("New insurer")
    edit_title = _("Edit insurer")
    related_views = [PolicyView]

    list_columns = ["name", "code", "contact_name", "email", "phone"]
    nowrap_columns = ("code", "phone")
    add_columns = ["name", "code", "contact_name", "email", "phone"]
    edit_columns = add_columns
    show_columns = [*add_columns, *RECORD_DATES]
    search_columns = ["name", "code", "contact_name", "email"]
    order_columns = ["name", "code"]
    base_order = ("name", "asc")
    label_columns = column_labels(*show_columns)
    description_columns = {"code": _("Your agency's code for this insurer; unique.")}
    formatters_columns = DATE_FORMATTERS
    unique_constraints = {
        "uq_company_organisation_code": ("code", _("An insurer with this code already exists.")),
        "company.organisation_id, company.code": (
            "code",
            _("An insurer with this code already exists."),
        ),
    }

    def check_unique(self, item: Company) -> None:
        if item.code and _duplicate(self.datamodel.session, Company, item, "code"):
            raise ModelValidationError(
                {"code": str(_("An insurer with this code already exists."))}
            )

    def pre_delete(self, item: Company) -> None:
        if _has_policies(self.datamodel.session, Policy.company_id, item.id):
            raise ModelValidationError(
                {"": str(_("This insurer still has policies: delete or move them first."))}
            )
