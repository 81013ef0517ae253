"""Signed download links of a document, by API (issue 6).

- ``GET /api/v1/document/<id>/link?ttl=&single_use=`` -> ``{"url", "expires_at"}``
- ``POST /api/v1/document/<id>/links/revoke`` -> every link issued so far stops working

Same resource and permissions as the documents API (``Document``: issuing reads,
revoking writes). The organisation check happens here, when a link is issued:
another agency's document answers 404. The link itself is opened by the public
route of app/views/download.py, with no login.
"""

from __future__ import annotations

import re
from typing import Any

from flask import request, url_for
from flask_appbuilder.api import expose, protect
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import parse_pk
from app.api.custom import BearerFirstApi
from app.api.doors import safe, transaction
from app.extensions import db
from app.services import links
from app.services.errors import MalformedRequestError
from app.services.links.clock import iso_utc
from app.services.scope import current_user

MAX_ID = 2**31 - 1
SECONDS = re.compile(r"^[0-9]{1,9}$")
TRUE, FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no"})


class LinkApi(BearerFirstApi):
    resource_name = "document"
    class_permission_name = permissions.DOCUMENT
    method_permission_name = {"link": permissions.READ, "revoke_links": permissions.WRITE}
    openapi_spec_tag = "Signed links"

    @expose("/<pk>/link", methods=["GET"])
    @protect()
    @safe
    def link(self, pk: str) -> Response:
        """A signed URL that downloads the document without a login, for a limited time.
        ---
        get:
          parameters:
          - in: path
            name: pk
            schema:
              type: integer
          - in: query
            name: ttl
            description: Lifetime in seconds, 1 to LINK_TTL_MAX_SECONDS (default LINK_TTL_SECONDS).
            schema:
              type: integer
          - in: query
            name: single_use
            description: The link works once (true/false, default false).
            schema:
              type: boolean
          responses:
            200:
              description: The link and when it expires (UTC).
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      url:
                        type: string
                        format: uri
                      expires_at:
                        type: string
                        format: date-time
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
            409:
              description: The document is not ready.
            503:
              description: The signing keys cannot be used (an operator's fix).
        """
        document_id = parse_pk(pk, MAX_ID)
        if document_id is None:
            return self.response_404()
        ttl, single_use = _link_arguments()
        with transaction(db.session):
            issued = links.issue_link(
                db.session, current_user(), document_id, ttl=ttl, single_use=single_use
            )
        url = url_for("download.download_link", token=issued.token, _external=True)
        return self.response(200, url=url, expires_at=iso_utc(issued.expires_at))

    @expose("/<pk>/links/revoke", methods=["POST"])
    @protect()
    @safe
    def revoke_links(self, pk: str) -> Response:
        """Revoke every link of the document issued until now (new links work again).
        ---
        post:
          parameters:
          - in: path
            name: pk
            schema:
              type: integer
          responses:
            200:
              description: Revoked; links issued up to `links_revoked_at` (UTC) answer 410.
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      message:
                        type: string
                      links_revoked_at:
                        type: string
                        format: date-time
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
        """
        document_id = parse_pk(pk, MAX_ID)
        if document_id is None:
            return self.response_404()
        with transaction(db.session):
            document = links.revoke_links(db.session, current_user(), document_id)
        return self.response(
            200,
            message=_("Every link of this document was revoked."),
            links_revoked_at=iso_utc(document.links_revoked_at),
        )


def _link_arguments() -> tuple[int | None, bool]:
    """``ttl`` and ``single_use`` from the query string (MalformedRequestError: 400)."""
    unknown = set(request.args) - {"ttl", "single_use"}
    if unknown:
        raise MalformedRequestError(_("Unknown argument: %(name)s.", name=sorted(unknown)[0]))
    ttl: Any = None
    raw_ttl = request.args.get("ttl")
    if raw_ttl is not None:
        if not SECONDS.match(raw_ttl):
            raise MalformedRequestError(_("ttl must be a whole number of seconds."))
        ttl = int(raw_ttl)  # the bounds are the service's (LinkRequestError: 400)
    raw_single = (request.args.get("single_use") or "false").lower()
    if raw_single not in TRUE | FALSE:
        raise MalformedRequestError(_("single_use must be true or false."))
    return ttl, raw_single in TRUE
