"""E-mail by API: send a template about a record, many at once, approve, read the outbox.

- ``POST /api/v1/message/`` -> 201, one message about one record (queued at once)
- ``POST /api/v1/message/bulk`` -> 201, one message per record (MAIL_BULK_MAX at most,
  else 422), optionally held for a manager's approval
- ``POST /api/v1/message/approve`` -> 200, approve or refuse held messages (MANAGER)
- ``GET /api/v1/message/`` and ``/<id>`` -> the outbox, as sent

Thin doors over app/services/mail/compose.py. Another agency's record (a claim among
them), template or document answers 404, like an unknown one, and nothing is queued.
"""

from __future__ import annotations

from flask_appbuilder.api import expose, protect
from flask_appbuilder.models.sqla.interface import SQLAInterface
from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import OrganisationModelRestApi
from app.api.bodies import Id
from app.api.doors import json_object, safe
from app.extensions import db
from app.models import Message
from app.services.mail import compose
from app.services.scope import current_user

MESSAGE_LIST_COLUMNS = [
    "id",
    "status",
    "to_addresses",
    "subject",
    "policy_id",
    "client_id",
    "renewal_cycle_id",
    "premium_notice_id",
    "claim_id",
    "attempts",
    "smtp_answer",
    "created_at",
    "finished_at",
]
MESSAGE_SHOW_COLUMNS = [
    *MESSAGE_LIST_COLUMNS,
    "message_id",
    "from_address",
    "reply_to",
    "cc_addresses",
    "body_text",
    "body_html",
    "attachments",
    "template_version_id",
    "error",
    "approved_at",
]
Addresses = fields.List(fields.Email(), validate=validate.Length(max=20))


class SendMessageSchema(Schema):
    template_id = Id(required=True, metadata={"description": "An e-mail template (kind email)"})
    record = fields.String(required=True, validate=validate.OneOf(compose.RECORD_KINDS))
    record_id = Id(required=True)
    to = fields.List(
        fields.Email(),
        validate=validate.Length(max=20),
        metadata={"description": "Default: the client's e-mail address"},
    )
    cc = fields.List(fields.Email(), validate=validate.Length(max=20))
    document_ids = fields.List(Id(), validate=validate.Length(max=20))
    link = fields.Boolean(
        load_default=False,
        metadata={"description": "Send the documents as signed download links, not attached"},
    )


class BulkMessageSchema(Schema):
    template_id = Id(required=True)
    record = fields.String(
        required=True, validate=validate.OneOf(["policy", "renewal_cycle", "premium_notice"])
    )
    record_ids = fields.List(Id(), required=True)
    attach_avis = fields.Boolean(
        load_default=False,
        metadata={
            "description": "renewal_cycle: attach each cycle's avis d'échéance (made if none)"
        },
    )
    approval = fields.Boolean(
        load_default=False, metadata={"description": "Hold the messages for a manager's approval"}
    )


class ApproveMessagesSchema(Schema):
    message_ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=1000))
    approved = fields.Boolean(load_default=True, metadata={"description": "false: refuse them"})


class SentSchema(Schema):
    id = fields.Integer()
    status = fields.String()


class BulkSentSchema(Schema):
    ids = fields.List(fields.Integer())
    skipped = fields.List(fields.Dict(), metadata={"description": "{id, reason} per record"})


class ApprovedSchema(Schema):
    changed = fields.Integer()


class MessageApi(OrganisationModelRestApi):
    class_permission_name = permissions.MESSAGE
    method_permission_name = {
        "get": permissions.READ,
        "get_list": permissions.READ,
        "send": permissions.WRITE,
        "bulk": permissions.WRITE,
        "approve": permissions.BATCH,
    }
    resource_name = "message"
    openapi_spec_tag = "Messages"
    datamodel = SQLAInterface(Message)
    include_route_methods = {"get", "get_list", "send", "bulk", "approve"}
    list_columns = MESSAGE_LIST_COLUMNS
    show_columns = MESSAGE_SHOW_COLUMNS
    search_columns = [
        "status",
        "policy_id",
        "client_id",
        "renewal_cycle_id",
        "premium_notice_id",
        "claim_id",
    ]
    order_columns = ["id", "created_at", "finished_at"]
    base_order = ("id", "desc")
    openapi_spec_component_schemas = (
        SendMessageSchema,
        BulkMessageSchema,
        ApproveMessagesSchema,
        SentSchema,
        BulkSentSchema,
        ApprovedSchema,
    )

    @expose("/", methods=["POST"])
    @protect()
    @safe
    def send(self) -> Response:
        """Send an e-mail template about one record.
        ---
        post:
          summary: Send an e-mail about a record
          description: >-
            Renders the template's published version with the record's data (a template
            error names its line: 422), writes the message and queues it. Documents of
            another agency answer 404 and nothing is queued.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/SendMessageSchema'
          responses:
            201:
              description: Queued; Location names the message
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/SentSchema'
            400:
              $ref: '#/components/responses/400'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        body = json_object()
        data = SendMessageSchema().load(body)
        message_id = compose.send_from_record(
            db.session,
            current_user(),
            template_id=data["template_id"],
            record_kind=data["record"],
            record_id=data["record_id"],
            to=data.get("to"),
            cc=data.get("cc"),
            document_ids=data.get("document_ids"),
            link=data["link"],
        )
        message = db.session.get(Message, message_id)
        response = self.response(201, id=message_id, status=message.status.value)
        response.headers["Location"] = f"{self.route_base}/{message_id}"
        return response

    @expose("/bulk", methods=["POST"])
    @protect()
    @safe
    def bulk(self) -> Response:
        """Send an e-mail template about many records.
        ---
        post:
          summary: Send e-mails about many records
          description: >-
            One message per record, to its client's address (records whose client has
            none are skipped and listed). More than MAIL_BULK_MAX records: 422, nothing
            queued. `approval`: the messages wait for a manager (`/approve`).
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/BulkMessageSchema'
          responses:
            201:
              description: Written (queued, or awaiting approval)
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/BulkSentSchema'
            400:
              $ref: '#/components/responses/400'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        body = json_object()
        data = BulkMessageSchema().load(body)
        result = compose.send_bulk(
            db.session,
            current_user(),
            template_id=data["template_id"],
            record_kind=data["record"],
            record_ids=data["record_ids"],
            attach_avis=data["attach_avis"],
            approval=data["approval"],
        )
        return self.response(201, ids=result.message_ids, skipped=result.skipped)

    @expose("/approve", methods=["POST"])
    @protect()
    @safe
    def approve(self) -> Response:
        """Approve (send) or refuse messages held for approval.
        ---
        post:
          summary: Approve held messages
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/ApproveMessagesSchema'
          responses:
            200:
              description: How many messages changed
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/ApprovedSchema'
            400:
              $ref: '#/components/responses/400'
            403:
              $ref: '#/components/responses/403'
            422:
              $ref: '#/components/responses/422'
        """
        body = json_object()
        data = ApproveMessagesSchema().load(body)
        changed = compose.approve(
            db.session, current_user(), data["message_ids"], approved=data["approved"]
        )
        return self.response(200, changed=changed)
