"""/api/v1/premium_notice/: premium notices (quittances) — read, ask, cancel, formal notice.

A thin door over app/services/premiums. Reading lists and filters the agency's notices
(status, due date range, policy, unpaid stage, collection). Writing is MANAGER's:
``POST /`` issues a one-off, adjustment or refund notice, ``POST /issue`` issues the
instalments falling due (the daily run's own work, on demand), ``POST /<id>/cancel``
cancels one nothing was paid on, ``POST /<id>/formal-notice`` records the mise en demeure
sent (L113-3), which fixes the suspension and cancellation dates. Another agency's id
answers 404, like an unknown one.
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.api import expose, protect
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import OrganisationModelRestApi
from app.api.doors import json_object, safe
from app.api.premium_bodies import (
    FormalNoticeSchema,
    IssuedSchema,
    IssueSchema,
    NoticeCreateSchema,
)
from app.models import PremiumNotice
from app.services.errors import InvalidRequestError
from app.services.premiums import issuing, notices, procedure
from app.services.renewals.contracts import agency_today
from app.services.scope import visible_organisation_id

NOTICE_COLUMNS = [
    "id",
    "number",
    "policy_id",
    "policy.number",
    "term_id",
    "kind",
    "instalment",
    "period_start",
    "period_end",
    "due_on",
    "pay_by",
    "amount_before_tax",
    "taxes",
    "fees",
    "total",
    "currency",
    "collection",
    "status",
    "paid_amount",
    "stage",
    "issued_on",
]
PROCEDURE_COLUMNS = [
    "reminded_on",
    "relanced_on",
    "formal_notice_sent_on",
    "registered_letter_number",
    "formal_notice_document_id",
    "suspension_on",
    "cancellable_on",
    "restored_at",
    "cancelled_on",
]
# The longest horizon ``POST /issue`` accepts: a year of instalments ahead.
ISSUE_HORIZON_DAYS = 366


class PremiumNoticeApi(OrganisationModelRestApi):
    class_permission_name = permissions.PREMIUM_NOTICE
    method_permission_name = {
        **permissions.API_METHODS,
        "create": permissions.WRITE,
        "issue": permissions.WRITE,
        "cancel": permissions.WRITE,
        "formal_notice": permissions.WRITE,
    }
    resource_name = "premium_notice"
    openapi_spec_tag = "Premiums"
    datamodel = SQLAInterface(PremiumNotice)
    # Notices are written by their use cases only: no FAB post, put or delete.
    include_route_methods = {
        "get",
        "get_list",
        "info",
        "create",
        "issue",
        "cancel",
        "formal_notice",
    }
    list_columns = NOTICE_COLUMNS
    show_columns = [*NOTICE_COLUMNS, *PROCEDURE_COLUMNS, "created_at", "updated_at"]
    search_columns = [
        "number",
        "policy_id",
        "term_id",
        "kind",
        "status",
        "stage",
        "collection",
        "due_on",
        "issued_on",
        "total",
        "suspension_on",
        "cancellable_on",
    ]
    order_columns = ["id", "number", "due_on", "total", "status", "stage", "issued_on"]
    base_order = ("due_on", "desc")
    description_columns = {
        "total": lazy_gettext(
            'Taxes and fees included, a decimal string ("35.04"); below 0 for a refund.'
        ),
        "paid_amount": lazy_gettext("The sum of the allocations of payments not rejected."),
        "stage": lazy_gettext(
            "Where the notice stands in the unpaid-premium procedure (L113-3), moved daily."
        ),
        "suspension_on": lazy_gettext("Cover suspended from this day: formal notice + 30 days."),
        "cancellable_on": lazy_gettext("The insurer may cancel from this day: suspension + 10."),
    }
    openapi_spec_component_schemas = (
        NoticeCreateSchema,
        IssueSchema,
        IssuedSchema,
        FormalNoticeSchema,
    )

    def _session(self) -> Any:
        return self.datamodel.session

    def _notice(self, pk: str) -> PremiumNotice | None:
        return self.scoped_item(pk)

    def _answer(self, notice: PremiumNotice, status: int = 200) -> Response:
        return self.response(status, id=notice.id, result=self.show_model_schema.dump(notice))

    @expose("/", methods=["POST"])
    @protect()
    @safe
    def create(self) -> Response:
        """Issue a one-off, adjustment or refund notice on a contract.
        ---
        post:
          summary: Issue a notice by hand
          description: >-
            `amount` is taxes included and above 0 (a refund's too: it is stored
            with a negative total). The period defaults to the term covering
            `due_on`. Instalments are issued by `POST /issue` and the daily run.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/NoticeCreateSchema'
          responses:
            201:
              description: The notice
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result:
                        $ref: '#/components/schemas/PremiumNoticeApi.get'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        body = json_object()
        with self.transaction():
            data = NoticeCreateSchema().load(body)
            policy = notices.scoped_policy(
                self._session(), visible_organisation_id(), data.pop("policy_id")
            )
            today = agency_today(self._session(), policy.organisation_id)
            notice = notices.create_notice(self._session(), policy, today=today, **data)
        return self._answer(notice, 201)

    @expose("/issue", methods=["POST"])
    @protect()
    @safe
    def issue(self) -> Response:
        """Issue the instalments falling due by a date (what the daily run does).
        ---
        post:
          summary: Issue the instalments due
          description: >-
            Every live contract's instalments due by `until` and not issued yet
            (those due more than 60 days ago aside); with `policy_id`, every
            instalment of that contract due by then. Idempotent: a second call
            issues nothing.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/IssueSchema'
          responses:
            200:
              description: How many were issued
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/IssuedSchema'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        body = json_object()
        session = self._session()
        with self.transaction():
            data = IssueSchema().load(body)
            scope = visible_organisation_id()
            policy_id = data.get("policy_id")
            if policy_id is not None:
                scope = notices.scoped_policy(session, scope, policy_id).organisation_id
            until = data["until"]
            today = agency_today(session, scope)
            if (until - today).days > ISSUE_HORIZON_DAYS:
                raise InvalidRequestError(
                    _("Issue at most a year ahead."),
                    {"until": _("Enter a date within a year from today.")},
                )
            issued = issuing.issue_due(
                session, until=until, organisation_id=scope, policy_id=policy_id
            )
            # A notice issued past its due date is unpaid at once, not at the next daily run.
            procedure.move_stages(session, organisation_id=scope)
        return self.response(200, issued=sum(issued.values()))

    @expose("/<pk>/cancel", methods=["POST"])
    @protect()
    @safe
    def cancel(self, pk: str) -> Response:
        """Cancel a notice nothing has been paid on.
        ---
        post:
          summary: Cancel a notice
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: The cancelled notice
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result:
                        $ref: '#/components/schemas/PremiumNoticeApi.get'
            404:
              $ref: '#/components/responses/404'
            409:
              description: Already cancelled, or payments are allocated to it
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Message'
        """
        notice = self._notice(pk)
        if notice is None:
            return self.response_404()
        with self.transaction():
            today = agency_today(self._session(), notice.organisation_id)
            procedure.cancel_notice(self._session(), notice, today)
        return self._answer(notice)

    @expose("/<pk>/formal-notice", methods=["POST"])
    @protect()
    @safe
    def formal_notice(self, pk: str) -> Response:
        """Record the mise en demeure sent: it fixes the suspension and cancellation dates.
        ---
        post:
          summary: Record the formal notice sent (L113-3)
          description: >-
            Possible from the 11th day after the due date; the cover is suspended
            30 days after sending (`suspension_on`) and the insurer may cancel 10
            days later (`cancellable_on`). Before it is possible, 422 names the
            rule's reason under `sent_on` (e.g. `before_payment_grace_ends`).
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/FormalNoticeSchema'
          responses:
            200:
              description: The notice with its dates
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result:
                        $ref: '#/components/schemas/PremiumNoticeApi.get'
            404:
              $ref: '#/components/responses/404'
            409:
              description: The notice is not unpaid, or a formal notice was already sent
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Message'
            422:
              $ref: '#/components/responses/422'
        """
        notice = self._notice(pk)
        if notice is None:
            return self.response_404()
        body = json_object()
        with self.transaction():
            data = FormalNoticeSchema().load(body)
            today = agency_today(self._session(), notice.organisation_id)
            procedure.record_formal_notice(self._session(), notice, today=today, **data)
        return self._answer(notice)
