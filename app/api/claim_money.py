"""ClaimApi's money: ``/api/v1/claim/<id>/settlements`` and ``/api/v1/claim/loss-ratio``
(a mixin of app/api/claims.py over app/services/claims/settlements.py and loss_ratio.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import request
from flask_appbuilder.api import expose, protect
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.api.claim_bodies import (
    SettlementSchema,
)
from app.api.doors import json_object, safe
from app.models import Claim
from app.services.claims import settlements
from app.services.claims.loss_ratio import loss_ratio
from app.services.errors import MalformedRequestError
from app.services.renewals.contracts import agency_today
from app.services.scope import visible_organisation_id

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


class ClaimMoneyDoor:
    """Settlements and their totals; the agency's loss ratio."""

    # Provided by ClaimApi (app/api/claims.py) and its base.
    datamodel: Any
    scoped_item: Any
    response: Any
    response_404: Any
    transaction: Any
    _session: Any

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
