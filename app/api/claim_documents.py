"""ClaimApi's expected documents: ``/api/v1/claim/<id>/documents`` (a mixin of
app/api/claims.py over app/services/claims/documents.py)."""

from __future__ import annotations

from typing import Any

from flask_appbuilder.api import expose, protect
from werkzeug.wrappers import Response

from app.api.base import parse_pk
from app.api.claim_bodies import (
    DocumentAskSchema,
    DocumentReceivedSchema,
)
from app.api.doors import json_object, safe
from app.models import Claim
from app.services.claims import documents
from app.services.renewals.contracts import agency_today

DOCUMENTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "result": {"type": "array", "items": {"type": "object"}},
        "missing": {"type": "integer", "description": "Documents not received yet"},
    },
}


class ClaimDocumentsDoor:
    """The checklist: list it, ask for a document, mark one received."""

    # Provided by ClaimApi (app/api/claims.py) and its base.
    datamodel: Any
    scoped_item: Any
    response: Any
    response_404: Any
    transaction: Any
    _session: Any

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
