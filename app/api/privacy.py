"""The client's RGPD rights on /api/v1/client/: its data export and its erasure.

A mixin of ClientApi (app/api/resources.py), so both live under the client's own path and
its scope: another agency's client is 404. Both need ``can_privacy`` on Client, which
MANAGER and above hold (docs/permissions.md): the agency's answer to a data subject is a
team lead's decision, and an erasure cannot be undone.
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.api import expose, protect
from werkzeug.wrappers import Response

from app.api.doors import safe
from app.extensions import db
from app.services.privacy.erase import erase_client
from app.services.privacy.export import start_data_export
from app.services.renewals.contracts import agency_today
from app.services.scope import current_user

JOB_ROUTE = "/api/v1/job"


class ClientPrivacyMixin:
    """``POST /<pk>/data-export`` and ``POST /<pk>/erase`` (see the module docstring)."""

    scoped_item: Any
    response: Any
    response_404: Any
    transaction: Any

    @expose("/<pk>/data-export", methods=["POST"])
    @protect()
    @safe
    def data_export(self, pk: str) -> Response:
        """Export everything the agency holds about a client, as one ZIP.
        ---
        post:
          summary: Start a client's data export (RGPD access)
          description: >-
            Queues a job building one ZIP: JSON of the client's rows (client, contracts,
            terms, notices, payments, mandates with their IBAN, claims, complaints,
            proposals with their answers and advice, quotes, DER and FIC, tasks, e-mails),
            its audit entries, and the bytes of its attachments and generated documents.
            Follow the job at the Location; its document is the ZIP.
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            202:
              description: Accepted; Location names the job
              headers:
                Location:
                  schema: {type: string}
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      job_id: {type: integer}
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
        """
        client = self.scoped_item(pk)
        if client is None:
            return self.response_404()
        with self.transaction():
            job = start_data_export(db.session, current_user(), client)
        response = self.response(202, job_id=job.id)
        response.headers["Location"] = f"{JOB_ROUTE}/{job.id}"
        return response

    @expose("/<pk>/erase", methods=["POST"])
    @protect()
    @safe
    def erase(self, pk: str) -> Response:
        """Anonymise a client (RGPD erasure), or say which legal holds forbid it.
        ---
        post:
          summary: Erase a client's personal data
          description: >-
            Names, contacts, address, IBANs, free text (proposals' answers, recommendation
            and reasons among it), e-mails' addresses and bodies go; attachments, the
            contracts' generated documents and the DER and FIC files are deleted; ids,
            amounts (quotes' premiums too), dates and statuses stay. 409 when already
            erased, or with the legal holds (open contract, claim not prescribed,
            accounting period not over, complaint not answered), each naming its
            contracts, claims or notices; nothing changes then.
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: Erased; what was removed
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      attachments: {type: integer}
                      documents: {type: integer}
                      messages: {type: integer}
                      audit_entries: {type: integer}
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              description: >-
                Already erased (message is text), or legal holds (message maps each hold
                kind to a list of one text naming its contracts, claims or notices)
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      message:
                        oneOf:
                        - {type: string}
                        - {type: object, additionalProperties: {type: array, items: {type: string}}}
        """
        client = self.scoped_item(pk)
        if client is None:
            return self.response_404()
        session = db.session
        with self.transaction():
            counts = erase_client(
                session, client, today=agency_today(session, client.organisation_id)
            )
        return self.response(200, id=client.id, **counts)
