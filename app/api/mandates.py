"""/api/v1/mandate/: the SEPA direct debit mandates of the agency's clients.

The IBAN is written in full (checked: length, country, check digits) and read back
masked only (``masked_iban``: country, check digits and last four). A mandate is
revoked, not deleted (PUT ``status`` = ``revoked`` with ``revoked_on``): the debits
made under it keep naming it. A contract is debited under a mandate by setting its
``mandate_id`` (PUT /api/v1/policy/<id>).
"""

from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy.exc import IntegrityError

from app import permissions
from app.api.base import OrganisationModelRestApi
from app.models import Mandate
from app.services.premiums.mandates import check_mandate_dates

READ_COLUMNS = [
    "id",
    "client_id",
    "reference",
    "masked_iban",
    "bic",
    "debtor_name",
    "signed_on",
    "sequence",
    "status",
    "revoked_on",
]


class MandateApi(OrganisationModelRestApi):
    class_permission_name = permissions.MANDATE
    method_permission_name = permissions.API_METHODS
    resource_name = "mandate"
    datamodel = SQLAInterface(Mandate)
    include_route_methods = {"get", "get_list", "info", "post", "put"}
    list_columns = READ_COLUMNS
    show_columns = [*READ_COLUMNS, "created_at", "updated_at"]
    add_columns = ["client_id", "reference", "iban", "bic", "debtor_name", "signed_on"]
    # A new account is a new mandate (and a new FRST): the IBAN is not edited.
    edit_columns = ["bic", "debtor_name", "status", "revoked_on"]
    search_columns = ["client_id", "reference", "status", "signed_on"]
    order_columns = ["id", "reference", "signed_on", "status"]
    base_order = ("id", "asc")
    description_columns = {
        "reference": lazy_gettext(
            "The unique mandate reference (UMR), 35 characters at most, as signed."
        ),
        "iban": lazy_gettext("The debtor's IBAN; read back masked (masked_iban)."),
        "masked_iban": lazy_gettext("The IBAN's country, check digits and last four."),
        "sequence": lazy_gettext(
            "first until a debit goes out under it (FRST), then recurring (RCUR)."
        ),
        "status": lazy_gettext("active, or revoked (with revoked_on): no debit goes out."),
    }

    def pre_add(self, item: Mandate) -> None:
        check_mandate_dates(self.datamodel.session, item)

    def pre_update(self, item: Mandate) -> None:
        check_mandate_dates(self.datamodel.session, item)

    def integrity_message(self, error: IntegrityError) -> str | dict[str, str]:
        if "reference" in str(error.orig):
            return {"reference": _("A mandate with this reference already exists.")}
        return super().integrity_message(error)
