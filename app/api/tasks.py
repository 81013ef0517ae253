"""/api/v1/task/ and /api/v1/task_rule/: the work queue through the API.

Thin doors over app/services/tasks/. Tasks list, read, are posted and edited, and move
through their actions (assign, start, complete, approve, refuse, cancel); a manager hands
many out at once (``POST /reassign``). The list filters through FAB's ``q`` like every
resource, plus ``mine`` (given to me or to one of my teams), ``overdue`` and
``open`` (true/false). Another agency's task answers 404, in a bulk reassign too.

Rules (MANAGER and above) list, read, are posted and edited; ``POST /task_rule/apply``
applies the agency's rules now, or with ``dry_run`` lists the tasks it would create.

Permissions (app/services/roles.py): ``Task.can_read``/``can_write`` for every role,
``Task.can_batch`` (bulk reassign) and ``TaskRule`` for MANAGER and above.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from flask_appbuilder.api import expose, protect
from flask_appbuilder.models.filters import Filters
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy import Boolean, Column, inspect
from sqlalchemy.orm import Query
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import OrganisationModelRestApi, parse_pk
from app.api.bodies import Id, StrictBoolean
from app.api.doors import json_object, safe, transaction
from app.api.openapi import add_responses, message_response
from app.api.renewal_schemas import UnregisteredFilter
from app.extensions import db
from app.models import Task, TaskRule, ValidationOutcome
from app.models.task import OPEN_STATUSES
from app.services.errors import InvalidRequestError, NotFoundError
from app.services.scope import current_user
from app.services.tasks import engine, work
from app.services.tasks.rules import check_rule
from app.services.timezones import local_today, reader_zone

TEAMS = ["USER", "MANAGER", "ADMIN"]
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


def nullable_enums(api_spec: Any, api_name: str, model: type) -> None:
    """Say in the spec that an empty enum column answers null (marshmallow leaves it out)."""
    nullable = {column.key for column in inspect(model).columns if column.nullable}
    for name, schema in api_spec.components.schemas.items():
        if not name.startswith(f"{api_name}."):
            continue
        for key, prop in schema.get("properties", {}).items():
            if key in nullable and "enum" in prop:
                prop["nullable"] = True


CONFLICT = message_response("The task is already closed, or the action does not fit its type")
ACTION_CONFLICT = message_response("The task is closed, or the action does not fit it")


# --- bodies -----------------------------------------------------------------------------


class TaskCreateSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    due_on = fields.Date(required=True)
    type = fields.String(validate=validate.OneOf(["action", "reminder", "waiting", "validation"]))
    priority = fields.String(validate=validate.OneOf(["low", "normal", "high", "urgent"]))
    category_id = Id(allow_none=True)
    assignee_id = Id(
        allow_none=True, metadata={"description": "A user of the agency; empty: yourself"}
    )
    team = fields.String(allow_none=True, validate=validate.OneOf(TEAMS))
    result_note = fields.String(allow_none=True, validate=validate.Length(max=5000))
    client_id = Id(allow_none=True)
    policy_id = Id(allow_none=True)
    renewal_cycle_id = Id(allow_none=True)
    premium_notice_id = Id(allow_none=True)


class TaskEditSchema(Schema):
    title = fields.String(validate=validate.Length(min=1, max=200))
    due_on = fields.Date()
    priority = fields.String(validate=validate.OneOf(["low", "normal", "high", "urgent"]))
    category_id = Id(allow_none=True)
    result_note = fields.String(allow_none=True, validate=validate.Length(max=5000))


class AssignSchema(Schema):
    assignee_id = Id(allow_none=True)
    team = fields.String(allow_none=True, validate=validate.OneOf(TEAMS))


class ReassignSchema(AssignSchema):
    ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=work.MAX_BULK))


class NoteSchema(Schema):
    result_note = fields.String(allow_none=True, validate=validate.Length(max=5000))


class ReassignedSchema(Schema):
    ids = fields.List(fields.Integer())


class ApplySchema(Schema):
    dry_run = StrictBoolean(load_default=False)


class PlannedSchema(Schema):
    rule_id = fields.Integer()
    rule_name = fields.String()
    title = fields.String()
    due_on = fields.String()
    assignee_id = fields.Integer(allow_none=True)
    team = fields.String(allow_none=True)
    policy_id = fields.Integer()
    renewal_cycle_id = fields.Integer(allow_none=True)
    premium_notice_id = fields.Integer(allow_none=True)
    claim_id = fields.Integer(allow_none=True)


class PlannedMessageSchema(Schema):
    rule_id = fields.Integer()
    rule_name = fields.String()
    to = fields.String()
    subject = fields.String()
    client_id = fields.Integer()
    policy_id = fields.Integer()
    renewal_cycle_id = fields.Integer(allow_none=True)
    premium_notice_id = fields.Integer(allow_none=True)


class AppliedSchema(Schema):
    dry_run = fields.Boolean()
    created = fields.Integer(metadata={"description": "Tasks created (dry run: would be)"})
    planned = fields.List(fields.Nested(PlannedSchema), metadata={"description": "Dry run"})
    queued = fields.Integer(
        metadata={"description": "E-mails written to the outbox (dry run: would be)"}
    )
    messages = fields.List(
        fields.Nested(PlannedMessageSchema), metadata={"description": "Dry run: the e-mails"}
    )
    failed_rules = fields.Dict(
        keys=fields.String(), values=fields.String(), metadata={"description": "id -> why"}
    )


def optional_body() -> dict[str, Any]:
    """The actions' body: a JSON object, or nothing at all (a start, a dry run's default)."""
    return json_object() if request.get_data() else {}


# --- list filters -----------------------------------------------------------------------


class Mine(UnregisteredFilter):
    name = "Equal to"
    arg_name = "eq"

    def apply(self, query: Query, value: Any) -> Query:
        user = current_user()
        if user is None:
            return query.filter(Task.id.is_(None))
        clause = work.mine_clause(user)
        return query.filter(clause if value else ~clause)


class Overdue(UnregisteredFilter):
    name = "Equal to"
    arg_name = "eq"

    def apply(self, query: Query, value: Any) -> Query:
        late = Task.status.in_(OPEN_STATUSES) & (Task.due_on < local_today(reader_zone()))
        return query.filter(late if value else ~late)


class Open(UnregisteredFilter):
    name = "Equal to"
    arg_name = "eq"

    def apply(self, query: Query, value: Any) -> Query:
        still = Task.status.in_(OPEN_STATUSES)
        return query.filter(still if value else ~still)


EXTRA_FILTERS: dict[str, tuple[Column, list[type[UnregisteredFilter]]]] = {
    "mine": (Column("mine", Boolean()), [Mine]),
    "overdue": (Column("overdue", Boolean()), [Overdue]),
    "open": (Column("open", Boolean()), [Open]),
}


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
