"""A commission statement's lines: ``GET /<id>/lines``, the hand ``match`` and
``unmatch`` of one line, and ``GET /<id>/export`` (a mixin of
app/api/commission_statements.py; the rules are app/services/commissions/statements.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Response as FlaskResponse
from flask import request, send_file
from flask_appbuilder.api import expose, protect
from flask_babel import gettext as _
from marshmallow import Schema
from sqlalchemy import func
from werkzeug.wrappers import Response

from app.api.bodies import Id
from app.api.doors import json_object, safe, transaction
from app.api.statement_request import int_arg, statement_of, statement_pk
from app.extensions import db
from app.models import CommissionStatementLine
from app.services.commissions import statement_export, statements
from app.services.errors import InvalidRequestError

PAGE_SIZE_MAX = 500


class MatchSchema(Schema):
    expected_commission_id = Id(required=True)


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


class StatementLinesDoor:
    """The lines of a statement: list, match or unmatch one by hand, export them."""

    response: Any  # provided by CommissionStatementApi's base

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
        statement = statement_of(pk)
        page = int_arg("page", 0, 10**6)
        page_size = int_arg("page_size", 100, PAGE_SIZE_MAX, minimum=1)
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
                db.session, statement_of(pk), statement_pk(line_id), data["expected_commission_id"]
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
            line = statements.unmatch(db.session, statement_of(pk), statement_pk(line_id))
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
        statement = statement_of(pk)
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
