"""Generated screens for insurers, clients and policies, scoped to the organisation."""

from __future__ import annotations

from typing import Any

from flask_appbuilder import ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _

from app import metrics
from app.extensions import db
from app.models import Client, Company, Policy
from app.services.scope import (
    ORGANISATION_BASE_FILTERS,
    FilterByOrganisation,
    organisation_for_new_rows,
)
from app.services.validation import validate_item

SCOPED = [["organisation_id", FilterByOrganisation, None]]


class OrganisationModelView(ModelView):
    """A ModelView showing and writing only the user's organisation rows."""

    base_filters = ORGANISATION_BASE_FILTERS
    page_size = 25

    def pre_add(self, item: Any) -> None:
        # FAB flashes any exception raised here and keeps the form.
        item.organisation_id = organisation_for_new_rows()
        if item.organisation_id is None:
            raise ValueError(str(_("Your account belongs to no organisation.")))
        validate_item(db.session, item)

    def pre_update(self, item: Any) -> None:
        validate_item(db.session, item)


class PolicyView(OrganisationModelView):
    datamodel = SQLAInterface(Policy)
    list_title = _("Policies")
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
        "client",
        "company",
        "line_of_business",
        "status",
        "effective_date",
        "expiry_date",
        "premium",
        "currency",
        "payment_frequency",
        "renewal_of",
    ]
    edit_columns = add_columns
    show_columns = [*add_columns, "created_at", "updated_at"]
    search_columns = [
        "number",
        "client",
        "company",
        "line_of_business",
        "status",
        "effective_date",
        "expiry_date",
        "premium",
    ]
    order_columns = [
        "number",
        "line_of_business",
        "status",
        "effective_date",
        "expiry_date",
        "premium",
    ]
    base_order = ("expiry_date", "asc")
    add_form_query_rel_fields = {"client": SCOPED, "company": SCOPED, "renewal_of": SCOPED}
    edit_form_query_rel_fields = add_form_query_rel_fields
    search_form_query_rel_fields = add_form_query_rel_fields

    def post_add(self, item: Policy) -> None:
        metrics.POLICIES_CREATED.labels(channel="screen").inc()


class ClientView(OrganisationModelView):
    datamodel = SQLAInterface(Client)
    list_title = _("Clients")
    related_views = [PolicyView]
    list_columns = ["last_name", "first_name", "company_name", "email", "phone", "city"]
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
    show_columns = [*add_columns, "created_at", "updated_at"]
    search_columns = [
        "last_name",
        "first_name",
        "company_name",
        "email",
        "city",
        "postal_code",
        "kind",
    ]
    order_columns = ["last_name", "first_name", "company_name", "city"]
    base_order = ("last_name", "asc")

    def post_add(self, item: Client) -> None:
        metrics.CLIENTS_CREATED.labels(channel="screen").inc()


class CompanyView(OrganisationModelView):
    datamodel = SQLAInterface(Company)
    list_title = _("Insurers")
    related_views = [PolicyView]
    list_columns = ["name", "code", "contact_name", "email", "phone"]
    add_columns = ["name", "code", "contact_name", "email", "phone"]
    edit_columns = add_columns
    show_columns = [*add_columns, "created_at", "updated_at"]
    search_columns = ["name", "code", "contact_name", "email"]
    order_columns = ["name", "code"]
    base_order = ("name", "asc")
