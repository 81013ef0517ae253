"""/api/v1/task_rule/: the agency's task rules through the API (MANAGER and above).

Rules list, read, are posted and edited (switched off, never deleted); ``POST /apply``
applies the agency's rules now, or with ``dry_run`` lists the tasks and e-mails it would
create. Thin doors over app/services/tasks/ (engine, rules).
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.api import expose, protect
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import OrganisationModelRestApi
from app.api.doors import safe
from app.api.openapi import nullable_enums
from app.api.task_bodies import (
    AppliedSchema,
    ApplySchema,
    PlannedMessageSchema,
    PlannedSchema,
    optional_body,
)
from app.extensions import db
from app.models import TaskRule
from app.services.errors import InvalidRequestError
from app.services.scope import current_user
from app.services.tasks import engine
from app.services.tasks.rules import check_rule

RULE_COLUMNS = [
    "id",
    "name",
    "trigger",
    "offset_days",
    "due_days",
    "title_template",
    "type",
    "category_id",
    "priority",
    "assignee_rule",
    "team",
    "assignee_id",
    "active",
    "creates_task",
    "email_template_id",
]


class TaskRuleApi(OrganisationModelRestApi):
    class_permission_name = permissions.TASK_RULE
    method_permission_name = {**permissions.API_METHODS, "apply": permissions.WRITE}
    resource_name = "task_rule"
    openapi_spec_tag = "Tasks"
    datamodel = SQLAInterface(TaskRule)
    # Switched off (active: false), never deleted: their tasks keep naming them.
    include_route_methods = {"get", "get_list", "info", "post", "put", "apply"}
    list_columns = RULE_COLUMNS
    show_columns = [*RULE_COLUMNS, "created_at", "updated_at"]
    add_columns = RULE_COLUMNS[1:]
    edit_columns = RULE_COLUMNS[1:]
    search_columns = ["name", "trigger", "active", "type", "assignee_rule", "team"]
    order_columns = ["id", "name", "trigger"]
    base_order = ("id", "asc")
    openapi_spec_component_schemas = (
        ApplySchema,
        PlannedSchema,
        PlannedMessageSchema,
        AppliedSchema,
    )

    def add_api_spec(self, api_spec: Any) -> None:
        super().add_api_spec(api_spec)
        nullable_enums(api_spec, type(self).__name__, TaskRule)

    def pre_add(self, item: TaskRule) -> None:
        check_rule(db.session, item)

    def pre_update(self, item: TaskRule) -> None:
        check_rule(db.session, item)

    def integrity_message(self, error: Exception) -> dict[str, str]:
        return {"name": _("A rule of this name exists already.")}

    @expose("/apply", methods=["POST"])
    @protect()
    @safe
    def apply(self) -> Response:
        """Apply the agency's rules now, or list what they would create.
        ---
        post:
          summary: Apply the task rules (or a dry run)
          description: >-
            What the daily run does, for the caller's agency: one task per rule and
            record, never twice. With `dry_run` nothing is written and `planned` lists
            the tasks.
          requestBody:
            content:
              application/json:
                schema: {$ref: '#/components/schemas/ApplySchema'}
          responses:
            200:
              description: Applied (or planned)
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/AppliedSchema'}
            400:
              $ref: '#/components/responses/400'
            403:
              $ref: '#/components/responses/403'
            422:
              $ref: '#/components/responses/422'
        """
        data = ApplySchema().load(optional_body())
        user = current_user()
        if user is None or user.organisation_id is None:
            raise InvalidRequestError(_("Only an agency's people apply its rules."))
        run = engine.apply_rules(
            db.session, organisation_id=user.organisation_id, dry_run=data["dry_run"]
        )
        if run.failed:
            raise InvalidRequestError(_("The rules could not be applied: see the log."))
        return self.response(
            200,
            dry_run=run.dry_run,
            created=len(run.planned) if run.dry_run else run.summary()["created"],
            planned=[plan.as_dict() for plan in run.planned],
            queued=len(run.planned_messages) if run.dry_run else run.summary()["queued"],
            messages=[plan.as_dict() for plan in run.planned_messages],
            failed_rules={str(key): value for key, value in run.failed_rules.items()},
        )
