"""/api/v1/proposal/: proposals (the needs statement before a sale, DDA L521-4).

Thin doors over app/services/advice. A proposal names its client (a prospect is a
client without a contract), its line, how the sale is made (``in_person``,
``distance``, ``door_to_door``: the last two open a withdrawal window on the contract),
the answers to the line's questionnaire (``answers``: an object of question → answer,
kept as a list of ``{question, answer}`` in the questionnaire's order), and the
recommendation with its reasons. ``GET /questionnaire?line=auto`` gives a line's
questions (the agency's own, else the built-in ones). Once the client signed the
proposal's FIC, its needs statement no longer changes (409). Its quotes are
/api/v1/quote/; its FIC is /api/v1/compliance_document/.

Permissions: ``Proposal.can_read``/``can_write`` for every role.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder.api import expose, protect
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import OrganisationModelRestApi
from app.api.doors import safe
from app.api.openapi import nullable_enums
from app.extensions import db
from app.models import LineOfBusiness, Proposal
from app.services.advice.proposals import prepare_proposal
from app.services.advice.questionnaire import questions_for
from app.services.errors import InvalidRequestError, MalformedRequestError
from app.services.scope import current_user, organisation_for_new_rows

COLUMNS = [
    "id",
    "client_id",
    "line_of_business",
    "sale_channel",
    "answers",
    "recommendation",
    "reasons",
    "created_by_id",
    "created_at",
]
WRITABLE = ["client_id", "line_of_business", "sale_channel", "answers", "recommendation", "reasons"]

QUESTIONNAIRE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "line_of_business": {"type": "string"},
        "questions": {"type": "array", "items": {"type": "string"}},
    },
}


class ProposalApi(OrganisationModelRestApi):
    class_permission_name = permissions.PROPOSAL
    method_permission_name = {**permissions.API_METHODS, "questionnaire": permissions.READ}
    resource_name = "proposal"
    openapi_spec_tag = "Proposals"
    datamodel = SQLAInterface(Proposal)
    # Kept as the record of the advice given: never deleted through the API.
    include_route_methods = {"get", "get_list", "info", "post", "put", "questionnaire"}
    list_columns = COLUMNS
    show_columns = [*COLUMNS, "updated_at"]
    add_columns = WRITABLE
    edit_columns = WRITABLE
    search_columns = ["client_id", "line_of_business", "sale_channel", "created_at"]
    order_columns = ["id", "created_at"]
    base_order = ("created_at", "desc")
    description_columns = {
        "answers": lazy_gettext(
            "An object of the line's questions and their answers; answered as a list of "
            "{question, answer} in the questionnaire's order."
        ),
        "sale_channel": lazy_gettext(
            "distance and door_to_door open a 14-day withdrawal window (L112-2-1, L112-9)."
        ),
    }

    def add_api_spec(self, api_spec: Any) -> None:
        super().add_api_spec(api_spec)
        nullable_enums(api_spec, type(self).__name__, Proposal)

    def add_apispec_components(self, api_spec: Any) -> None:
        super().add_apispec_components(api_spec)
        if "Questionnaire" not in api_spec.components.schemas:
            api_spec.components.schema("Questionnaire", QUESTIONNAIRE_SCHEMA)

    def _prepare(self, item: Proposal) -> None:
        user = current_user()
        prepare_proposal(self.datamodel.session, item, getattr(user, "id", None))

    def pre_add(self, item: Proposal) -> None:
        self._prepare(item)

    def pre_update(self, item: Proposal) -> None:
        self._prepare(item)

    @expose("/questionnaire", methods=["GET"])
    @protect()
    @safe
    def questionnaire(self) -> Response:
        """A line's needs questionnaire.
        ---
        get:
          summary: The questions of a line's needs statement
          parameters:
          - in: query
            name: line
            required: true
            schema:
              type: string
              enum: [auto, home, health, life, liability, professional, travel]
          responses:
            200:
              description: The agency's questions for the line, else the built-in ones
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/Questionnaire'}
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
            line = LineOfBusiness(request.args.get("line", ""))
        except ValueError:
            raise MalformedRequestError(_("Give a line of business.")) from None
        organisation_id = organisation_for_new_rows()
        if organisation_id is None:
            raise InvalidRequestError(_("Only an agency's people make proposals."))
        questions = questions_for(db.session, organisation_id, line)
        return self.response(200, line_of_business=line.value, questions=questions)
