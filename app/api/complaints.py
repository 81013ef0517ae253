"""/api/v1/complaint/: the complaints register (ACPR recommendation 2022-R-01).

Thin doors over app/services/compliance/complaints.py. A complaint is posted with its
day of receipt, channel, client, subject and optional contract or claim; the answer carries both
deadlines (``acknowledgement_due_on``: 10 jours ouvrables; ``answer_due_on``: 2
months) and the ids of the two tasks opened for them. PUT records the acknowledgement
and the answer (day, outcome, mediator named); a kept deadline closes its task. A
complaint is never deleted: the register is what the ACPR reads.

``GET /register`` exports the register as CSV (``year`` optional); ``GET /summary``
counts a year's complaints and the deadlines kept.

Permissions (app/services/roles.py): ``Complaint.can_read``/``can_write`` for every role.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder.api import expose, protect
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import OrganisationModelRestApi
from app.api.doors import safe
from app.api.openapi import nullable_enums
from app.extensions import db
from app.models import Complaint
from app.services.compliance import complaints
from app.services.errors import InvalidRequestError, MalformedRequestError
from app.services.scope import current_user
from app.services.timezones import local_today, reader_zone

COLUMNS = [
    "id",
    "received_on",
    "channel",
    "client_id",
    "subject",
    "policy_id",
    "claim_id",
    "acknowledgement_due_on",
    "acknowledged_on",
    "answer_due_on",
    "answered_on",
    "outcome",
    "mediator_named",
    "acknowledgement_task_id",
    "answer_task_id",
]
WRITABLE = [
    "received_on",
    "channel",
    "client_id",
    "subject",
    "policy_id",
    "claim_id",
    "acknowledged_on",
    "answered_on",
    "outcome",
    "mediator_named",
]


class YearSchema(Schema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2200))


class SummarySchema(Schema):
    year = fields.Integer()
    received = fields.Integer()
    acknowledged = fields.Integer()
    acknowledged_in_time = fields.Integer()
    answered = fields.Integer()
    answered_in_time = fields.Integer()
    open = fields.Integer(metadata={"description": "Not answered yet"})
    overdue = fields.Integer(metadata={"description": "Not answered, past the 2 months"})
    mediator_named = fields.Integer(metadata={"description": "Answers naming the mediator"})
    by_outcome = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_channel = fields.Dict(keys=fields.String(), values=fields.Integer())


def _year(required: bool) -> int | None:
    try:
        data = YearSchema().load(dict(request.args))
    except ValidationError as error:
        raise MalformedRequestError(_("Give a year between 2000 and 2200.")) from error
    if required and "year" not in data:
        raise MalformedRequestError(_("Give a year between 2000 and 2200."))
    return data.get("year")


def _agency() -> int:
    user = current_user()
    if user is None or user.organisation_id is None:
        raise InvalidRequestError(_("Only an agency's people keep a complaints register."))
    return user.organisation_id


class ComplaintApi(OrganisationModelRestApi):
    class_permission_name = permissions.COMPLAINT
    method_permission_name = {
        **permissions.API_METHODS,
        "register": permissions.READ,
        "summary": permissions.READ,
    }
    resource_name = "complaint"
    openapi_spec_tag = "Complaints"
    datamodel = SQLAInterface(Complaint)
    include_route_methods = {"get", "get_list", "info", "post", "put", "register", "summary"}
    list_columns = COLUMNS
    show_columns = [*COLUMNS, "created_at", "updated_at"]
    add_columns = WRITABLE
    edit_columns = WRITABLE
    search_columns = [
        "received_on",
        "channel",
        "client_id",
        "policy_id",
        "claim_id",
        "acknowledged_on",
        "answered_on",
        "answer_due_on",
        "outcome",
    ]
    order_columns = ["id", "received_on", "answer_due_on", "acknowledgement_due_on"]
    base_order = ("received_on", "desc")
    openapi_spec_component_schemas = (SummarySchema,)
    description_columns = {
        "acknowledgement_due_on": lazy_gettext(
            "10 jours ouvrables (Monday to Saturday) after the receipt (ACPR 2022-R-01)."
        ),
        "answer_due_on": lazy_gettext("2 months after the receipt (ACPR 2022-R-01)."),
        "mediator_named": lazy_gettext("The answer names the mediator the client may refer to."),
        "outcome": lazy_gettext("Given with the day of the answer."),
    }

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        # The generated enum field refuses null, yet an open complaint has no outcome.
        for schema in (self.add_model_schema, self.edit_model_schema):
            schema.fields["outcome"].allow_none = True

    def add_api_spec(self, api_spec: Any) -> None:
        super().add_api_spec(api_spec)
        nullable_enums(api_spec, type(self).__name__, Complaint)

    def _prepare(self, item: Complaint) -> None:
        user = current_user()
        complaints.prepare(
            self.datamodel.session,
            item,
            getattr(user, "id", None),
            local_today(reader_zone()),
        )

    def pre_add(self, item: Complaint) -> None:
        self._prepare(item)

    def pre_update(self, item: Complaint) -> None:
        self._prepare(item)

    @expose("/register", methods=["GET"])
    @protect()
    @safe
    def register(self) -> Response:
        """The complaints register as CSV, for the ACPR.
        ---
        get:
          summary: Export the complaints register (CSV)
          description: >-
            One line per complaint of the agency, in the order received, with both
            deadlines and whether they were kept; `year` keeps one year's.
          parameters:
          - {in: query, name: year, schema: {type: integer, minimum: 2000, maximum: 2200}}
          responses:
            200:
              description: The register (semicolon-separated, UTF-8)
              content:
                text/csv:
                  schema: {type: string}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            422:
              $ref: '#/components/responses/422'
        """
        year = _year(required=False)
        rows = complaints.register_rows(db.session, _agency(), year)
        name = f"complaints-{year}.csv" if year else "complaints.csv"
        return Response(
            complaints.register_csv(rows),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @expose("/summary", methods=["GET"])
    @protect()
    @safe
    def summary(self) -> Response:
        """A year's complaints counted, and the deadlines kept.
        ---
        get:
          summary: Yearly summary of the complaints register
          parameters:
          - {in: query, name: year, required: true,
             schema: {type: integer, minimum: 2000, maximum: 2200}}
          responses:
            200:
              description: The year's counts
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/SummarySchema'}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            422:
              $ref: '#/components/responses/422'
        """
        year = _year(required=True)
        assert year is not None
        today = local_today(reader_zone())
        return self.response(200, **complaints.yearly_summary(db.session, _agency(), year, today))
