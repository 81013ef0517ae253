"""/api/v1/training/: the DDA training log (15 hours a year per person).

Thin doors over app/services/compliance/training.py. A record names a person of the
agency, the day the training ended, its hours (Decimal, as a string), title and body,
and the certificate's reference. ``GET /hours?year=`` lists every active person with
their hours that year and, from October, a warning for those under 15 hours.

Permissions (app/services/roles.py): ``Training`` for MANAGER and above, who answer
for the agency's training obligation.
"""

from __future__ import annotations

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
from app.extensions import db
from app.models import TrainingRecord
from app.services.compliance import training
from app.services.errors import InvalidRequestError, MalformedRequestError
from app.services.scope import current_user
from app.services.timezones import local_today, reader_zone

COLUMNS = ["id", "user_id", "completed_on", "hours", "title", "body", "certificate_reference"]


class YearSchema(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2200))


class PersonHoursSchema(Schema):
    user_id = fields.Integer()
    name = fields.String()
    hours = fields.String(metadata={"description": "Decimal, as a string"})
    missing = fields.String(metadata={"description": "Hours still to follow (Decimal)"})
    warning = fields.Boolean(metadata={"description": "From October: under 15 hours"})


class YearHoursSchema(Schema):
    year = fields.Integer()
    required_hours = fields.String()
    people = fields.List(fields.Nested(PersonHoursSchema))


class TrainingApi(OrganisationModelRestApi):
    class_permission_name = permissions.TRAINING
    method_permission_name = {**permissions.API_METHODS, "hours": permissions.READ}
    resource_name = "training"
    openapi_spec_tag = "Compliance"
    datamodel = SQLAInterface(TrainingRecord)
    include_route_methods = {"get", "get_list", "info", "post", "put", "delete", "hours"}
    list_columns = COLUMNS
    show_columns = [*COLUMNS, "created_at", "updated_at"]
    add_columns = COLUMNS[1:]
    edit_columns = COLUMNS[1:]
    search_columns = ["user_id", "completed_on", "body"]
    order_columns = ["id", "completed_on", "user_id"]
    base_order = ("completed_on", "desc")
    openapi_spec_component_schemas = (PersonHoursSchema, YearHoursSchema)
    description_columns = {
        "user_id": lazy_gettext("The person of the agency who followed the training."),
        "hours": lazy_gettext("Hours of training, more than 0 and at most 200."),
        "body": lazy_gettext("The training body named on the certificate."),
    }

    def _check(self, item: TrainingRecord) -> None:
        training.check_record(self.datamodel.session, item, local_today(reader_zone()))

    def pre_add(self, item: TrainingRecord) -> None:
        self._check(item)

    def pre_update(self, item: TrainingRecord) -> None:
        self._check(item)

    @expose("/hours", methods=["GET"])
    @protect()
    @safe
    def hours(self) -> Response:
        """Each person's training hours in a year, with the October warning.
        ---
        get:
          summary: Training hours per person in a year
          description: >-
            Every active person of the agency, with their hours in `year` (0 when
            none); from 1 October of that year, `warning` marks those under 15 hours.
          parameters:
          - {in: query, name: year, required: true,
             schema: {type: integer, minimum: 2000, maximum: 2200}}
          responses:
            200:
              description: The year's hours
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/YearHoursSchema'}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            422:
              $ref: '#/components/responses/422'
        """
        try:
            year = YearSchema().load(dict(request.args))["year"]
        except ValidationError as error:
            raise MalformedRequestError(_("Give a year between 2000 and 2200.")) from error
        user = current_user()
        if user is None or user.organisation_id is None:
            raise InvalidRequestError(_("Only an agency's people keep a training log."))
        people = training.yearly_hours(
            db.session, user.organisation_id, year, local_today(reader_zone())
        )
        return self.response(
            200, year=year, required_hours=str(training.REQUIRED_HOURS), people=people
        )
