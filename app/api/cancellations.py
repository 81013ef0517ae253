"""A client's cancellation by API: the rights of a contract on a day, and recording one.

- ``GET /api/v1/policy/<id>/cancellation-rights?on=YYYY-MM-DD`` -> every ground, open or not
- ``POST /api/v1/cancellation/`` -> 201 with the effective date and the article, or 422
  naming the rule that refuses it
- ``GET /api/v1/cancellation/`` and ``/<id>`` -> the recorded cancellations
- ``POST /api/v1/cancellation/<id>/letter`` -> 202, the acknowledgement letter as a document

Thin doors over app/services/renewals/cancelling.py. A cancellation belongs to its
contract: reading needs read on Policy, recording write on Policy. Another agency's
contract or cancellation answers 404, like an unknown one.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import request
from flask_appbuilder.api import expose, protect
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import OrganisationModelRestApi, parse_pk
from app.api.bodies import Id
from app.api.custom import CustomApi
from app.api.doors import json_object, safe, transaction
from app.extensions import db
from app.models import Cancellation
from app.services.errors import MalformedRequestError
from app.services.renewals import cancelling
from app.services.renewals.cancellations import NON_PAYMENT
from app.services.renewals.facts import Ground, GroundResult, Reason
from app.services.renewals.reasons import ground_label, reason_text
from app.services.scope import current_user

GROUNDS = [str(ground) for ground in Ground]
RECORDED_GROUNDS = [*GROUNDS, NON_PAYMENT]
ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
NOTE_MAX = 2000
CANCELLATION_COLUMNS = [
    "id",
    "policy_id",
    "policy.number",
    "ground",
    "requested_on",
    "received_on",
    "effective_on",
    "basis",
    "reason",
    "note",
    "letter_document_id",
    "created_at",
]


class GroundSchema(Schema):
    ground = fields.String(metadata={"enum": GROUNDS})
    open = fields.Boolean()
    effective_on = fields.Date(
        allow_none=True, metadata={"description": "When a request received that day would end it"}
    )
    basis = fields.String(metadata={"description": "The article, e.g. L113-15-2"})
    reason = fields.String(
        metadata={
            "description": "A stable key (docs/domain-rules.md)",
            "enum": [str(reason) for reason in Reason],
        }
    )
    label = fields.String(metadata={"description": "The ground, in the caller's language"})
    reason_text = fields.String(metadata={"description": "The reason, in the caller's language"})


class CancellationRightsSchema(Schema):
    on = fields.Date()
    grounds = fields.List(fields.Nested(GroundSchema))


class RecordCancellationSchema(Schema):
    policy_id = Id(required=True)
    ground = fields.String(required=True, validate=validate.OneOf(RECORDED_GROUNDS))
    requested_on = fields.Date(
        required=True, metadata={"description": "Sent by the client (postmark, e-mail date)"}
    )
    received_on = fields.Date(
        required=True, metadata={"description": "Received by the insurer or the broker"}
    )
    note = fields.String(allow_none=True, validate=validate.Length(max=NOTE_MAX))
    situation_changed_on = fields.Date(
        allow_none=True, metadata={"description": "change_of_situation: the event (L113-16)"}
    )
    claim_cancellation_notified_on = fields.Date(
        allow_none=True,
        metadata={"description": "after_claim: the insurer's notice on another contract"},
    )
    substitute_starts_on = fields.Date(
        allow_none=True, metadata={"description": "borrower: the substitute contract's start"}
    )


class LetterAcceptedSchema(Schema):
    id = fields.Integer(metadata={"description": "The document"})
    status = fields.String(metadata={"enum": ["queued", "running", "ready", "failed"]})


def describe_ground(result: GroundResult) -> dict[str, Any]:
    """The contract's fields (GroundResult.to_dict) and their words in the caller's language."""
    return {
        **result.to_dict(),
        "label": ground_label(result.ground),
        "reason_text": reason_text(result.reason),
    }


def _day_argument() -> dt.date | None:
    """``on`` from the query string, strictly YYYY-MM-DD (MalformedRequestError: 400)."""
    unknown = sorted(set(request.args) - {"on"})
    if unknown:
        raise MalformedRequestError(_("Unknown argument: %(names)s.", names=", ".join(unknown)))
    raw = request.args.get("on")
    if raw is None:
        return None
    # fromisoformat alone also takes "20261127" or "2026-W48-5".
    if ISO_DAY.match(raw):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass  # 2026-02-30
    raise MalformedRequestError(_("on must be a date, YYYY-MM-DD."))


class CancellationRightsApi(CustomApi):
    """Shares /api/v1/policy with PolicyApi: the rights are the contract's."""

    resource_name = "policy"
    class_permission_name = permissions.POLICY
    method_permission_name = {"cancellation_rights": permissions.READ}
    openapi_spec_tag = "Cancellations"
    openapi_spec_component_schemas = (GroundSchema, CancellationRightsSchema)

    @expose("/<pk>/cancellation-rights", methods=["GET"])
    @protect()
    @safe
    def cancellation_rights(self, pk: str) -> Response:
        """Every cancellation ground of the contract on a day, open or not.
        ---
        get:
          summary: The client's cancellation rights on a day
          description: >-
            For a request sent and received on `on` (default: the agency's today):
            each ground, whether it is open, the date it would take effect and the
            article. A contract already cancelled or ended has every ground closed
            (`contract_ended`).
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          - in: query
            name: 'on'  # unquoted, YAML reads a boolean
            description: YYYY-MM-DD, 1900-01-01 to 2199-12-31 (default the agency's today)
            schema: {type: string, format: date}
          responses:
            200:
              description: The day and every ground
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/CancellationRightsSchema'
            400:
              $ref: '#/components/responses/400'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        on = _day_argument()
        day, grounds = cancelling.rights(db.session, current_user(), parse_pk(pk), on)
        return self.response(
            200, on=day.isoformat(), grounds=[describe_ground(result) for result in grounds]
        )


class CancellationApi(OrganisationModelRestApi):
    class_permission_name = permissions.POLICY
    method_permission_name = {
        "get": permissions.READ,
        "get_list": permissions.READ,
        "record": permissions.WRITE,
        "letter": permissions.WRITE,
    }
    resource_name = "cancellation"
    openapi_spec_tag = "Cancellations"
    datamodel = SQLAInterface(Cancellation)
    # Recorded by POST / (the rules decide the dates), never edited nor deleted here.
    include_route_methods = {"get", "get_list", "record", "letter"}
    list_columns = CANCELLATION_COLUMNS
    show_columns = CANCELLATION_COLUMNS
    search_columns = ["policy_id", "ground", "requested_on", "received_on", "effective_on"]
    order_columns = ["id", "effective_on", "received_on", "requested_on"]
    base_order = ("id", "desc")
    openapi_spec_component_schemas = (RecordCancellationSchema, LetterAcceptedSchema)

    def integrity_message(self, error: IntegrityError) -> str | dict[str, str]:
        # Two requests for one contract at once (policy_id is unique): the second loses.
        return _("This contract has already ended or been cancelled.")

    @expose("/", methods=["POST"])
    @protect()
    @safe
    def record(self) -> Response:
        """Record a client's cancellation request: the contract ends on the date the law gives.
        ---
        post:
          summary: Record a cancellation
          description: >-
            The rules compute `effective_on` and `basis` from the ground and the dates;
            the contract's end becomes `effective_on` and its open renewal closes.
            A ground that does not apply answers 422 with the rule's reason key in
            `message.ground` (e.g. `before_first_anniversary`,
            `professional_use_excluded`, `before_contract_start`); a contract already
            cancelled or ended answers 409.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/RecordCancellationSchema'
          responses:
            201:
              description: Recorded; Location names the cancellation
              headers:
                Location:
                  schema: {type: string}
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result:
                        $ref: '#/components/schemas/{{self.__class__.__name__}}.get'
            400:
              $ref: '#/components/responses/400'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              description: The contract has already ended or been cancelled
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Message'
            422:
              $ref: '#/components/responses/422'
        """
        body = json_object()
        with self.transaction():
            data = RecordCancellationSchema().load(body)
            cancellation = cancelling.record(db.session, current_user(), **data)
        response = self.response(
            201,
            id=cancellation.id,
            result=self.show_model_schema.dump(cancellation, many=False),
        )
        response.headers["Location"] = f"{self.route_base}/{cancellation.id}"
        return response

    @expose("/<pk>/letter", methods=["POST"])
    @protect()
    @safe
    def letter(self, pk: str) -> Response:
        """Generate the acknowledgement letter of a cancellation (built-in template).
        ---
        post:
          summary: Generate the cancellation letter
          description: >-
            Answers 202 at once with the document's id, rendered on the queue from the
            built-in template `lettre_resiliation`; follow it at the Location given,
            then download it. The cancellation's `letter_document_id` names it.
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            202:
              description: Accepted; Location names the document
              headers:
                Location:
                  schema: {type: string}
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/LetterAcceptedSchema'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        with transaction(db.session):
            document = cancelling.request_letter(db.session, current_user(), parse_pk(pk))
        response = self.response(202, id=document.id, status=document.status.value)
        response.headers["Location"] = f"/api/v1/document/{document.id}"
        return response
