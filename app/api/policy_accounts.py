"""GET /api/v1/policy/<id>/account: a contract's notices, payments, allocations and balance.

It shares the policy resource's path but is money: reading it needs ``PremiumNotice``
read (every staff role), like the notices it lists. A policy of another agency answers
404, like an unknown one.
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.api import expose, protect
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import parse_pk
from app.api.custom import CustomApi
from app.api.doors import safe
from app.api.premium_bodies import AccountSchema
from app.extensions import db
from app.services.errors import NotFoundError
from app.services.premiums import accounts, notices
from app.services.scope import visible_organisation_id

POLICY_ID_BOUND = 2**31 - 1


class PolicyAccountApi(CustomApi):
    resource_name = "policy"
    class_permission_name = permissions.PREMIUM_NOTICE
    method_permission_name = {"account": permissions.READ}
    openapi_spec_tag = "Premiums"
    openapi_spec_component_schemas = (AccountSchema,)

    @expose("/<pk>/account", methods=["GET"])
    @protect()
    @safe
    def account(self, pk: str) -> Response:
        """The contract's account.
        ---
        get:
          summary: A contract's account
          description: >-
            Its notices by due date, the payments allocated to them, the
            allocations (`counts` is false once a payment was rejected), what
            the client still owes (`balance`) and their unallocated `credit`.
            Amounts are decimal strings.
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: The account
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/AccountSchema'
            404:
              $ref: '#/components/responses/404'
        """
        policy_id = parse_pk(pk, POLICY_ID_BOUND)
        if policy_id is None:
            return self.response_404()
        session: Any = db.session
        try:
            policy = notices.scoped_policy(session, visible_organisation_id(), policy_id)
        except NotFoundError:
            return self.response_404()
        return self.response(200, **AccountSchema().dump(accounts.policy_account(session, policy)))
