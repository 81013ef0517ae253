"""Read-only `/api/v1/audit/`: the audit trail, scoped like everything else."""

from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface

from app import permissions
from app.api.base import OrganisationModelRestApi
from app.models import AuditLog
from app.models.audit import AUDIT_FIELDS

# The ids come first for scripts that join entries to users and rows.
AUDIT_COLUMNS = ["id", "user_id", *AUDIT_FIELDS]


class AuditLogApi(OrganisationModelRestApi):
    """List and read audit entries; no route writes, changes or deletes them."""

    class_permission_name = permissions.AUDIT_LOG
    method_permission_name = permissions.API_METHODS

    resource_name = "audit"
    datamodel = SQLAInterface(AuditLog)
    include_route_methods = {"get", "get_list", "info"}
    list_columns = AUDIT_COLUMNS
    show_columns = AUDIT_COLUMNS
    search_columns = ["user_id", "username", "action", "object_type", "object_id", "created_at"]
    order_columns = ["id", "created_at", "action", "object_type", "username"]
    base_order = ("id", "desc")
