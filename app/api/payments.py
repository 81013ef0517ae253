"""/api/v1/payment/ and /api/v1/allocation/: money received and what it pays.

A thin door over app/services/premiums/payments.py. ``POST /`` records a payment and,
optionally, allocates it to notices (a cheque can pay three); what is not allocated
stays as the client's credit and can be allocated later (``POST /<id>/allocate``).
``POST /<id>/reject`` records a returned debit or cheque: its allocations stop counting
and the notices it paid re-open. Allocations are read at /api/v1/allocation/ (filter
on ``payment_id`` or ``premium_notice_id``). Another agency's id answers 404.
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.api import expose, protect
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import OrganisationModelRestApi
from app.api.doors import json_object, safe
from app.api.premium_bodies import AllocationsSchema, PaymentCreateSchema, RejectSchema
from app.models import Allocation, Payment
from app.services.errors import InvalidRequestError
from app.services.premiums import payments
from app.services.renewals.contracts import agency_today
from app.services.scope import organisation_for_new_rows

PAYMENT_COLUMNS = [
    "id",
    "received_on",
    "amount",
    "currency",
    "method",
    "reference",
    "payer",
    "client_id",
    "status",
    "allocated_amount",
    "rejected_on",
    "rejection_reason",
]


def _pairs(allocations: list[dict[str, Any]]) -> list[tuple[int, Any]]:
    return [(item["premium_notice_id"], item["amount"]) for item in allocations]


class PaymentApi(OrganisationModelRestApi):
    class_permission_name = permissions.PAYMENT
    method_permission_name = {
        **permissions.API_METHODS,
        "create": permissions.WRITE,
        "allocate": permissions.WRITE,
        "reject": permissions.WRITE,
    }
    resource_name = "payment"
    openapi_spec_tag = "Premiums"
    datamodel = SQLAInterface(Payment)
    # Payments are written by their use cases only: no FAB post, put or delete.
    include_route_methods = {"get", "get_list", "info", "create", "allocate", "reject"}
    list_columns = PAYMENT_COLUMNS
    show_columns = [
        *PAYMENT_COLUMNS,
        "mandate_id",
        "debit_job_id",
        "note",
        "created_at",
        "updated_at",
    ]
    search_columns = [
        "received_on",
        "amount",
        "method",
        "reference",
        "payer",
        "client_id",
        "status",
    ]
    order_columns = ["id", "received_on", "amount", "status"]
    base_order = ("received_on", "desc")
    openapi_spec_component_schemas = (PaymentCreateSchema, AllocationsSchema, RejectSchema)

    def _session(self) -> Any:
        return self.datamodel.session

    def _answer(self, payment: Payment, status: int = 200) -> Response:
        return self.response(status, id=payment.id, result=self.show_model_schema.dump(payment))

    @expose("/", methods=["POST"])
    @protect()
    @safe
    def create(self) -> Response:
        """Record a payment, allocated or not.
        ---
        post:
          summary: Record a payment
          description: >-
            `allocations` (optional) say how much of it pays which notice: in
            all at most the payment, each at most what is left to pay on its
            notice. The rest is kept as the client's credit.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/PaymentCreateSchema'
          responses:
            201:
              description: The payment
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result:
                        $ref: '#/components/schemas/PaymentApi.get'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        body = json_object()
        session = self._session()
        with self.transaction():
            data = PaymentCreateSchema().load(body)
            organisation_id = organisation_for_new_rows()
            if organisation_id is None:
                raise InvalidRequestError(_("Your account belongs to no organisation."))
            payment = payments.record_payment(
                session,
                organisation_id,
                today=agency_today(session, organisation_id),
                allocations=_pairs(data.pop("allocations", None) or []),
                **data,
            )
        return self._answer(payment, 201)

    @expose("/<pk>/allocate", methods=["POST"])
    @protect()
    @safe
    def allocate(self, pk: str) -> Response:
        """Allocate more of a payment to notices.
        ---
        post:
          summary: Allocate a payment
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/AllocationsSchema'
          responses:
            200:
              description: The payment
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result:
                        $ref: '#/components/schemas/PaymentApi.get'
            404:
              $ref: '#/components/responses/404'
            409:
              description: The payment was rejected
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Message'
            422:
              $ref: '#/components/responses/422'
        """
        payment = self.scoped_item(pk)
        if payment is None:
            return self.response_404()
        body = json_object()
        session = self._session()
        with self.transaction():
            data = AllocationsSchema().load(body)
            today = agency_today(session, payment.organisation_id)
            payments.allocate(session, payment, _pairs(data["allocations"]), today=today)
        return self._answer(payment)

    @expose("/<pk>/reject", methods=["POST"])
    @protect()
    @safe
    def reject(self, pk: str) -> Response:
        """Record a returned debit or cheque: the notices it paid re-open.
        ---
        post:
          summary: Reject a payment
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/RejectSchema'
          responses:
            200:
              description: The rejected payment
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result:
                        $ref: '#/components/schemas/PaymentApi.get'
            404:
              $ref: '#/components/responses/404'
            409:
              description: The payment is already rejected
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Message'
            422:
              $ref: '#/components/responses/422'
        """
        payment = self.scoped_item(pk)
        if payment is None:
            return self.response_404()
        body = json_object()
        session = self._session()
        with self.transaction():
            data = RejectSchema().load(body)
            today = agency_today(session, payment.organisation_id)
            payments.reject_payment(
                payment,
                rejected_on=data.get("rejected_on") or today,
                reason=data["reason_code"],
                today=today,
            )
        return self._answer(payment)


class AllocationApi(OrganisationModelRestApi):
    """Read-only: allocations are made by the payment doors."""

    class_permission_name = permissions.PAYMENT
    method_permission_name = permissions.API_METHODS
    resource_name = "allocation"
    openapi_spec_tag = "Premiums"
    datamodel = SQLAInterface(Allocation)
    include_route_methods = {"get", "get_list", "info"}
    list_columns = ["id", "payment_id", "premium_notice_id", "premium_notice.number", "amount"]
    show_columns = list_columns
    search_columns = ["payment_id", "premium_notice_id"]
    order_columns = ["id"]
    base_order = ("id", "asc")
