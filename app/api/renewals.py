"""/api/v1/renewal/: renewal cycles — list, read, propose, renew, send the avis d'échéance.

A thin door over app/services/renewals/. A cycle follows one échéance of one contract;
cycles are opened by the contracts' own changes and the daily task, never posted or
deleted here.

- Lists and reads see the caller's organisation only (SUPERADMIN: all); another id
  answers 404, in a batch too. ``q`` filters as on every resource, plus ``company_id``,
  ``line_of_business`` (the contract's) and ``avis_sent`` (true/false).
- PUT sets ``proposed_premium``, ``decision`` and ``decision_reason`` (cycles.propose):
  a premium of 0 or less, or "renew" on a contract that cannot be, answers 422 and
  changes nothing; a cycle no longer open answers 409.
- ``POST /<id>/renew`` adds the contract's next term, same number: 201 with the term,
  200 with the same term when the cycle was renewed already; a cancelled or non-tacit
  contract, or a decision against renewing, answers 4xx with the reason.
- ``POST /<id>/notice`` generates the avis d'échéance and records it sent
  (notices.send_avis): 202 with the document to follow, like document generation.
- ``POST /renew-batch`` renews many cycles in the request, in one transaction (all or
  none; at most RENEW_BATCH_MAX): renewing is a few rows per contract, quicker than a
  job to follow. ``POST /notice-batch`` makes the avis as one job with progress.

Permissions (app/services/roles.py): ``Renewal.can_read`` and ``can_write`` for every
role, as on policies; the batches need ``Renewal.can_batch``, MANAGER and above, who
approve bulk sends.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from flask import request
from flask_appbuilder.api import expose, protect
from flask_appbuilder.models.filters import Filters
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext
from sqlalchemy import Column
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import OrganisationModelRestApi, parse_pk
from app.api.doors import json_object, safe
from app.api.renewal_schemas import (
    EXTRA_FILTERS,
    NoticeAcceptedSchema,
    NoticeBatchAcceptedSchema,
    NoticeBatchSchema,
    NoticeSchema,
    RenewalEditSchema,
    RenewBatchSchema,
    RenewedBatchSchema,
    RenewedSchema,
    describe_renewed,
)
from app.models import NoticeChannel, RenewalCycle, RenewalDecision
from app.services.renewals import notices, renewing
from app.services.renewals.cycles import propose
from app.services.scope import current_user

JOB_ROUTE = "/api/v1/job"
DOCUMENT_ROUTE = "/api/v1/document"
CYCLE_COLUMNS = [
    "id",
    "policy_id",
    "policy.number",
    "policy.company_id",
    "policy.client_id",
    "policy.line_of_business",
    "echeance",
    "last_day_to_refuse",
    "avis_sent_on",
    "avis_channel",
    "avis_document_id",
    "chatel_window_end",
    "previous_premium",
    "proposed_premium",
    "change_percent",
    "decision",
    "decision_reason",
    "status",
    "term_id",
]
CONFLICT = {
    "description": "The renewal is no longer open (renewed or closed)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}},
}


class RenewalApi(OrganisationModelRestApi):
    class_permission_name = permissions.RENEWAL
    method_permission_name = {
        **permissions.API_METHODS,
        "renew": permissions.WRITE,
        "notice": permissions.WRITE,
        "renew_batch": permissions.BATCH,
        "notice_batch": permissions.BATCH,
    }
    resource_name = "renewal"
    openapi_spec_tag = "Renewals"
    datamodel = SQLAInterface(RenewalCycle)
    # Cycles are opened by their contracts, never posted or deleted.
    include_route_methods = {
        "get",
        "get_list",
        "info",
        "put",
        "renew",
        "notice",
        "renew_batch",
        "notice_batch",
    }
    list_columns = CYCLE_COLUMNS
    show_columns = [*CYCLE_COLUMNS, "created_at", "updated_at"]
    edit_columns = list(RenewalEditSchema._declared_fields)
    edit_model_schema = RenewalEditSchema()
    search_columns = [
        "policy_id",
        "echeance",
        "last_day_to_refuse",
        "status",
        "decision",
        "avis_sent_on",
        "avis_channel",
        "chatel_window_end",
        "previous_premium",
        "proposed_premium",
        "change_percent",
    ]
    order_columns = [
        "id",
        "echeance",
        "last_day_to_refuse",
        "avis_sent_on",
        "change_percent",
        "proposed_premium",
        "status",
    ]
    base_order = ("echeance", "asc")
    description_columns = {
        "echeance": lazy_gettext("The échéance this renewal is for: the current term's end."),
        "last_day_to_refuse": lazy_gettext(
            "The last day the client may refuse the renewal (L113-12 notice period)."
        ),
        "chatel_window_end": lazy_gettext(
            "Set when the avis was sent late: the client may refuse until this day (L113-15-1)."
        ),
        "change_percent": lazy_gettext("The proposed premium's change, in percent."),
    }
    openapi_spec_component_schemas = (
        NoticeSchema,
        NoticeBatchSchema,
        RenewBatchSchema,
        RenewedSchema,
        RenewedBatchSchema,
        NoticeAcceptedSchema,
        NoticeBatchAcceptedSchema,
    )

    def __init__(self) -> None:
        super().__init__()
        # The filters that are not the cycle's own columns (app/api/renewal_schemas.py).
        self.search_columns = [*self.search_columns, *EXTRA_FILTERS]
        search = self._filters.get_search_filters()
        for name, (_column, classes) in EXTRA_FILTERS.items():
            search[name] = [flt(name, self.datamodel) for flt in classes]

    def _search_columns(self) -> dict[str, Column]:
        extra = {name: column for name, (column, _classes) in EXTRA_FILTERS.items()}
        return {**super()._search_columns(), **extra}

    def _handle_filters_args(self, rison_args: dict[str, Any]) -> Filters:
        self._filters.clear_filters()
        plain = []
        for item in rison_args.get("filters", []):
            if item.get("col") not in EXTRA_FILTERS:
                plain.append(item)
                continue
            _column, classes = EXTRA_FILTERS[item["col"]]
            (chosen,) = [flt for flt in classes if flt.arg_name == item.get("opr")]
            self._filters.add_filter(item["col"], chosen, item["value"])
        self._filters.rest_add_filters(plain)
        return self._filters.get_joined_filters(self._base_filters)

    def add_api_spec(self, api_spec: APISpec) -> None:
        super().add_api_spec(api_spec)
        # PUT answers the renewal as GET shows it, and may find it no longer open.
        operation = api_spec._paths[f"{self.route_base}/{{pk}}"]["put"]
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        shown = {"$ref": f"#/components/schemas/{self.show_model_schema_name}"}
        schema["properties"]["result"] = shown
        operation["responses"].setdefault("409", CONFLICT)

    def _session(self) -> Any:
        return self.datamodel.session

    def _shown(self, cycle: RenewalCycle) -> dict[str, Any]:
        return self.show_model_schema.dump(cycle)

    # --- propose ------------------------------------------------------------------------
    def put_headless(self, pk: Any) -> Response:
        cycle = self.scoped_item(pk)
        if cycle is None:
            return self.response_404()
        body = json_object()
        with self.transaction():
            data = self.edit_model_schema.load(body)
            decision = data.get("decision")
            propose(
                cycle,
                proposed_premium=data.get("proposed_premium"),
                decision=RenewalDecision(decision) if decision else None,
                # Left out: unchanged; empty or null: cleared.
                reason=(data["decision_reason"] or "") if "decision_reason" in data else None,
            )
        return self.response(200, id=cycle.id, result=self._shown(cycle))

    # --- renew --------------------------------------------------------------------------
    @expose("/<pk>/renew", methods=["POST"])
    @protect()
    @safe
    def renew(self, pk: str) -> Response:
        """Renew the contract at this échéance: its next term, same contract number.
        ---
        post:
          summary: Renew one contract
          description: >-
            Adds the next one-year term at the proposed premium (else the current one)
            and moves the contract's échéance. Renewing a renewal again answers 200
            with the same term.
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: Renewed before; the term it made
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/RenewedSchema'}
            201:
              description: Renewed; the new term
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/RenewedSchema'}
            404:
              $ref: '#/components/responses/404'
            409:
              description: >-
                Closed, decided against renewing, or the contract's échéance moved
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/Message'}
            422:
              $ref: '#/components/responses/422'
        """
        parsed = parse_pk(pk, self.pk_bound)
        if parsed is None:
            return self.response_404()
        with self.transaction():
            renewed = renewing.renew_visible(self._session(), current_user(), parsed)
        answer = RenewedSchema().dump(describe_renewed(renewed))
        return self.response(201 if renewed.created else 200, **answer)

    @expose("/renew-batch", methods=["POST"])
    @protect()
    @safe
    def renew_batch(self) -> Response:
        """Renew many contracts at once, all or none.
        ---
        post:
          summary: Renew many contracts
          description: >-
            Renews every renewal named, in one transaction: one refusal (naming its
            renewal) or one id outside your agency (404) renews none. MANAGER and above.
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/RenewBatchSchema'}
          responses:
            200:
              description: The terms, in the order of the ids
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/RenewedBatchSchema'}
            404:
              $ref: '#/components/responses/404'
            409:
              description: A renewal is closed or decided against renewing
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/Message'}
            422:
              $ref: '#/components/responses/422'
        """
        body = json_object()
        with self.transaction():
            data = RenewBatchSchema().load(body)
            done = renewing.renew_visible_batch(self._session(), current_user(), data["ids"])
            # Described before the commit expires them: no reload per term.
            result = RenewedSchema(many=True).dump([describe_renewed(one) for one in done])
        return self.response(200, count=len(result), result=result)

    # --- the avis d'échéance ------------------------------------------------------------
    @expose("/<pk>/notice", methods=["POST"])
    @protect()
    @safe
    def notice(self, pk: str) -> Response:
        """Generate the avis d'échéance and record it sent.
        ---
        post:
          summary: Send the avis d'échéance
          description: >-
            Records the avis sent on `sent_on` (default today; after the last day to
            refuse, the Chatel window opens) and queues its document: 202 at once, follow
            the document at the Location given.
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            content:
              application/json:
                schema: {$ref: '#/components/schemas/NoticeSchema'}
          responses:
            202:
              description: Recorded; Location names the document
              headers:
                Location:
                  schema: {type: string}
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/NoticeAcceptedSchema'}
            404:
              $ref: '#/components/responses/404'
            409:
              description: The renewal is closed
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/Message'}
            422:
              $ref: '#/components/responses/422'
        """
        parsed = parse_pk(pk, self.pk_bound)
        if parsed is None:
            return self.response_404()
        data = NoticeSchema().load(json_object() if self._has_body() else {})
        with self.transaction():
            cycle, document = notices.send_avis(
                self._session(), current_user(), parsed, **self._notice_args(data)
            )
        response = self.response(
            202,
            id=cycle.id,
            avis_sent_on=cycle.avis_sent_on.isoformat(),
            chatel_window_end=cycle.chatel_window_end.isoformat()
            if cycle.chatel_window_end
            else None,
            document_id=document.id,
            document_status=document.status.value,
        )
        response.headers["Location"] = f"{DOCUMENT_ROUTE}/{document.id}"
        return response

    @expose("/notice-batch", methods=["POST"])
    @protect()
    @safe
    def notice_batch(self) -> Response:
        """Generate the avis of many renewals as one job, and record them sent.
        ---
        post:
          summary: Send many avis d'échéance
          description: >-
            One job makes one avis per renewal; follow it at the Location given
            (GET /api/v1/job/<id>). One refusal or one id outside your agency (404)
            records none. MANAGER and above.
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/NoticeBatchSchema'}
          responses:
            202:
              description: Accepted; Location names the job
              headers:
                Location:
                  schema: {type: string}
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/NoticeBatchAcceptedSchema'}
            404:
              $ref: '#/components/responses/404'
            409:
              description: A renewal is closed
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/Message'}
            422:
              $ref: '#/components/responses/422'
        """
        data = NoticeBatchSchema().load(json_object())
        ids = data.pop("ids")
        with self.transaction():
            job = notices.send_avis_batch(
                self._session(), current_user(), ids, **self._notice_args(data)
            )
        response = self.response(
            202, job_id=job.id, status=job.status.value, total=job.progress_total
        )
        response.headers["Location"] = f"{JOB_ROUTE}/{job.id}"
        return response

    @staticmethod
    def _notice_args(data: dict[str, Any]) -> dict[str, Any]:
        args: dict[str, Any] = {"sent_on": data.get("sent_on")}
        if data.get("channel"):
            args["channel"] = NoticeChannel(data["channel"])
        return args

    @staticmethod
    def _has_body() -> bool:
        return bool(request.get_data(cache=True))
