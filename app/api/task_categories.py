"""/api/v1/task_category/: the agency's own list of task categories.

Every role reads it (a task is filed under one, ``category_id`` on /api/v1/task/);
MANAGER and above add, rename and switch off categories (``active``). Never deleted: the
tasks and rules filed under a category keep naming it. Names are unique in an agency
(422 naming the field); another agency's category answers 404, as unknown.
"""

from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app import permissions
from app.api.base import OrganisationModelRestApi
from app.models import TaskCategory


class TaskCategoryApi(OrganisationModelRestApi):
    class_permission_name = permissions.TASK_CATEGORY
    method_permission_name = permissions.API_METHODS
    resource_name = "task_category"
    openapi_spec_tag = "Tasks"
    datamodel = SQLAInterface(TaskCategory)
    include_route_methods = {"get", "get_list", "info", "post", "put"}
    list_columns = ["id", "name", "active"]
    show_columns = [*list_columns, "created_at", "updated_at"]
    add_columns = ["name", "active"]
    edit_columns = add_columns
    search_columns = ["name", "active"]
    order_columns = ["id", "name"]
    base_order = ("name", "asc")

    def integrity_message(self, error: IntegrityError) -> str | dict[str, str]:
        if "name" in str(error.orig):
            return {"name": _("A category of this name exists already.")}
        return super().integrity_message(error)
