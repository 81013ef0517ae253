"""GET /lookup/<kind>?q=term&page=n: the JSON behind the remote-search selects.

Answers select2's format, ``{"results": [{"id", "text"}], "pagination": {"more"}}``,
with the rows of the user's organisation only.
"""

from __future__ import annotations

import re

from flask import abort, jsonify, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from werkzeug.wrappers import Response

from app import permissions
from app.extensions import db
from app.services.scope import visible_organisation_id
from app.views import lookup_sources

PAGE_PATTERN = re.compile(r"^[1-9][0-9]{0,4}$")


class LookupView(BaseView):
    class_permission_name = permissions.LOOKUP
    method_permission_name = permissions.SCREEN_METHODS
    route_base = "/lookup"
    default_view = "search"

    @expose("/<kind>")
    @has_access
    def search(self, kind: str) -> Response:
        if kind not in lookup_sources.SOURCES:
            abort(404)
        raw_page = request.args.get("page", "1")
        if not PAGE_PATTERN.match(raw_page):
            abort(400)
        page = lookup_sources.search(
            db.session,
            kind,
            request.args.get("q", ""),
            int(raw_page),
            visible_organisation_id(),
        )
        return jsonify(
            results=[{"id": row_id, "text": text} for row_id, text in page.results],
            pagination={"more": page.more},
        )
