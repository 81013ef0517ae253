"""/api/v1/commission_statement/: insurers' commission statements, reconciled line by line.

``POST /`` (multipart ``file``, ``insurer_id``, ``period`` YYYY-MM; optional ``mapping``,
a JSON object field -> column header, and ``tolerance``) imports and reconciles in one
transaction: a bad line refuses the whole file (422 with each line's error), the same
file twice is refused (409). ``POST /preview`` reads and maps without writing.
``GET /<id>/lines?result=`` lists the lines (matched, amount_differs, missing, unknown);
``POST /<id>/lines/<line_id>/match`` ``{expected_commission_id}`` and ``…/unmatch`` fix
what the rules could not decide; ``GET /<id>/export?format=csv|xlsx`` downloads them
(those line doors are app/api/statement_lines.py; reading the request,
app/api/statement_request.py). MANAGER and above (resource Commission).
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder.api import expose, protect
from werkzeug.wrappers import Response

from app import permissions
from app.api.custom import CustomApi
from app.api.doors import safe, transaction
from app.api.openapi import add_responses
from app.api.statement_lines import MatchSchema, StatementLinesDoor
from app.api.statement_request import (
    mapping_field,
    own_organisation,
    read_upload,
    statement_of,
    tolerance_field,
)
from app.extensions import db
from app.models import CommissionStatement
from app.services.commissions import statements
from app.services.scope import current_user, visible_organisation_id


def statement_json(statement: CommissionStatement) -> dict[str, Any]:
    return {
        "id": statement.id,
        "insurer_id": statement.company_id,
        "period_start": statement.period_start.isoformat(),
        "period_end": statement.period_end.isoformat(),
        "file_name": statement.file_name,
        "sha256": statement.sha256,
        "line_count": statement.line_count,
        "total_commission": str(statement.total_commission),
        "tolerance": str(statement.tolerance),
        "results": statements.summary(db.session, statement.id),
        "created_at": statement.created_at.isoformat() if statement.created_at else None,
    }


class CommissionStatementApi(StatementLinesDoor, CustomApi):
    resource_name = "commission_statement"
    class_permission_name = permissions.COMMISSION
    method_permission_name = {
        "upload": permissions.WRITE,
        "preview": permissions.WRITE,
        "list_statements": permissions.READ,
        "show": permissions.READ,
        "lines": permissions.READ,
        "match": permissions.WRITE,
        "unmatch": permissions.WRITE,
        "export": permissions.READ,
    }
    openapi_spec_tag = "Commission statements"
    openapi_spec_component_schemas = (MatchSchema,)

    def add_apispec_components(self, api_spec: Any) -> None:
        super().add_apispec_components(api_spec)
        add_responses(api_spec, {"StatementTooLarge": {"description": "The file is too large."}})

    @expose("/", methods=["POST"])
    @protect()
    @safe
    def upload(self) -> Response:
        """Import an insurer's statement and reconcile it.
        ---
        post:
          summary: Import and reconcile a commission statement (CSV or XLSX)
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  required: [file, insurer_id, period]
                  properties:
                    file: {type: string, format: binary}
                    insurer_id: {type: integer}
                    period: {type: string, description: "The statement's month, YYYY-MM"}
                    mapping:
                      type: string
                      description: >-
                        JSON object: policy_number, notice_reference, period, premium,
                        commission, sign -> the file's column header. Saved per insurer.
                    tolerance: {type: string, description: "Amount difference accepted"}
          responses:
            201:
              description: Imported and reconciled; the statement with its result counts
            400:
              $ref: '#/components/responses/400'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              description: This file was already imported.
            413:
              $ref: '#/components/responses/StatementTooLarge'
            422:
              $ref: '#/components/responses/422'
        """
        data, file_name = read_upload()
        organisation_id = own_organisation()
        with transaction(db.session):
            statement = statements.import_statement(
                db.session,
                organisation_id,
                company_id=request.form.get("insurer_id", ""),
                period=request.form.get("period", ""),
                data=data,
                file_name=file_name,
                user_id=getattr(current_user(), "id", None),
                mapping=mapping_field(),
                tolerance=tolerance_field(),
            )
        response = self.response(201, id=statement.id, result=statement_json(statement))
        response.headers["Location"] = f"{self.route_base}/{statement.id}"
        return response

    @expose("/preview", methods=["POST"])
    @protect()
    @safe
    def preview(self) -> Response:
        """Read and map a statement without importing it.
        ---
        post:
          summary: Preview a statement's mapped rows (nothing is written)
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  required: [file, insurer_id]
                  properties:
                    file: {type: string, format: binary}
                    insurer_id: {type: integer}
                    mapping: {type: string}
          responses:
            200:
              description: The columns found, the first rows and every line's error
            400:
              $ref: '#/components/responses/400'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            413:
              $ref: '#/components/responses/StatementTooLarge'
            422:
              $ref: '#/components/responses/422'
        """
        data, file_name = read_upload()
        read = statements.preview(
            db.session,
            own_organisation(),
            request.form.get("insurer_id", ""),
            data,
            file_name,
            mapping_field(),
        )
        return self.response(
            200,
            columns=read.columns,
            headers=read.headers,
            rows=[
                {
                    "row": row.row,
                    "policy_number": row.policy_number,
                    "notice_reference": row.notice_reference,
                    "period_start": row.period_start.isoformat() if row.period_start else None,
                    "premium": None if row.premium is None else str(row.premium),
                    "commission": str(row.commission),
                }
                for row in read.rows[:50]
            ],
            row_count=len(read.rows),
            errors=[
                {"row": error.row, "column": error.column, "message": error.message}
                for error in read.errors[:200]
            ],
        )

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def list_statements(self) -> Response:
        """The agency's statements, newest first.
        ---
        get:
          summary: List commission statements
          responses:
            200:
              description: Up to 100 statements
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
        """
        query = db.session.query(CommissionStatement)
        organisation_id = visible_organisation_id()
        if organisation_id is not None:
            query = query.filter(CommissionStatement.organisation_id == organisation_id)
        rows = query.order_by(CommissionStatement.id.desc()).limit(100).all()
        return self.response(200, result=[statement_json(row) for row in rows])

    @expose("/<pk>", methods=["GET"])
    @protect()
    @safe
    def show(self, pk: str) -> Response:
        """A statement and its result counts.
        ---
        get:
          summary: Show a commission statement
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          responses:
            200:
              description: The statement
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
        """
        return self.response(200, result=statement_json(statement_of(pk)))
