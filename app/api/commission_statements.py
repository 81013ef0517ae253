"""/api/v1/commission_statement/: insurers' commission statements, reconciled line by line.

``POST /`` (multipart ``file``, ``insurer_id``, ``period`` YYYY-MM; optional ``mapping``,
a JSON object field -> column header, and ``tolerance``) imports and reconciles in one
transaction: a bad line refuses the whole file (422 with each line's error), the same
file twice is refused (409). ``POST /preview`` reads and maps without writing.
``GET /<id>/lines?result=`` lists the lines (matched, amount_differs, missing, unknown);
``POST /<id>/lines/<line_id>/match`` ``{expected_commission_id}`` and ``…/unmatch`` fix
what the rules could not decide; ``GET /<id>/export?format=csv|xlsx`` downloads them.
MANAGER and above (resource Commission).
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Response as FlaskResponse
from flask import request, send_file
from flask_appbuilder.api import expose, protect
from flask_babel import gettext as _
from marshmallow import Schema
from sqlalchemy import func
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import parse_pk
from app.api.bodies import Id
from app.api.custom import CustomApi
from app.api.doors import json_object, safe, transaction
from app.api.imports import FORM_OVERHEAD
from app.api.openapi import add_responses
from app.extensions import db
from app.models import CommissionStatement, CommissionStatementLine
from app.services.commissions import statement_export, statements
from app.services.commissions.statement_file import statement_limits
from app.services.errors import InvalidRequestError, MalformedRequestError, NotFoundError
from app.services.imports import too_large_message
from app.services.scope import current_user, visible_organisation_id

PAGE_SIZE_MAX = 500


class MatchSchema(Schema):
    expected_commission_id = Id(required=True)


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


def line_json(line: CommissionStatementLine) -> dict[str, Any]:
    def money(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return {
        "id": line.id,
        "row": line.row_number,
        "policy_number": line.policy_number,
        "notice_reference": line.notice_reference,
        "period_start": line.period_start.isoformat() if line.period_start else None,
        "premium": money(line.premium),
        "commission": money(line.commission),
        "result": line.result.value,
        "expected_commission_id": line.expected_commission_id,
        "expected_amount": money(line.expected_amount),
        "difference": money(line.difference),
        "manual": line.manual,
    }


class CommissionStatementApi(CustomApi):
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
        data, file_name = self._upload()
        organisation_id = _own_organisation()
        with transaction(db.session):
            statement = statements.import_statement(
                db.session,
                organisation_id,
                company_id=request.form.get("insurer_id", ""),
                period=request.form.get("period", ""),
                data=data,
                file_name=file_name,
                user_id=getattr(current_user(), "id", None),
                mapping=_mapping(),
                tolerance=_tolerance(),
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
        data, file_name = self._upload()
        read = statements.preview(
            db.session,
            _own_organisation(),
            request.form.get("insurer_id", ""),
            data,
            file_name,
            _mapping(),
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
        return self.response(200, result=statement_json(_statement(pk)))

    @expose("/<pk>/lines", methods=["GET"])
    @protect()
    @safe
    def lines(self, pk: str) -> Response:
        """A statement's lines, by result.
        ---
        get:
          summary: List a statement's reconciled lines
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          - in: query
            name: result
            schema: {type: string, enum: [matched, amount_differs, missing, unknown]}
          - in: query
            name: page
            schema: {type: integer, minimum: 0}
          - in: query
            name: page_size
            schema: {type: integer, minimum: 1, maximum: 500}
          responses:
            200:
              description: The lines and their count
            400:
              $ref: '#/components/responses/400'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        statement = _statement(pk)
        page = _int_arg("page", 0, 10**6)
        page_size = _int_arg("page_size", 100, PAGE_SIZE_MAX, minimum=1)
        query = statements.lines_query(statement, request.args.get("result") or None)
        count = db.session.scalar(query.with_only_columns(func.count()).order_by(None))
        rows = db.session.scalars(query.limit(page_size).offset(page * page_size)).all()
        return self.response(200, count=count, result=[line_json(line) for line in rows])

    @expose("/<pk>/lines/<line_id>/match", methods=["POST"])
    @protect()
    @safe
    def match(self, pk: str, line_id: str) -> Response:
        """Match a line to an expected commission by hand.
        ---
        post:
          summary: Match a statement line to an expected commission
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          - in: path
            name: line_id
            required: true
            schema: {type: integer}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/MatchSchema'
          responses:
            200:
              description: The line, matched or with its difference
            400:
              $ref: '#/components/responses/400'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              description: The expected commission is settled by another line, or cancelled.
            422:
              $ref: '#/components/responses/422'
        """
        data = MatchSchema().load(json_object())
        with transaction(db.session):
            line = statements.match(
                db.session, _statement(pk), _pk(line_id), data["expected_commission_id"]
            )
        return self.response(200, result=line_json(line))

    @expose("/<pk>/lines/<line_id>/unmatch", methods=["POST"])
    @protect()
    @safe
    def unmatch(self, pk: str, line_id: str) -> Response:
        """Undo a line's match.
        ---
        post:
          summary: Unmatch a statement line
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          - in: path
            name: line_id
            required: true
            schema: {type: integer}
          responses:
            200:
              description: The line, now unknown
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              description: The line is not matched.
            422:
              $ref: '#/components/responses/422'
        """
        with transaction(db.session):
            line = statements.unmatch(db.session, _statement(pk), _pk(line_id))
        return self.response(200, result=line_json(line))

    @expose("/<pk>/export", methods=["GET"])
    @protect()
    @safe
    def export(self, pk: str) -> FlaskResponse:
        """The reconciled lines as a file.
        ---
        get:
          summary: Export a statement's reconciliation (CSV or XLSX)
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          - in: query
            name: format
            schema: {type: string, enum: [csv, xlsx]}
          - in: query
            name: result
            schema: {type: string, enum: [matched, amount_differs, missing, unknown]}
          responses:
            200:
              description: The file
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        statement = _statement(pk)
        result = request.args.get("result") or None
        kind = request.args.get("format", "csv")
        if kind == "csv":
            body = statement_export.export_csv(db.session, statement, result)
            response = FlaskResponse(body, mimetype="text/csv; charset=utf-8")
            name = statement_export.file_name(statement, "csv")
            response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        if kind == "xlsx":
            spool = statement_export.export_xlsx(db.session, statement, result)
            return send_file(
                spool,
                mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                as_attachment=True,
                download_name=statement_export.file_name(statement, "xlsx"),
            )
        raise InvalidRequestError(_("Choose the format csv or xlsx."), {"format": "csv, xlsx"})

    # --- reading the request ------------------------------------------------------------

    def _upload(self) -> tuple[bytes, str]:
        limits = statement_limits()
        too_large = too_large_message(limits)
        if (request.content_length or 0) > limits.max_bytes + FORM_OVERHEAD:
            raise _TooLargeError(too_large)
        request.max_content_length = limits.max_bytes + FORM_OVERHEAD
        try:
            upload = request.files.get("file")
        except RequestEntityTooLarge:
            raise _TooLargeError(too_large) from None
        if upload is None or not upload.filename:
            raise MalformedRequestError(_("Send the file in the multipart field 'file'."))
        data = upload.stream.read(limits.max_bytes + 1)
        if len(data) > limits.max_bytes:
            raise _TooLargeError(too_large)
        return data, upload.filename


class _TooLargeError(InvalidRequestError):
    status = 413


def _own_organisation() -> int:
    organisation_id = getattr(current_user(), "organisation_id", None)
    if organisation_id is None:
        raise InvalidRequestError(_("Your account belongs to no organisation."))
    return organisation_id


def _pk(raw: str) -> int:
    # The tables' ids are 32-bit integers: a larger number names no row (PostgreSQL would
    # refuse to compare it).
    parsed = parse_pk(raw, 2**31 - 1)
    if parsed is None:
        raise NotFoundError(_("Not found."))
    return parsed


def _statement(raw: str) -> CommissionStatement:
    return statements.visible_statement(db.session, visible_organisation_id(), _pk(raw))


def _mapping() -> dict[str, str] | None:
    raw = request.form.get("mapping")
    if not raw:
        return None
    try:
        mapping = json.loads(raw)
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str | None) for k, v in mapping.items()
    ):
        raise MalformedRequestError(
            _("mapping must be a JSON object: field -> the file's column header.")
        )
    return mapping


def _tolerance() -> Decimal | None:
    raw = request.form.get("tolerance")
    if not raw:
        return None
    try:
        value = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(1000):
        raise InvalidRequestError(
            _("Enter a tolerance between 0 and 1000."), {"tolerance": _("Between 0 and 1000.")}
        )
    return value.quantize(Decimal("0.01"))


def _int_arg(name: str, default: int, maximum: int, minimum: int = 0) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not minimum <= int(raw) <= maximum:
        raise MalformedRequestError(
            _(
                "%(name)s must be a whole number from %(low)d to %(high)d.",
                name=name,
                low=minimum,
                high=maximum,
            )
        )
    return int(raw)
