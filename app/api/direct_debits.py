"""/api/v1/sepa/: SEPA direct debit batches and the bank's rejections.

``POST /api/v1/sepa/batch`` ``{due_from, due_to}`` records a debit for every premium
notice of the period collected by direct debit and answers 202 ``{"job_id"}``: the job
writes the pain.008 file, delivered as a document (``GET /api/v1/job/<id>``, then
``GET /api/v1/document/<id>/download``). ``POST /api/v1/sepa/rejections`` (multipart
``file``, CSV or XLSX with ``reference`` and ``reason`` columns) rejects the debits the
bank returned: their notices re-open. MANAGER and above (resource DirectDebit).
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder.api import expose, protect
from flask_babel import gettext as _
from marshmallow import Schema, fields
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from app import permissions
from app.api.bodies import Id
from app.api.custom import CustomApi
from app.api.doors import json_object, safe, transaction
from app.api.imports import FORM_OVERHEAD
from app.api.openapi import IMPORT_TOO_LARGE, add_responses
from app.extensions import db
from app.services import imports
from app.services.errors import InvalidRequestError
from app.services.premiums.debits import start_debit_batch
from app.services.premiums.rejections import apply_rejections
from app.services.renewals.contracts import agency_today
from app.services.scope import current_user

JOB_ROUTE = "/api/v1/job"


def _date(description: str) -> fields.Date:
    # Parsed, not only matched: "2024-13-01" is refused with the field's message (422).
    return fields.Date(required=True, metadata={"description": description})


class DebitBatchSchema(Schema):
    due_from = _date("First due date included (YYYY-MM-DD)")
    due_to = _date("Last due date included (YYYY-MM-DD); a year at most after due_from")
    organisation_id = Id(
        allow_none=True, metadata={"description": "SUPERADMIN only: the agency debiting"}
    )


class DebitBatchAcceptedSchema(Schema):
    job_id = fields.Integer(metadata={"description": "Follow it at GET /api/v1/job/<job_id>"})


class RejectionResultSchema(Schema):
    rejected = fields.List(fields.String(), metadata={"description": "Debits rejected now"})
    already_rejected = fields.List(fields.String(), metadata={"description": "Left as they were"})
    unknown = fields.List(
        fields.String(), metadata={"description": "References the agency has no debit for"}
    )


class DirectDebitApi(CustomApi):
    resource_name = "sepa"
    class_permission_name = permissions.DIRECT_DEBIT
    method_permission_name = {"batch": permissions.WRITE, "rejections": permissions.WRITE}
    openapi_spec_tag = "SEPA direct debit"
    openapi_spec_component_schemas = (
        DebitBatchSchema,
        DebitBatchAcceptedSchema,
        RejectionResultSchema,
    )

    def add_apispec_components(self, api_spec: Any) -> None:
        super().add_apispec_components(api_spec)
        add_responses(api_spec, {"ImportTooLarge": IMPORT_TOO_LARGE})

    @expose("/batch", methods=["POST"])
    @protect()
    @safe
    def batch(self) -> Response:
        """Debit the premium notices due in a period: one pain.008 file, as a job.
        ---
        post:
          summary: Start a SEPA direct debit batch (pain.008.001.02)
          description: >-
            Records a debit (a payment by sepa_debit, allocated) for every notice collected
            by the broker, due in the period, with something left to pay, of a contract
            debited under an active mandate; answers 202 with the job writing the file.
            422 when the agency's creditor details are missing or nothing is to debit.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/DebitBatchSchema'
          responses:
            202:
              description: Accepted; Location names the job
              headers:
                Location:
                  schema: {type: string}
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/DebitBatchAcceptedSchema'
            400:
              $ref: '#/components/responses/400'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        data = DebitBatchSchema().load(json_object())
        due_from, due_to = data["due_from"], data["due_to"]
        with transaction(db.session):
            job = start_debit_batch(
                db.session,
                current_user(),
                due_from=due_from,
                due_to=due_to,
                organisation_id=data.get("organisation_id"),
            )
        response = self.response(202, job_id=job.id)
        response.headers["Location"] = f"{JOB_ROUTE}/{job.id}"
        return response

    @expose("/rejections", methods=["POST"])
    @protect()
    @safe
    def rejections(self) -> Response:
        """Reject the debits a bank returned.
        ---
        post:
          summary: Import a bank's SEPA rejections (CSV or XLSX)
          description: >-
            Columns `reference` (the debit's end-to-end id), `reason` (ISO 20022 code, e.g.
            AM04) and optionally `date`. All lines apply in one transaction.
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  required: [file]
                  properties:
                    file:
                      type: string
                      format: binary
          responses:
            200:
              description: Applied
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/RejectionResultSchema'
            400:
              $ref: '#/components/responses/400'
            403:
              $ref: '#/components/responses/403'
            413:
              $ref: '#/components/responses/ImportTooLarge'
            422:
              $ref: '#/components/responses/422'
        """
        limits = imports.limits()
        if (request.content_length or 0) > limits.max_bytes + FORM_OVERHEAD:
            return self.response(413, message=imports.too_large_message(limits))
        request.max_content_length = limits.max_bytes + FORM_OVERHEAD
        try:
            upload = request.files.get("file")
        except RequestEntityTooLarge:
            return self.response(413, message=imports.too_large_message(limits))
        if upload is None or not upload.filename:
            return self.response_400(message=_("Send the file in the multipart field 'file'."))
        data = upload.stream.read(limits.max_bytes + 1)
        if len(data) > limits.max_bytes:
            return self.response(413, message=imports.too_large_message(limits))
        user = current_user()
        organisation_id = _own_organisation(user)
        with transaction(db.session):
            outcome = apply_rejections(
                db.session,
                organisation_id,
                data,
                upload.filename,
                today=agency_today(db.session, organisation_id),
            )
        return self.response(
            200,
            rejected=outcome.rejected,
            already_rejected=outcome.already_rejected,
            unknown=outcome.unknown,
        )


def _own_organisation(user: Any) -> int:
    organisation_id = getattr(user, "organisation_id", None)
    if organisation_id is None:
        raise InvalidRequestError(_("Your account belongs to no organisation."))
    return organisation_id
