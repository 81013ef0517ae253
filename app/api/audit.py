"""Read-only `/api/v1/audit/`: the audit trail, scoped like everything else."""

from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface

from app import permissions
from app.api.base import OrganisationModelRestApi
from app.models import AuditLog

AUDIT_COLUMNS = [
    "id",
    "created_at",
    "user_id",
    "username",
    "organisation_id",
    "action",
    "object_type",
    "object_id",
    "changes",
    "request_id",
    "ip",
    "user_agent",
]


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
