"""/api/v1/quote/: the insurers' quotes of a proposal, and their conversion into a contract.

A quote names its proposal, insurer (``company_id``), product, annual premium (a decimal
string) and the day it is valid until; it moves ``to_price`` → ``priced`` → ``sent`` →
``accepted`` | ``refused`` through PUT (app/services/advice/proposals.py; a wrong move
answers 409). ``POST /<id>/convert`` turns an accepted, unexpired quote into the contract
with its first term: a draft under a provisional number (``DEVIS-<id>``) until the
insurer's number is given (in the body, or later by ``POST /<id>/policy-number``). It is
refused with 409 and ``missing`` (the items: ``der``, ``fic``) while the client's DER or
the proposal's FIC is not signed, with 422 for a quote not accepted, refused or expired.
A sale at a distance or door to door sets ``withdrawal_ends_on`` (L112-2-1, L112-9).

Permissions: ``Proposal.can_read``/``can_write`` for every role.
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.api import expose, protect
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext
from marshmallow import Schema, fields, validate
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import OrganisationModelRestApi
from app.api.doors import json_object, safe
from app.api.openapi import add_responses
from app.models import PaymentFrequency, Quote
from app.services.advice import conversion
from app.services.advice.proposals import prepare_quote
from app.services.renewals.contracts import agency_today

COLUMNS = [
    "id",
    "proposal_id",
    "company_id",
    "product",
    "premium",
    "valid_until",
    "status",
    "policy_id",
    "converted_at",
    "withdrawal_ends_on",
]
WRITABLE = ["proposal_id", "company_id", "product", "premium", "valid_until", "status"]
NUMBER = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9./_-]{0,39}$")


class ConvertSchema(Schema):
    effective_date = fields.Date(metadata={"description": "The contract's start; today if left"})
    policy_number = fields.String(
        validate=NUMBER, metadata={"description": "The insurer's number, when already known"}
    )
    payment_frequency = fields.Enum(PaymentFrequency, by_value=True)


class PolicyNumberSchema(Schema):
    number = fields.String(required=True, validate=NUMBER)


CONFLICT = {
    "description": "The client's DER or the proposal's FIC is not signed (`missing` lists "
    "them), or the quote already became a contract",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "missing": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "item": {"type": "string", "enum": ["der", "fic"]},
                                "label": {"type": "string"},
                            },
                        },
                    },
                },
            }
        }
    },
}


class QuoteApi(OrganisationModelRestApi):
    class_permission_name = permissions.PROPOSAL
    method_permission_name = {
        **permissions.API_METHODS,
        "convert": permissions.WRITE,
        "policy_number": permissions.WRITE,
    }
    resource_name = "quote"
    openapi_spec_tag = "Quotes"
    datamodel = SQLAInterface(Quote)
    include_route_methods = {"get", "get_list", "info", "post", "put", "convert", "policy_number"}
    list_columns = COLUMNS
    show_columns = [*COLUMNS, "created_at", "updated_at"]
    add_columns = WRITABLE
    edit_columns = WRITABLE
    search_columns = ["proposal_id", "company_id", "status", "valid_until", "policy_id"]
    order_columns = ["id", "valid_until", "premium"]
    base_order = ("id", "asc")
    openapi_spec_component_schemas = (ConvertSchema, PolicyNumberSchema)
    description_columns = {
        "premium": lazy_gettext("The annual premium, taxes included; needed once priced."),
        "withdrawal_ends_on": lazy_gettext(
            "Set by the conversion of a sale at a distance or door to door: the client's "
            "last day to withdraw (14 calendar days, 30 for life)."
        ),
    }

    def add_apispec_components(self, api_spec: Any) -> None:
        super().add_apispec_components(api_spec)
        add_responses(api_spec, {"QuoteConflict": CONFLICT})

    def _prepare(self, item: Quote) -> None:
        session = self.datamodel.session
        prepare_quote(session, item, agency_today(session, item.organisation_id))

    def pre_add(self, item: Quote) -> None:
        self._prepare(item)

    def pre_update(self, item: Quote) -> None:
        self._prepare(item)

    def integrity_message(self, error: IntegrityError) -> str | dict[str, str]:
        if "uq_policy_organisation_number" in str(error.orig) or "policy.number" in str(error.orig):
            return {"policy_number": str(lazy_gettext("A policy with this number already exists."))}
        return super().integrity_message(error)

    def _answer(self, quote: Quote, status: int) -> Response:
        return self.response(status, id=quote.id, result=self.show_model_schema.dump(quote))

    @expose("/<pk>/convert", methods=["POST"])
    @protect()
    @safe
    def convert(self, pk: str) -> Response:
        """Turn an accepted quote into the contract.
        ---
        post:
          summary: Convert an accepted quote into a contract (and its first term)
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            content:
              application/json:
                schema: {$ref: '#/components/schemas/ConvertSchema'}
          responses:
            201:
              description: The quote, with the contract's id and the withdrawal window
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/QuoteApi.get'}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              $ref: '#/components/responses/QuoteConflict'
            422:
              $ref: '#/components/responses/422'
        """
        quote = self.scoped_item(pk)
        if quote is None:
            return self.response_404()
        body = json_object()
        session = self.datamodel.session
        with self.transaction():
            data = ConvertSchema().load(body)
            conversion.convert(
                session, quote, today=agency_today(session, quote.organisation_id), **data
            )
        return self._answer(quote, 201)

    @expose("/<pk>/policy-number", methods=["POST"])
    @protect()
    @safe
    def policy_number(self, pk: str) -> Response:
        """Enter the insurer's number of a converted quote's contract.
        ---
        post:
          summary: Give the contract its insurer's number (a draft becomes active)
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/PolicyNumberSchema'}
          responses:
            200:
              description: The quote
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/QuoteApi.get'}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              $ref: '#/components/responses/QuoteConflict'
            422:
              $ref: '#/components/responses/422'
        """
        quote = self.scoped_item(pk)
        if quote is None:
            return self.response_404()
        body = json_object()
        with self.transaction():
            data = PolicyNumberSchema().load(body)
            conversion.enter_policy_number(quote, data["number"])
        return self._answer(quote, 200)
