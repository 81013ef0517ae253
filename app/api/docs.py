"""Same-origin assets of the Swagger UI page (/swagger/v1).

FAB's page starts Swagger UI from an inline script, which a Content-Security-Policy
without 'unsafe-inline' blocks. Our template (app/templates/appbuilder/swagger/
swagger.html) loads FAB's bundled swagger-ui-bundle.js and this start-up script,
both from our own origin, so the page also works offline.
"""

from __future__ import annotations

from flask import Blueprint

api_docs = Blueprint(
    "api_docs", __name__, static_folder="static", static_url_path="/static/api-docs"
)
