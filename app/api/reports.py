"""/api/v1/report/: start a portfolio report, a premiums-by-month report or a receipts journal.

Each route answers 202 ``{"job_id"}`` at once; the report runs on the queue
(app/services/reports) and is followed at ``GET /api/v1/job/<id>`` (Location):
``progress`` counts rows written, ``document_id`` names the file once done
(XLSX; the receipts journal also as CSV with ``format``),
downloaded at ``GET /api/v1/document/<id>/download``.

The optional JSON body mirrors the dashboard's filters: ``insurer_id``,
``date_from``, ``date_to`` (YYYY-MM-DD, inclusive, on the effective date);
SUPERADMIN also names the ``organisation_id``. Anything else answers 422.
MANAGER and above (resource Report); the report covers the caller's organisation.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder.api import expose, protect
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response

from app import permissions
from app.api.bodies import Id
from app.api.custom import CustomApi
from app.api.doors import safe, transaction
from app.api.openapi import add_responses
from app.extensions import db
from app.models import JobKind, OutputFormat
from app.services.claims.report import CLAIMS
from app.services.errors import InvalidRequestError
from app.services.reports import TABULAR_FORMATS, start_tabular_job
from app.services.reports.portfolio import PORTFOLIO, PREMIUMS
from app.services.reports.receipts import RECEIPTS
from app.services.scope import current_user

JOB_ROUTE = "/api/v1/job"
ACCEPTED = {
    "description": "Accepted; Location names the job",
    "headers": {"Location": {"schema": {"type": "string"}}},
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/ReportAcceptedSchema"}}
    },
}
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _date_field(description: str) -> fields.String:
    return fields.String(
        allow_none=True,
        validate=validate.Regexp(ISO_DATE, error=lazy_gettext("Give a date as YYYY-MM-DD.")),
        metadata={"format": "date", "description": description},
    )


class ReportFiltersSchema(Schema):
    insurer_id = Id(allow_none=True, metadata={"description": "One insurer of the organisation"})
    date_from = _date_field("First effective date included (YYYY-MM-DD)")
    date_to = _date_field("Last effective date included (YYYY-MM-DD)")
    organisation_id = Id(
        allow_none=True, metadata={"description": "SUPERADMIN only: the organisation reported on"}
    )


class ReceiptsRequestSchema(ReportFiltersSchema):
    format = fields.String(
        load_default=OutputFormat.xlsx.value,
        validate=validate.OneOf([output.value for output in TABULAR_FORMATS]),
        metadata={
            "description": "xlsx (the journal and a summary sheet per payment method) or csv "
            "(the journal only: UTF-8 with BOM, `;`-separated, amounts as plain decimals)"
        },
    )


class ReportAcceptedSchema(Schema):
    job_id = fields.Integer(metadata={"description": "Follow it at GET /api/v1/job/<job_id>"})


def start_report(name: str, data: dict[str, Any]) -> int:
    """Start the report ``name`` for the current user with checked filters; the job id."""
    organisation_id = data.pop("organisation_id", None)
    output = data.pop("format", OutputFormat.xlsx.value)
    job = start_tabular_job(
        db.session,
        current_user(),
        job_kind=JobKind.report,
        name=name,
        params={key: value for key, value in data.items() if value is not None},
        output_format=output,
        organisation_id=organisation_id,
    )
    return job.id


class ReportApi(CustomApi):
    resource_name = "report"
    class_permission_name = permissions.REPORT
    method_permission_name = {
        "portfolio": permissions.WRITE,
        "premiums": permissions.WRITE,
        "receipts": permissions.WRITE,
        "claims": permissions.WRITE,
    }
    openapi_spec_tag = "Reports"
    openapi_spec_component_schemas = (
        ReportFiltersSchema,
        ReceiptsRequestSchema,
        ReportAcceptedSchema,
    )

    def add_apispec_components(self, api_spec: Any) -> None:
        super().add_apispec_components(api_spec)
        add_responses(api_spec, {"ReportAccepted": ACCEPTED})

    @expose("/portfolio", methods=["POST"])
    @protect()
    @safe
    def portfolio(self) -> Response:
        """Start a portfolio report: one row per policy, totals by insurer and line.
        ---
        post:
          summary: Start a portfolio report (XLSX)
          description: >-
            Answers 202 with the job's id; follow it at the Location given
            (GET /api/v1/job/<id>) until `status` is `succeeded`, then download
            the document named by `document_id`.
          requestBody:
            required: false
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/ReportFiltersSchema'
          responses:
            202:
              $ref: '#/components/responses/ReportAccepted'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        return self._start(PORTFOLIO)

    @expose("/premiums", methods=["POST"])
    @protect()
    @safe
    def premiums(self) -> Response:
        """Start a premiums-by-month report: per month and insurer, with totals.
        ---
        post:
          summary: Start a premiums-by-month report (XLSX)
          description: >-
            The period defaults to the twelve months up to today and spans at
            most 120 months. Answers 202 with the job's id, like the portfolio report.
          requestBody:
            required: false
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/ReportFiltersSchema'
          responses:
            202:
              $ref: '#/components/responses/ReportAccepted'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        return self._start(PREMIUMS)

    @expose("/receipts", methods=["POST"])
    @protect()
    @safe
    def receipts(self) -> Response:
        """Start a receipts journal: every payment received in the period, for the accountant.
        ---
        post:
          summary: Start a receipts journal (XLSX or CSV)
          description: >-
            One row per allocation of a payment received (date, client, contract, premium
            notice, amount, method, reference), and the unallocated part of a payment on a
            row of its own; rejected payments are left out. The period (on the date
            received) defaults to the twelve months up to today. `format` chooses the
            file: xlsx (default; with a summary sheet per payment method) or csv (the
            journal's rows only). Answers 202 with the job's id.
          requestBody:
            required: false
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/ReceiptsRequestSchema'
          responses:
            202:
              $ref: '#/components/responses/ReportAccepted'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        return self._start(RECEIPTS, ReceiptsRequestSchema())

    @expose("/claims", methods=["POST"])
    @protect()
    @safe
    def claims(self) -> Response:
        """Start a claims report: the period's claims and its loss ratio.
        ---
        post:
          summary: Start a claims report (XLSX)
          description: >-
            One row per claim whose loss occurred in the period (contract, client, insurer,
            nature, dates, late flag, status, estimate, indemnities paid and net cost), then
            the period's loss ratio per insurer and per line. The period defaults to the
            twelve months up to today. Answers 202 with the job's id.
          requestBody:
            required: false
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/ReportFiltersSchema'
          responses:
            202:
              $ref: '#/components/responses/ReportAccepted'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        return self._start(CLAIMS)

    def _start(self, name: str, schema: Schema | None = None) -> Response:
        body = _filters_body()
        with transaction(db.session):
            job_id = start_report(name, (schema or ReportFiltersSchema()).load(body))
        response = self.response(202, job_id=job_id)
        response.headers["Location"] = f"{JOB_ROUTE}/{job_id}"
        return response


def _filters_body() -> dict[str, Any]:
    """The JSON object sent, {} when nothing was sent; anything else answers 422."""
    if not request.get_data(cache=True):
        return {}
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        raise InvalidRequestError(_("The request body must be a JSON object."))
    return body
