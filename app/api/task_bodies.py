"""The JSON bodies of /api/v1/task/ and /api/v1/task_rule/ (app/api/tasks.py,
app/api/task_rules.py): what the doors load, and the shapes they answer."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, fields, validate

from app.api.bodies import Id, StrictBoolean
from app.api.doors import json_object
from app.services.tasks import work

TEAMS = ["USER", "MANAGER", "ADMIN"]


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
