"""/api/v1/compliance_document/: the DER (per client) and FIC (per proposal).

``POST /`` with ``{"kind": "der", "client_id": …}`` or ``{"kind": "fic", "proposal_id": …}``
generates the document from its built-in template (202: the file is rendered by the
document pipeline; ``document_id`` is /api/v1/document/<id>, downloadable when ready).
A FIC needs every question answered and the recommendation and its reasons written
(422 otherwise). ``POST /<id>/sent`` and ``POST /<id>/signed`` record the day (``on``,
today if left) and how (``by``: by_hand, post, email, electronic): generated → sent →
signed; signed on the spot, it is sent the same day. A quote converts only once both are
signed (/api/v1/quote/<id>/convert).

Permissions: ``Proposal.can_read``/``can_write`` for every role.
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.api import expose, protect
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from marshmallow import Schema, fields
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import OrganisationModelRestApi, parse_pk
from app.api.bodies import Id
from app.api.doors import json_object, safe
from app.api.openapi import add_responses, message_response, nullable_enums
from app.models import Client, ComplianceDocument, ComplianceKind, DeliveryMethod, Proposal
from app.services.advice import compliance
from app.services.errors import NotFoundError
from app.services.renewals.contracts import agency_today
from app.services.scope import current_user, visible_organisation_id

COLUMNS = [
    "id",
    "kind",
    "client_id",
    "proposal_id",
    "document_id",
    "status",
    "sent_on",
    "sent_by",
    "signed_on",
    "signed_by",
    "created_at",
]


class GenerateSchema(Schema):
    kind = fields.Enum(ComplianceKind, by_value=True, required=True)
    client_id = Id(metadata={"description": "The client of a DER"})
    proposal_id = Id(metadata={"description": "The proposal of a FIC"})


class StepSchema(Schema):
    on = fields.Date(metadata={"description": "The day; today if left"})
    by = fields.Enum(DeliveryMethod, by_value=True, required=True)


def _item_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "result": {"$ref": "#/components/schemas/ComplianceDocumentApi.get"},
                    },
                }
            }
        },
    }


class ComplianceDocumentApi(OrganisationModelRestApi):
    class_permission_name = permissions.PROPOSAL
    method_permission_name = {
        **permissions.API_METHODS,
        "generate": permissions.WRITE,
        "sent": permissions.WRITE,
        "signed": permissions.WRITE,
    }
    resource_name = "compliance_document"
    openapi_spec_tag = "Compliance documents"
    datamodel = SQLAInterface(ComplianceDocument)
    include_route_methods = {"get", "get_list", "info", "generate", "sent", "signed"}
    list_columns = COLUMNS
    show_columns = [*COLUMNS, "updated_at"]
    search_columns = ["kind", "client_id", "proposal_id", "status", "signed_on"]
    order_columns = ["id", "created_at", "signed_on"]
    base_order = ("id", "desc")
    openapi_spec_component_schemas = (GenerateSchema, StepSchema)

    def add_api_spec(self, api_spec: Any) -> None:
        super().add_api_spec(api_spec)
        nullable_enums(api_spec, type(self).__name__, ComplianceDocument)

    def _scoped(self, model: type, raw: Any) -> Any:
        if raw is None:
            return None
        row = self.datamodel.session.get(model, parse_pk(raw) or 0)
        scope = visible_organisation_id()
        if row is None or (scope is not None and row.organisation_id != scope):
            raise NotFoundError(_("Not found."))
        return row

    def _answer(self, row: ComplianceDocument, status: int) -> Response:
        return self.response(status, id=row.id, result=self.show_model_schema.dump(row))

    @expose("/", methods=["POST"])
    @protect()
    @safe
    def generate(self) -> Response:
        """Generate a DER or a FIC.
        ---
        post:
          summary: Generate a client's DER or a proposal's FIC
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/GenerateSchema'}
          responses:
            202:
              $ref: '#/components/responses/ComplianceDocumentItem'
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        body = json_object()
        session = self.datamodel.session
        with self.transaction():
            data = GenerateSchema().load(body)
            row = compliance.generate(
                session,
                current_user(),
                data["kind"],
                client=self._scoped(Client, data.get("client_id")),
                proposal=self._scoped(Proposal, data.get("proposal_id")),
            )
        compliance.enqueue(session, row)
        return self._answer(row, 202)

    def _step(self, pk: str, step: Any) -> Response:
        row = self.scoped_item(pk)
        if row is None:
            return self.response_404()
        body = json_object()
        session = self.datamodel.session
        with self.transaction():
            data = StepSchema().load(body)
            step(row, data.get("on"), data["by"], agency_today(session, row.organisation_id))
        return self._answer(row, 200)

    @expose("/<pk>/sent", methods=["POST"])
    @protect()
    @safe
    def sent(self, pk: str) -> Response:
        """Record that the document went to the client.
        ---
        post:
          summary: Mark a DER or FIC sent (day and how)
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/StepSchema'}
          responses:
            200:
              $ref: '#/components/responses/ComplianceDocumentItem'
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              $ref: '#/components/responses/ComplianceStepConflict'
            422:
              $ref: '#/components/responses/422'
        """
        return self._step(pk, compliance.mark_sent)

    @expose("/<pk>/signed", methods=["POST"])
    @protect()
    @safe
    def signed(self, pk: str) -> Response:
        """Record that the client signed the document.
        ---
        post:
          summary: Mark a DER or FIC signed (day and how)
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/StepSchema'}
          responses:
            200:
              $ref: '#/components/responses/ComplianceDocumentItem'
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              $ref: '#/components/responses/ComplianceStepConflict'
            422:
              $ref: '#/components/responses/422'
        """
        return self._step(pk, compliance.mark_signed)

    def add_apispec_components(self, api_spec: Any) -> None:
        super().add_apispec_components(api_spec)
        add_responses(
            api_spec,
            {
                "ComplianceDocumentItem": _item_response("The compliance document"),
                "ComplianceStepConflict": message_response(
                    "The document is already at that step or past it"
                ),
            },
        )
