"""/api/v1/claim_checklist_item/: the documents each claim nature asks for, per line.

Every role reads the agency's items; MANAGER and above add, edit, switch off (``active``)
and delete them. ``line_of_business`` null: the item is asked on every line. An item its
list already holds answers 422 naming ``label``; another agency's item answers 404, as
unknown. How a claim picks its list: app/services/claims/checklist.py (docs/claims.md).
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _
from sqlalchemy.exc import IntegrityError

from app import permissions
from app.api.base import OrganisationModelRestApi
from app.models import ClaimChecklistItem
from app.services.claims.checklist import DUPLICATE, check_item


class ClaimChecklistItemApi(OrganisationModelRestApi):
    class_permission_name = permissions.CLAIM_CHECKLIST
    method_permission_name = permissions.API_METHODS
    resource_name = "claim_checklist_item"
    openapi_spec_tag = "Claims"
    datamodel = SQLAInterface(ClaimChecklistItem)
    include_route_methods = {"get", "get_list", "info", "post", "put", "delete"}
    list_columns = ["id", "nature", "line_of_business", "label", "position", "active"]
    show_columns = [*list_columns, "created_at", "updated_at"]
    add_columns = ["nature", "line_of_business", "label", "position", "active"]
    edit_columns = add_columns
    search_columns = ["nature", "line_of_business", "label", "active"]
    order_columns = ["id", "nature", "line_of_business", "position", "label"]
    base_order = ("nature", "asc")
    description_columns = {
        "line_of_business": _("Null: asked on every line of business."),
        "position": _("The order in its list (0 first); left out, the item goes last."),
    }

    def pre_add(self, item: Any) -> None:
        check_item(self.datamodel.session, item)

    def pre_update(self, item: Any) -> None:
        check_item(self.datamodel.session, item)

    def integrity_message(self, error: IntegrityError) -> str | dict[str, str]:
        if "uq_claim_checklist_item" in str(error.orig) or "claim_checklist_item.label" in str(
            error.orig
        ):
            return {"label": str(DUPLICATE)}
        return super().integrity_message(error)
