"""/api/v1/remittance/: bordereaux of the premiums the agency collected for its insurers.

``POST /`` ``{insurer_id, period_from, period_to}`` drafts the bordereau of the notices
paid in the period (422 when nothing was collected); ``POST /<id>/issue`` sends it (its
notices and payments are frozen from then on); ``POST /<id>/paid`` ``{paid_on}`` records
the transfer; ``GET /<id>/transfer`` is the SEPA credit transfer file (pain.001.001.03)
of the net amount; ``GET /<id>/export`` the bordereau as XLSX; ``GET /<id>/bordereau?format=
pdf|xlsx`` the bordereau from its built-in templates (app/data/templates/). MANAGER and above
(resource Commission).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response as FlaskResponse
from flask import request, send_file
from flask_appbuilder.api import expose, protect
from flask_babel import lazy_gettext
from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import parse_pk
from app.api.bodies import Id
from app.api.custom import CustomApi
from app.api.doors import json_object, safe, transaction
from app.api.openapi import add_responses
from app.extensions import db
from app.models import OutputFormat, Remittance
from app.services.commissions import remittances
from app.services.commissions.remittance_documents import file_name, render_bordereau
from app.services.commissions.remittance_export import export_xlsx
from app.services.errors import InvalidRequestError, NotFoundError
from app.services.renewals.contracts import agency_today
from app.services.scope import current_user, visible_organisation_id
from app.views.responses import file_response

ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _date(description: str, required: bool = True) -> fields.String:
    return fields.String(
        required=required,
        validate=validate.Regexp(ISO_DATE, error=lazy_gettext("Give a date as YYYY-MM-DD.")),
        metadata={"format": "date", "description": description},
    )


class RemittanceSchema(Schema):
    insurer_id = Id(required=True)
    period_from = _date("First day of payments included (YYYY-MM-DD)")
    period_to = _date("Last day of payments included (YYYY-MM-DD)")


class RemittancePaidSchema(Schema):
    paid_on = _date("The day the transfer left (YYYY-MM-DD); default today", required=False)


def remittance_json(remittance: Remittance, with_lines: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": remittance.id,
        "number": remittance.number,
        "insurer_id": remittance.company_id,
        "period_from": remittance.period_from.isoformat(),
        "period_to": remittance.period_to.isoformat(),
        "status": remittance.status.value,
        "premiums_collected": str(remittance.premiums_collected),
        "commission_retained": str(remittance.commission_retained),
        "net_amount": str(remittance.net_amount),
        "issued_on": remittance.issued_on.isoformat() if remittance.issued_on else None,
        "paid_on": remittance.paid_on.isoformat() if remittance.paid_on else None,
        "notice_count": len(remittance.lines),
    }
    if with_lines:
        body["lines"] = [
            {
                "premium_notice_id": line.premium_notice_id,
                "notice_number": line.premium_notice.number,
                "paid_on": line.paid_on.isoformat(),
                "collected": str(line.collected),
                "commission": str(line.commission),
                "net": str(line.collected - line.commission),
            }
            for line in remittance.lines
        ]
    return body


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidRequestError(lazy_gettext("Give a date as YYYY-MM-DD.")) from None


def _organisation() -> int:
    organisation_id = getattr(current_user(), "organisation_id", None)
    if organisation_id is None:
        raise InvalidRequestError(lazy_gettext("Your account belongs to no organisation."))
    return organisation_id


def _remittance(pk: str) -> Remittance:
    parsed = parse_pk(pk, 2**31 - 1)  # 32-bit ids: a larger number names no row
    if parsed is None:
        raise NotFoundError(lazy_gettext("Unknown bordereau."))
    return remittances.visible(db.session, visible_organisation_id(), parsed)


class RemittanceApi(CustomApi):
    resource_name = "remittance"
    class_permission_name = permissions.COMMISSION
    method_permission_name = {
        "create": permissions.WRITE,
        "list_remittances": permissions.READ,
        "show": permissions.READ,
        "issue": permissions.WRITE,
        "paid": permissions.WRITE,
        "transfer": permissions.READ,
        "export": permissions.READ,
        "bordereau": permissions.READ,
    }
    openapi_spec_tag = "Remittances"
    openapi_spec_component_schemas = (RemittanceSchema, RemittancePaidSchema)

    def add_apispec_components(self, api_spec: Any) -> None:
        super().add_apispec_components(api_spec)
        add_responses(
            api_spec,
            {"RemittanceStepConflict": {"description": "Not in the status this step needs."}},
        )

    @expose("/", methods=["POST"])
    @protect()
    @safe
    def create(self) -> Response:
        """Draft the bordereau of a period.
        ---
        post:
          summary: Draft a remittance bordereau for an insurer and a period
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/RemittanceSchema'
          responses:
            201:
              description: Drafted
            400:
              $ref: '#/components/responses/400'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        data = RemittanceSchema().load(json_object())
        with transaction(db.session):
            remittance = remittances.create(
                db.session,
                _organisation(),
                company_id=data["insurer_id"],
                period_from=_day(data["period_from"]),
                period_to=_day(data["period_to"]),
            )
        response = self.response(201, id=remittance.id, result=remittance_json(remittance, True))
        response.headers["Location"] = f"{self.route_base}/{remittance.id}"
        return response

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def list_remittances(self) -> Response:
        """The agency's bordereaux, newest first.
        ---
        get:
          summary: List remittance bordereaux
          responses:
            200:
              description: Up to 100 bordereaux
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
        """
        query = db.session.query(Remittance)
        organisation_id = visible_organisation_id()
        if organisation_id is not None:
            query = query.filter(Remittance.organisation_id == organisation_id)
        rows = query.order_by(Remittance.id.desc()).limit(100).all()
        return self.response(200, result=[remittance_json(row) for row in rows])

    @expose("/<pk>", methods=["GET"])
    @protect()
    @safe
    def show(self, pk: str) -> Response:
        """A bordereau and its notices.
        ---
        get:
          summary: Show a remittance bordereau
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: The bordereau
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
        """
        return self.response(200, result=remittance_json(_remittance(pk), True))

    @expose("/<pk>/issue", methods=["POST"])
    @protect()
    @safe
    def issue(self, pk: str) -> Response:
        """Issue a draft bordereau: its notices are frozen.
        ---
        post:
          summary: Issue a remittance bordereau
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: The bordereau
            400:
              $ref: '#/components/responses/400'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              $ref: '#/components/responses/RemittanceStepConflict'
            422:
              $ref: '#/components/responses/422'
        """
        remittance = _remittance(pk)
        with transaction(db.session):
            remittances.issue(
                db.session, remittance, agency_today(db.session, remittance.organisation_id)
            )
        return self.response(200, result=remittance_json(remittance))

    @expose("/<pk>/paid", methods=["POST"])
    @protect()
    @safe
    def paid(self, pk: str) -> Response:
        """Record that the net amount was transferred.
        ---
        post:
          summary: Mark a remittance bordereau paid
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/RemittancePaidSchema'
          responses:
            200:
              description: The bordereau
            400:
              $ref: '#/components/responses/400'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              $ref: '#/components/responses/RemittanceStepConflict'
            422:
              $ref: '#/components/responses/422'
        """
        remittance = _remittance(pk)
        data = RemittancePaidSchema().load(json_object() if request.data else {})
        today = agency_today(db.session, remittance.organisation_id)
        paid_on = _day(data["paid_on"]) if data.get("paid_on") else today
        with transaction(db.session):
            remittances.mark_paid(db.session, remittance, paid_on, today)
        return self.response(200, result=remittance_json(remittance))

    @expose("/<pk>/transfer", methods=["GET"])
    @protect()
    @safe
    def transfer(self, pk: str) -> FlaskResponse:
        """The SEPA credit transfer of the net amount.
        ---
        get:
          summary: Download the bordereau's SEPA credit transfer (pain.001.001.03)
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: The XML file
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        remittance = _remittance(pk)
        body = remittances.transfer_file(
            db.session, remittance, agency_today(db.session, remittance.organisation_id)
        )
        response = FlaskResponse(body, mimetype="application/xml")
        name = f"virement-{remittance.number}.xml"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @expose("/<pk>/export", methods=["GET"])
    @protect()
    @safe
    def export(self, pk: str) -> FlaskResponse:
        """The bordereau as a spreadsheet.
        ---
        get:
          summary: Download a remittance bordereau (XLSX)
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: The XLSX file
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
        """
        remittance = _remittance(pk)
        return send_file(
            export_xlsx(remittance),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            as_attachment=True,
            download_name=f"bordereau-{remittance.number}.xlsx",
        )

    @expose("/<pk>/bordereau", methods=["GET"])
    @protect()
    @safe
    def bordereau(self, pk: str) -> FlaskResponse:
        """The bordereau for the insurer, from its built-in templates.
        ---
        get:
          summary: Download a remittance bordereau rendered as PDF or XLSX
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          - {in: query, name: format, schema: {type: string, enum: [pdf, xlsx], default: pdf}}
          responses:
            200:
              description: The PDF or XLSX file
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        remittance = _remittance(pk)
        wanted = request.args.get("format", "pdf")
        if wanted not in ("pdf", "xlsx"):
            message = lazy_gettext("Choose pdf or xlsx.")
            raise InvalidRequestError(message, {"format": message})
        rendered = render_bordereau(
            db.session,
            remittance,
            OutputFormat(wanted),
            agency_today(db.session, remittance.organisation_id),
        )
        return file_response(
            rendered.data, rendered.media_type, file_name(remittance, rendered.extension)
        )
