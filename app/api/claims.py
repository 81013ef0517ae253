"""/api/v1/claim/: claims (sinistres) — read, record, correct, move through statuses.

A thin door over app/services/claims. Reading lists and filters the agency's claims
(status, nature, contract, client, the late and outside-term flags, dates). Every staff
role records a claim (``POST /``), corrects it (``PUT /<id>``) and moves it
(``POST /<id>/status``: declared → open → expertise → waiting_documents → settlement →
closed with a reason → reopened). Claims are never deleted: they are kept until
prescription. Another agency's id answers 404, like an unknown one.
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.api import expose, protect
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import OrganisationModelRestApi
from app.api.claim_bodies import (
    ClaimCreateSchema,
    ClaimFieldsSchema,
    ClaimStatusSchema,
    DocumentAskSchema,
    DocumentReceivedSchema,
    SettlementSchema,
)
from app.api.claim_documents import DOCUMENTS_SCHEMA, ClaimDocumentsDoor
from app.api.claim_files import ClaimFilesDoor
from app.api.claim_money import SETTLEMENTS_SCHEMA, ClaimMoneyDoor
from app.api.doors import json_object, safe
from app.models import Claim
from app.services.claims import lifecycle
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


class ClaimApi(ClaimFilesDoor, ClaimMoneyDoor, ClaimDocumentsDoor, OrganisationModelRestApi):
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

    def add_apispec_components(self, api_spec: Any) -> None:
        super().add_apispec_components(api_spec)
        if "Settlements" not in api_spec.components.schemas:
            api_spec.components.schema("Settlements", SETTLEMENTS_SCHEMA)
        if "ClaimDocuments" not in api_spec.components.schemas:
            api_spec.components.schema("ClaimDocuments", DOCUMENTS_SCHEMA)
