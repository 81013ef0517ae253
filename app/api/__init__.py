"""REST API: hardened FAB resources, request guards and the Swagger UI assets."""

from __future__ import annotations

from flask import Flask


def init_api(app: Flask) -> None:
    """Wire the API checks and assets; call after AppBuilder is initialised."""
    from app.api.docs import api_docs
    from app.api.errors import init_refusals
    from app.api.guards import init_api_guards
    from app.api.schema_load import skip_per_load_version_lookup

    skip_per_load_version_lookup()
    init_api_guards(app)
    init_refusals(app)
    app.register_blueprint(api_docs)
