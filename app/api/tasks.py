"""/api/v1/task/: the work queue through the API.

Thin doors over app/services/tasks/. Tasks list, read, are posted and edited, and move
through their actions (assign, start, complete, approve, refuse, cancel); a manager hands
many out at once (``POST /reassign``). The list filters through FAB's ``q`` like every
resource, plus ``mine``, ``overdue`` and ``open`` (app/api/task_filters.py). Another
agency's task answers 404, in a bulk reassign too. The bodies are app/api/task_bodies.py;
the rules that create tasks, /api/v1/task_rule/, are app/api/task_rules.py.

Permissions (app/services/roles.py): ``Task.can_read``/``can_write`` for every role,
``Task.can_batch`` (bulk reassign) and ``TaskRule`` for MANAGER and above.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_appbuilder.api import expose, protect
from flask_appbuilder.models.filters import Filters
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from marshmallow import Schema
from sqlalchemy import Column
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import OrganisationModelRestApi, parse_pk
from app.api.doors import json_object, safe, transaction
from app.api.openapi import add_responses, message_response, nullable_enums
from app.api.task_bodies import (
    AssignSchema,
    NoteSchema,
    ReassignedSchema,
    ReassignSchema,
    TaskCreateSchema,
    TaskEditSchema,
    optional_body,
)
from app.api.task_filters import EXTRA_FILTERS
from app.extensions import db
from app.models import Task, ValidationOutcome
from app.services.errors import NotFoundError
from app.services.scope import current_user
from app.services.tasks import work

TASK_COLUMNS = [
    "id",
    "title",
    "type",
    "category_id",
    "assignee_id",
    "team",
    "due_on",
    "priority",
    "status",
    "outcome",
    "result_note",
    "client_id",
    "policy_id",
    "renewal_cycle_id",
    "premium_notice_id",
    "claim_id",
    "source",
    "rule_id",
    "created_by_id",
    "completed_at",
    "created_at",
]
CONFLICT = message_response("The task is already closed, or the action does not fit its type")
ACTION_CONFLICT = message_response("The task is closed, or the action does not fit it")


def action_doc(summary: str, body: str | None, answer: str = "get") -> Callable:
    """The OpenAPI block of a task action: the same statuses for each (set as __doc__)."""

    def decorate(view: Callable) -> Callable:
        request_body = (
            "  requestBody:\n    content:\n      application/json:\n"
            f"        schema: {{$ref: '#/components/schemas/{body}'}}\n"
            if body
            else ""
        )
        view.__doc__ = (
            f"{summary}\n---\npost:\n  summary: {summary}\n"
            "  parameters:\n  - {in: path, name: pk, required: true, schema: {type: integer}}\n"
            f"{request_body}"
            "  responses:\n"
            "    200:\n      description: The task as it now is\n"
            "      content:\n        application/json:\n          schema:\n"
            "            type: object\n            properties:\n"
            "              id: {type: integer}\n"
            "              result: {$ref: '#/components/schemas/{{self.__class__.__name__}}."
            f"{answer}'}}\n"
            "    400:\n      $ref: '#/components/responses/400'\n"
            "    403:\n      $ref: '#/components/responses/403'\n"
            "    404:\n      $ref: '#/components/responses/404'\n"
            "    409:\n      $ref: '#/components/responses/TaskActionConflict'\n"
            "    422:\n      $ref: '#/components/responses/422'\n"
        )
        return view

    return decorate


class TaskApi(OrganisationModelRestApi):
    class_permission_name = permissions.TASK
    method_permission_name = {
        **permissions.API_METHODS,
        "assign": permissions.WRITE,
        "start": permissions.WRITE,
        "complete": permissions.WRITE,
        "approve": permissions.WRITE,
        "refuse": permissions.WRITE,
        "cancel": permissions.WRITE,
        "reassign": permissions.BATCH,
    }
    resource_name = "task"
    openapi_spec_tag = "Tasks"
    datamodel = SQLAInterface(Task)
    # Closed by their actions, never deleted: the audit trail keeps what was done.
    include_route_methods = {
        "get",
        "get_list",
        "info",
        "post",
        "put",
        "assign",
        "start",
        "complete",
        "approve",
        "refuse",
        "cancel",
        "reassign",
    }
    list_columns = TASK_COLUMNS
    show_columns = [*TASK_COLUMNS, "rule_key", "updated_at"]
    add_columns = list(TaskCreateSchema._declared_fields)
    add_model_schema = TaskCreateSchema()
    edit_columns = list(TaskEditSchema._declared_fields)
    edit_model_schema = TaskEditSchema()
    search_columns = [
        "status",
        "type",
        "priority",
        "due_on",
        "assignee_id",
        "team",
        "category_id",
        "client_id",
        "policy_id",
        "renewal_cycle_id",
        "premium_notice_id",
        "claim_id",
        "source",
        "rule_id",
    ]
    order_columns = ["id", "due_on", "priority", "status", "created_at"]
    base_order = ("due_on", "asc")
    openapi_spec_component_schemas = (
        AssignSchema,
        ReassignSchema,
        ReassignedSchema,
        NoteSchema,
    )

    def __init__(self) -> None:
        super().__init__()
        self.search_columns = [*self.search_columns, *EXTRA_FILTERS]
        search = self._filters.get_search_filters()
        for name, (_column, classes) in EXTRA_FILTERS.items():
            search[name] = [flt(name, self.datamodel) for flt in classes]

    def _search_columns(self) -> dict[str, Column]:
        extra = {name: column for name, (column, _classes) in EXTRA_FILTERS.items()}
        return {**super()._search_columns(), **extra}

    def _handle_filters_args(self, rison_args: dict[str, Any]) -> Filters:
        self._filters.clear_filters()
        plain = []
        for item in rison_args.get("filters", []):
            if item.get("col") not in EXTRA_FILTERS:
                plain.append(item)
                continue
            _column, classes = EXTRA_FILTERS[item["col"]]
            (chosen,) = [flt for flt in classes if flt.arg_name == item.get("opr")]
            self._filters.add_filter(item["col"], chosen, item["value"])
        self._filters.rest_add_filters(plain)
        return self._filters.get_joined_filters(self._base_filters)

    def _answer(self, task: Task, status: int = 200) -> Response:
        return self.response(status, id=task.id, result=self.show_model_schema.dump(task))

    def post_headless(self) -> Response:
        body = json_object()
        with self.transaction():
            data = TaskCreateSchema().load(body)
            task = work.create_task(db.session, current_user(), data)
        response = self._answer(task, 201)
        response.headers["Location"] = f"{self.route_base}/{task.id}"
        return response

    def put_headless(self, pk: Any) -> Response:
        body = json_object()
        with self.transaction():
            data = TaskEditSchema().load(body)
            task = work.update_task(db.session, current_user(), self._pk(pk), data)
        return self._answer(task)

    def _pk(self, pk: str) -> int:
        parsed = parse_pk(pk, self.pk_bound)
        if parsed is None:
            raise NotFoundError(_("Task not found."))
        return parsed

    def _act(self, pk: str, action: Callable[..., Task], schema: Schema | None = None) -> Response:
        data = schema.load(optional_body()) if schema is not None else {}
        with self.transaction():
            task = action(db.session, current_user(), self._pk(pk), **data)
        return self._answer(task)

    @expose("/<pk>/assign", methods=["POST"])
    @protect()
    @safe
    @action_doc("Give the task to a user of the agency or to a team", "AssignSchema")
    def assign(self, pk: str) -> Response:
        return self._act(pk, work.assign, AssignSchema())

    @expose("/<pk>/start", methods=["POST"])
    @protect()
    @safe
    @action_doc("Start the task", None)
    def start(self, pk: str) -> Response:
        return self._act(pk, work.start)

    @expose("/<pk>/complete", methods=["POST"])
    @protect()
    @safe
    @action_doc("Mark the task done, with its result", "NoteSchema")
    def complete(self, pk: str) -> Response:
        return self._act(pk, work.complete, NoteSchema())

    @expose("/<pk>/approve", methods=["POST"])
    @protect()
    @safe
    @action_doc("Approve a validation task", "NoteSchema")
    def approve(self, pk: str) -> Response:
        return self._decide(pk, ValidationOutcome.approved)

    @expose("/<pk>/refuse", methods=["POST"])
    @protect()
    @safe
    @action_doc("Refuse a validation task", "NoteSchema")
    def refuse(self, pk: str) -> Response:
        return self._decide(pk, ValidationOutcome.refused)

    @expose("/<pk>/cancel", methods=["POST"])
    @protect()
    @safe
    @action_doc("Cancel the task", "NoteSchema")
    def cancel(self, pk: str) -> Response:
        return self._act(pk, work.cancel, NoteSchema())

    def _decide(self, pk: str, outcome: ValidationOutcome) -> Response:
        data = NoteSchema().load(optional_body())
        with self.transaction():
            task = work.decide(db.session, current_user(), self._pk(pk), outcome, **data)
        return self._answer(task)

    @expose("/reassign", methods=["POST"])
    @protect()
    @safe
    def reassign(self) -> Response:
        """Hand many open tasks to one user or team at once (managers).
        ---
        post:
          summary: Reassign tasks in bulk
          description: >-
            All or none: an id of another agency answers 404, a closed task 409.
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/ReassignSchema'}
          responses:
            200:
              description: Reassigned
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/ReassignedSchema'}
            400:
              $ref: '#/components/responses/400'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              description: Some of the tasks are closed
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/Message'}
            422:
              $ref: '#/components/responses/422'
        """
        data = ReassignSchema().load(json_object())
        with transaction(db.session):
            tasks = work.reassign_bulk(
                db.session,
                current_user(),
                data["ids"],
                assignee_id=data.get("assignee_id"),
                team=data.get("team"),
            )
        return self.response(200, ids=sorted(task.id for task in tasks))

    def add_apispec_components(self, api_spec: Any) -> None:
        super().add_apispec_components(api_spec)
        add_responses(api_spec, {"TaskActionConflict": ACTION_CONFLICT})

    def add_api_spec(self, api_spec: Any) -> None:
        super().add_api_spec(api_spec)
        nullable_enums(api_spec, type(self).__name__, Task)
        # POST answers the task as GET shows it; PUT too, and may find it closed.
        shown = {"$ref": f"#/components/schemas/{self.show_model_schema_name}"}
        for path, method in ((self.route_base + "/", "post"), (self.route_base + "/{pk}", "put")):
            operation = api_spec._paths[path][method]
            for status in ("200", "201"):
                answer = operation["responses"].get(status)
                if answer:
                    answer["content"]["application/json"]["schema"]["properties"]["result"] = shown
            if method == "put":
                operation["responses"].setdefault("409", CONFLICT)
                operation["responses"].setdefault("403", {"$ref": "#/components/responses/403"})
