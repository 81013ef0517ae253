"""/api/v1/claim/: claims (sinistres) — read, record, correct, move through statuses.

A thin door over app/services/claims. Reading lists and filters the agency's claims
(status, nature, contract, client, the late and outside-term flags, dates). Every staff
role records a claim (``POST /``), corrects it (``PUT /<id>``) and moves it
(``POST /<id>/status``: declared → open → expertise → waiting_documents → settlement →
closed with a reason → reopened). Claims are never deleted: they are kept until
prescription. Another agency's id answers 404, like an unknown one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import request
from flask_appbuilder.api import expose, protect
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from app import permissions
from app.api.attachments import ATTACHMENT_COLUMNS, upload_to
from app.api.base import OrganisationModelRestApi, parse_pk
from app.api.claim_bodies import (
    ClaimCreateSchema,
    ClaimFieldsSchema,
    ClaimStatusSchema,
    DocumentAskSchema,
    DocumentReceivedSchema,
    SettlementSchema,
)
from app.api.doors import json_object, safe
from app.models import Attachment, Claim
from app.services.claims import documents, lifecycle, settlements
from app.services.claims.loss_ratio import loss_ratio
from app.services.errors import MalformedRequestError
from app.services.premiums.notices import scoped_policy
from app.services.renewals.contracts import agency_today
from app.services.scope import visible_organisation_id

CLAIM_COLUMNS = [
    "id",
    "number",
    "insurer_claim_number",
    "policy_id",
    "policy.number",
    "client_id",
    "term_id",
    "nature",
    "occurred_on",
    "known_on",
    "client_declared_on",
    "insurer_declared_on",
    "declaration_deadline",
    "declared_late",
    "outside_term",
    "status",
    "close_reason",
    "estimate",
    "prescription_on",
]
DETAIL_COLUMNS = [
    "circumstances",
    "place",
    "third_parties",
    "liability_share",
    "expert",
    "excess",
    "closed_on",
    "reopened_on",
    "created_at",
    "updated_at",
]


class ClaimApi(OrganisationModelRestApi):
    class_permission_name = permissions.CLAIM
    method_permission_name = {
        **permissions.API_METHODS,
        "create": permissions.WRITE,
        "update": permissions.WRITE,
        "move": permissions.WRITE,
        "attach": permissions.WRITE,
        "attachments": permissions.READ,
        "settle": permissions.WRITE,
        "settlements": permissions.READ,
        "documents": permissions.READ,
        "loss_ratio": permissions.READ,
        "ask_document": permissions.WRITE,
        "receive_document": permissions.WRITE,
    }
    resource_name = "claim"
    openapi_spec_tag = "Claims"
    datamodel = SQLAInterface(Claim)
    # Claims are written by their use cases only (the computed dates follow every change).
    include_route_methods = {
        "get",
        "get_list",
        "info",
        "create",
        "update",
        "move",
        "attach",
        "attachments",
        "settle",
        "settlements",
        "documents",
        "loss_ratio",
        "ask_document",
        "receive_document",
    }
    list_columns = CLAIM_COLUMNS
    show_columns = [*CLAIM_COLUMNS, *DETAIL_COLUMNS]
    search_columns = [
        "number",
        "insurer_claim_number",
        "policy_id",
        "client_id",
        "nature",
        "status",
        "occurred_on",
        "declared_late",
        "outside_term",
        "prescription_on",
    ]
    order_columns = ["id", "number", "occurred_on", "status", "declaration_deadline"]
    base_order = ("occurred_on", "desc")
    description_columns = {
        "declaration_deadline": lazy_gettext(
            "The last day of the client's declaration: 5 working days after known_on, 2 for "
            "a theft (L113-2 4°), 30 days for a catastrophe naturelle (L125-2)."
        ),
        "declared_late": lazy_gettext("The client declared after the deadline."),
        "outside_term": lazy_gettext(
            "The loss falls outside every term of the contract: recorded, for the insurer "
            "to decide."
        ),
        "prescription_on": lazy_gettext("known_on + 2 years (L114-1)."),
    }
    openapi_spec_component_schemas = (
        ClaimCreateSchema,
        ClaimFieldsSchema,
        ClaimStatusSchema,
        SettlementSchema,
        DocumentAskSchema,
        DocumentReceivedSchema,
    )

    def _session(self) -> Any:
        return self.datamodel.session

    def _answer(self, claim: Claim, status: int = 200) -> Response:
        return self.response(status, id=claim.id, result=self.show_model_schema.dump(claim))

    def integrity_message(self, error: IntegrityError) -> str | dict[str, str]:
        if "uq_claim_organisation_number" in str(error.orig):
            return str(lazy_gettext("Another claim was numbered at the same time: try again."))
        return super().integrity_message(error)

    @expose("/", methods=["POST"])
    @protect()
    @safe
    def create(self) -> Response:
        """Record a claim on a contract.
        ---
        post:
          summary: Record a claim
          description: >-
            The term in force on `occurred_on` is found; a loss outside every term
            is recorded with `outside_term` set. The declaration deadline, the
            late flag and the prescription date are computed.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/ClaimCreateSchema'
          responses:
            201:
              description: The claim
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result:
                        $ref: '#/components/schemas/ClaimApi.get'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        body = json_object()
        session = self._session()
        with self.transaction():
            data = ClaimCreateSchema().load(body)
            policy = scoped_policy(session, visible_organisation_id(), data.pop("policy_id"))
            today = agency_today(session, policy.organisation_id)
            claim = lifecycle.record_claim(session, policy, today=today, **data)
        return self._answer(claim, 201)

    @expose("/<pk>", methods=["PUT"])
    @protect()
    @safe
    def update(self, pk: str) -> Response:
        """Correct a claim's facts; the computed dates follow.
        ---
        put:
          summary: Correct a claim
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/ClaimFieldsSchema'
          responses:
            200:
              description: The claim
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result:
                        $ref: '#/components/schemas/ClaimApi.get'
            404:
              $ref: '#/components/responses/404'
            409:
              description: The claim is closed
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Message'
            422:
              $ref: '#/components/responses/422'
        """
        claim = self.scoped_item(pk)
        if claim is None:
            return self.response_404()
        body = json_object()
        session = self._session()
        with self.transaction():
            data = ClaimFieldsSchema().load(body)
            today = agency_today(session, claim.organisation_id)
            lifecycle.update_claim(session, claim, today=today, **data)
        return self._answer(claim)

    @expose("/<pk>/status", methods=["POST"])
    @protect()
    @safe
    def move(self, pk: str) -> Response:
        """Move a claim to another status.
        ---
        post:
          summary: Change a claim's status
          description: >-
            Closing needs a `reason` (indemnified, no_follow_up, cover_refused); a
            closed claim only goes to `reopened`.
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/ClaimStatusSchema'
          responses:
            200:
              description: The claim
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result:
                        $ref: '#/components/schemas/ClaimApi.get'
            404:
              $ref: '#/components/responses/404'
            409:
              description: The claim cannot go to that status from its own
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Message'
            422:
              $ref: '#/components/responses/422'
        """
        claim = self.scoped_item(pk)
        if claim is None:
            return self.response_404()
        body = json_object()
        session = self._session()
        with self.transaction():
            data = ClaimStatusSchema().load(body)
            today = agency_today(session, claim.organisation_id)
            lifecycle.change_status(claim, data["status"], today=today, reason=data.get("reason"))
        return self._answer(claim)

    @expose("/<pk>/attachments", methods=["POST"])
    @protect()
    @safe
    def attach(self, pk: str) -> Response:
        """Upload a file for a claim (the constat, photos, invoices).
        ---
        post:
          summary: Upload a claim's attachment
          description: >-
            Multipart field `file`. PDF, JPEG, PNG, HEIC, DOCX, XLSX or TXT, decided
            from the content, which must agree with the name; a PDF with JavaScript
            or embedded files is refused; images get a thumbnail. 413 beyond
            ATTACHMENT_MAX_BYTES. The file is then at /api/v1/attachment/<id>.
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  properties:
                    file: {type: string, format: binary}
          responses:
            201:
              description: The attachment
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result:
                        $ref: '#/components/schemas/AttachmentApi.get'
            400:
              $ref: '#/components/responses/400'
            404:
              $ref: '#/components/responses/404'
            413:
              description: The file is too large
            422:
              $ref: '#/components/responses/422'
        """
        claim = self.scoped_item(pk)
        if claim is None:
            return self.response_404()
        with self.transaction():
            attachment = upload_to(self._session(), claim)
        return self.response(201, id=attachment.id, result=_attachment_dict(attachment))

    @expose("/<pk>/attachments", methods=["GET"])
    @protect()
    @safe
    def attachments(self, pk: str) -> Response:
        """A claim's files, newest first.
        ---
        get:
          summary: List a claim's attachments
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: The files
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      result:
                        type: array
                        items:
                          $ref: '#/components/schemas/AttachmentApi.get'
            404:
              $ref: '#/components/responses/404'
        """
        claim = self.scoped_item(pk)
        if claim is None:
            return self.response_404()
        rows = self._session().scalars(
            select(Attachment).where(Attachment.claim_id == claim.id).order_by(Attachment.id.desc())
        )
        return self.response(200, result=[_attachment_dict(row) for row in rows])

    @expose("/<pk>/settlements", methods=["POST"])
    @protect()
    @safe
    def settle(self, pk: str) -> Response:
        """Record an indemnity, a refund request or a recourse on a claim.
        ---
        post:
          summary: Record a settlement
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/SettlementSchema'
          responses:
            201:
              description: The claim's settlements and totals
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Settlements'
            404:
              $ref: '#/components/responses/404'
            409:
              description: The claim is closed
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Message'
            422:
              $ref: '#/components/responses/422'
        """
        claim = self.scoped_item(pk)
        if claim is None:
            return self.response_404()
        body = json_object()
        session = self._session()
        with self.transaction():
            data = SettlementSchema().load(body)
            today = agency_today(session, claim.organisation_id)
            settlements.record_settlement(session, claim, today=today, **data)
        return self._settlements(claim, 201)

    @expose("/<pk>/settlements", methods=["GET"])
    @protect()
    @safe
    def settlements(self, pk: str) -> Response:
        """A claim's settlements and their totals.
        ---
        get:
          summary: List a claim's settlements
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: The settlements and totals
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Settlements'
            404:
              $ref: '#/components/responses/404'
        """
        claim = self.scoped_item(pk)
        if claim is None:
            return self.response_404()
        return self._settlements(claim, 200)

    def _settlements(self, claim: Claim, status: int) -> Response:
        session = self._session()
        rows = [
            {
                "id": row.id,
                "kind": row.kind.value,
                "amount": str(row.amount),
                "paid_on": row.paid_on.isoformat(),
                "counterparty": row.counterparty,
                "collected_by_broker": row.collected_by_broker,
                "note": row.note,
            }
            for row in settlements.settlements_of(session, claim)
        ]
        return self.response(status, result=rows, totals=settlements.totals(session, claim))

    @expose("/<pk>/documents", methods=["GET"])
    @protect()
    @safe
    def documents(self, pk: str) -> Response:
        """The documents the insurer needs: asked on, received on, and how many are missing.
        ---
        get:
          summary: A claim's expected documents
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: The checklist
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/ClaimDocuments'
            404:
              $ref: '#/components/responses/404'
        """
        claim = self.scoped_item(pk)
        if claim is None:
            return self.response_404()
        return self._documents(claim, 200)

    @expose("/<pk>/documents", methods=["POST"])
    @protect()
    @safe
    def ask_document(self, pk: str) -> Response:
        """Add a document to the checklist, asked for today.
        ---
        post:
          summary: Ask for a document
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/DocumentAskSchema'
          responses:
            201:
              description: The checklist
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/ClaimDocuments'
            404:
              $ref: '#/components/responses/404'
            409:
              description: The claim is closed, or the document is already listed
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Message'
            422:
              $ref: '#/components/responses/422'
        """
        claim = self.scoped_item(pk)
        if claim is None:
            return self.response_404()
        body = json_object()
        session = self._session()
        with self.transaction():
            data = DocumentAskSchema().load(body)
            today = agency_today(session, claim.organisation_id)
            documents.ask(session, claim, data["label"], today)
        return self._documents(claim, 201)

    @expose("/<pk>/documents/<item_pk>/received", methods=["POST"])
    @protect()
    @safe
    def receive_document(self, pk: str, item_pk: str) -> Response:
        """Mark a document of the checklist received.
        ---
        post:
          summary: A document received
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          - {in: path, name: item_pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/DocumentReceivedSchema'
          responses:
            200:
              description: The checklist
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/ClaimDocuments'
            404:
              $ref: '#/components/responses/404'
            409:
              description: The claim is closed
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Message'
            422:
              $ref: '#/components/responses/422'
        """
        claim = self.scoped_item(pk)
        item_id = parse_pk(item_pk)
        if claim is None or item_id is None:
            return self.response_404()
        body = json_object()
        session = self._session()
        with self.transaction():
            data = DocumentReceivedSchema().load(body)
            today = agency_today(session, claim.organisation_id)
            documents.receive(session, claim, item_id, data.get("received_on") or today, today)
        return self._documents(claim, 200)

    @expose("/loss-ratio", methods=["GET"])
    @protect()
    @safe
    def loss_ratio(self) -> Response:
        """Indemnities paid over premiums issued, per insurer and per line, over a period.
        ---
        get:
          summary: The loss ratio
          parameters:
          - {in: query, name: start, required: true, schema: {type: string, format: date}}
          - {in: query, name: end, required: true, schema: {type: string, format: date}}
          responses:
            200:
              description: by_insurer, by_line and total rows (paid, premiums, ratio_percent)
              content:
                application/json:
                  schema: {type: object}
            400:
              $ref: '#/components/responses/400'
        """
        try:
            start = dt.date.fromisoformat(request.args.get("start", ""))
            end = dt.date.fromisoformat(request.args.get("end", ""))
        except ValueError:
            raise MalformedRequestError(_("Give start and end as dates (YYYY-MM-DD).")) from None
        if end < start or (end - start).days > MAX_RATIO_DAYS:
            raise MalformedRequestError(_("The period runs forward, five years at most."))
        result = loss_ratio(self._session(), visible_organisation_id(), start, end)
        return self.response(200, **result)

    def _documents(self, claim: Claim, status: int) -> Response:
        rows = [
            {
                "id": item.id,
                "label": item.label,
                "requested_on": item.requested_on.isoformat() if item.requested_on else None,
                "received_on": item.received_on.isoformat() if item.received_on else None,
            }
            for item in documents.checklist(self._session(), claim)
        ]
        missing = sum(1 for row in rows if row["received_on"] is None)
        return self.response(status, result=rows, missing=missing)

    def add_apispec_components(self, api_spec: Any) -> None:
        super().add_apispec_components(api_spec)
        if "Settlements" not in api_spec.components.schemas:
            api_spec.components.schema("Settlements", SETTLEMENTS_SCHEMA)
        if "ClaimDocuments" not in api_spec.components.schemas:
            api_spec.components.schema("ClaimDocuments", DOCUMENTS_SCHEMA)


SETTLEMENTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "result": {"type": "array", "items": {"type": "object"}},
        "totals": {
            "type": "object",
            "description": "Per kind, indemnities, and net_cost (indemnities less the "
            "insurer's recourse), decimal strings",
            "additionalProperties": {"type": "string"},
        },
    },
}

MAX_RATIO_DAYS = 5 * 366
DOCUMENTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "result": {"type": "array", "items": {"type": "object"}},
        "missing": {"type": "integer", "description": "Documents not received yet"},
    },
}


def _attachment_dict(attachment: Attachment) -> dict[str, Any]:
    values = {name: getattr(attachment, name) for name in ATTACHMENT_COLUMNS}
    values["created_at"] = attachment.created_at.isoformat() if attachment.created_at else None
    return values
