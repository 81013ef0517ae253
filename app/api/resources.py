"""REST resources for the portfolio: /api/v1/company/, /api/v1/client/, /api/v1/policy/."""

from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy.exc import IntegrityError

from app import metrics, permissions
from app.api.base import OrganisationModelRestApi
from app.api.privacy import ClientPrivacyMixin
from app.models import Client, Company, Policy

CLIENT_FIELDS = [
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
POLICY_FIELDS = [
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
    "echeance_day",
    "echeance_month",
    "tacit_renewal",
    "notice_months",
    "use",
    "borrower",
    "group_contract",
    "mandate_id",
    "product",
]


class CompanyApi(OrganisationModelRestApi):
    class_permission_name = permissions.COMPANY
    method_permission_name = permissions.API_METHODS
    resource_name = "company"
    datamodel = SQLAInterface(Company)
    list_columns = ["id", "name", "code", "contact_name", "email", "phone"]
    show_columns = [*list_columns, "iban", "bic", "created_at", "updated_at"]
    # The account remittance transfers go to (app/services/commissions/remittances.py).
    add_columns = ["name", "code", "contact_name", "email", "phone", "iban", "bic"]
    edit_columns = add_columns
    search_columns = ["name", "code", "contact_name", "email"]
    order_columns = ["id", "name", "code"]
    base_order = ("name", "asc")

    def integrity_message(self, error: IntegrityError) -> str | dict[str, str]:
        if "code" in str(error.orig):
            return {"code": _("An insurer with this code already exists.")}
        return super().integrity_message(error)


class ClientApi(ClientPrivacyMixin, OrganisationModelRestApi):
    class_permission_name = permissions.CLIENT
    # Exporting and erasing a client's data: can_privacy (MANAGER and above).
    method_permission_name = {
        **permissions.API_METHODS,
        "data_export": permissions.PRIVACY,
        "erase": permissions.PRIVACY,
    }
    resource_name = "client"
    datamodel = SQLAInterface(Client)
    list_columns = [
        "id",
        "kind",
        "first_name",
        "last_name",
        "company_name",
        "email",
        "phone",
        "city",
    ]
    show_columns = ["id", *CLIENT_FIELDS, "erased_at", "created_at", "updated_at"]
    add_columns = CLIENT_FIELDS
    edit_columns = CLIENT_FIELDS
    search_columns = [
        "kind",
        "first_name",
        "last_name",
        "company_name",
        "email",
        "city",
        "postal_code",
    ]
    order_columns = ["id", "last_name", "first_name", "company_name", "city", "created_at"]
    base_order = ("last_name", "asc")


class PolicyApi(OrganisationModelRestApi):
    class_permission_name = permissions.POLICY
    method_permission_name = permissions.API_METHODS
    resource_name = "policy"
    datamodel = SQLAInterface(Policy)
    list_columns = [
        "id",
        "number",
        "client_id",
        "client.first_name",
        "client.last_name",
        "client.company_name",
        "company_id",
        "company.name",
        "line_of_business",
        "status",
        "effective_date",
        "expiry_date",
        "premium",
        "currency",
    ]
    show_columns = [
        "id",
        *POLICY_FIELDS,
        "client.last_name",
        "company.name",
        "created_at",
        "updated_at",
    ]
    add_columns = POLICY_FIELDS
    edit_columns = POLICY_FIELDS
    # In _info and, through the schemas' field metadata, in the OpenAPI spec.
    label_columns = {"premium": lazy_gettext("Annual premium incl. tax")}
    description_columns = {
        "premium": lazy_gettext(
            'The annual premium, taxes included, as a decimal string ("420.50"):'
            " the documents split it by the payment frequency."
        ),
        "expiry_date": lazy_gettext(
            "The end of the current term: the coming échéance. Renewing adds a term and moves it."
        ),
        "echeance_day": lazy_gettext(
            "Day of the main échéance (1-31); empty: the day of the current term's end."
        ),
        "echeance_month": lazy_gettext(
            "Month of the main échéance (1-12); empty: the month of the current term's end."
        ),
        "tacit_renewal": lazy_gettext("Renewed by tacit agreement each year (default true)."),
        "notice_months": lazy_gettext(
            "Months of notice to refuse renewal before the échéance (L113-12; default 2)."
        ),
        "use": lazy_gettext(
            "consumer or professional: the Chatel and Hamon rights protect consumers only."
        ),
        "borrower": lazy_gettext("Loan insurance (assurance emprunteur, loi Lemoine)."),
        "group_contract": lazy_gettext("A group contract (excluded from Chatel)."),
        "mandate_id": lazy_gettext(
            "The SEPA mandate its premiums are debited under (/api/v1/mandate/); empty:"
            " paid by other means."
        ),
        "product": lazy_gettext(
            "The insurer's product name; commission rules may be negotiated per product."
        ),
    }
    search_columns = [
        "number",
        "client_id",
        "company_id",
        "line_of_business",
        "status",
        "effective_date",
        "expiry_date",
        "premium",
        "payment_frequency",
    ]
    order_columns = [
        "id",
        "number",
        "effective_date",
        "expiry_date",
        "premium",
        "status",
        "line_of_business",
    ]
    base_order = ("expiry_date", "asc")

    def integrity_message(self, error: IntegrityError) -> str | dict[str, str]:
        if "number" in str(error.orig):
            return {"number": _("A policy with this number already exists.")}
        return super().integrity_message(error)

    def post_add(self, item: Policy) -> None:
        metrics.POLICIES_CREATED.labels(channel="api").inc()
