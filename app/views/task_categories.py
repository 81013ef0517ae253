"""Tâches > Catégories de tâches: the agency's own list, for its managers.

Added, renamed and switched off here (or through /api/v1/task_category/), never deleted:
the tasks and rules filed under a category keep naming it. Scoped to the user's agency
like every OrganisationModelView; each change is in the audit trail (TaskCategory).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _
from wtforms import BooleanField

from app import permissions
from app.models import TaskCategory
from app.models.base import ModelValidationError
from app.views.base import OrganisationModelView
from app.views.interface import ListInterface
from app.views.labels import column_labels, yes_no
from app.views.portfolio import RECORD_DATES, _duplicate

DUPLICATE = _("A category of this name exists already.")


class TaskCategoryView(OrganisationModelView):
    route_base = "/task-categories"
    class_permission_name = permissions.TASK_CATEGORY
    method_permission_name = permissions.SCREEN_METHODS
    include_route_methods = {"list", "show", "add", "edit"}
    datamodel = ListInterface(TaskCategory)
    list_title = _("Task categories")
    show_title = _("Task category")
    add_title = _("New task category")
    edit_title = _("Edit task category")

    list_columns = ["name", "active"]
    add_columns = ["name", "active"]
    edit_columns = add_columns
    show_columns = [*add_columns, *RECORD_DATES]
    search_columns = ["name", "active"]
    order_columns = ["name"]
    base_order = ("name", "asc")
    label_columns = {
        "name": _("Category"),
        "active": _("In use"),
        **column_labels(*RECORD_DATES),
    }
    formatters_columns = {"active": yes_no}  # "Oui", not Python's True
    # An unchecked box is "switched off", not a missing value (FAB would require the column).
    add_form_extra_fields = {
        "active": BooleanField(
            _("Active"),
            default=True,
            description=_("Switched off, no new task can be filed under it."),
        )
    }
    edit_form_extra_fields = add_form_extra_fields
    # Two saves racing past check_unique: the constraint decides (PostgreSQL names, SQLite columns).
    unique_constraints = {
        "uq_task_category_organisation_name": ("name", DUPLICATE),
        "task_category.organisation_id, task_category.name": ("name", DUPLICATE),
    }

    def check_unique(self, item: TaskCategory) -> None:
        if item.name and _duplicate(self.datamodel.session, TaskCategory, item, "name"):
            raise ModelValidationError({"name": str(DUPLICATE)})
