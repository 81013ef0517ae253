"""FAB's ``@rison(schema)`` with the JSON-schema validator built once, not per request.

FAB checks ``?q=`` with ``jsonschema.validate(instance, schema)``, which first
validates the schema itself against the JSON-Schema meta-schema, on every
request and even when ``q`` is absent: about a fifth of a list request's time
(docs/benchmarks.md). The schemas are module constants, so their validators
are built here when the routes are defined. The answers are FAB's, word for
word: the same parsing (rison, then JSON when FAB_API_ALLOW_JSON_QS allows it)
and the same 400 messages.

``rebuild_route`` re-declares one of FAB's routes around its undecorated body
with this decorator instead of FAB's, and our ``@safe`` instead of FAB's: same
URL, same permission, same response-key merge functions, same docstring (hence
the same OpenAPI text).
"""

from __future__ import annotations

import functools
import inspect
import json
import urllib.parse
from collections.abc import Callable
from typing import Any

import jsonschema
import prison
from flask import current_app, request
from flask_appbuilder.api import expose
from flask_appbuilder.const import API_URI_RIS_KEY
from flask_appbuilder.security.decorators import permission_name, protect
from werkzeug.wrappers import Response

from app.api.doors import safe

View = Callable[..., Response]


def rison_args(schema: dict[str, Any]) -> Callable[[View], View]:
    """Parse ``q`` into ``kwargs["rison"]`` and check it with a validator built once."""
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)  # once, at import: FAB's schemas are constants
    validator = validator_class(schema)

    def decorator(view: View) -> View:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Response:
            value = request.args.get(API_URI_RIS_KEY)
            kwargs["rison"] = {}
            if value:
                try:
                    kwargs["rison"] = prison.loads(value)
                except prison.decoder.ParserException:
                    if not current_app.config.get("FAB_API_ALLOW_JSON_QS", True):
                        return self.response_400(message="Not a valid rison argument")
                    try:
                        raw = urllib.parse.parse_qs(f"{API_URI_RIS_KEY}={value}")
                        kwargs["rison"] = json.loads(raw.get(API_URI_RIS_KEY)[0])
                    except Exception:  # noqa: BLE001 (FAB answers 400 to any failure here)
                        return self.response_400(message="Not a valid rison/json argument")
            # What jsonschema.validate raises, minus its check of the schema itself.
            error = jsonschema.exceptions.best_match(validator.iter_errors(kwargs["rison"]))
            if error is not None:
                message = str(error).split("\n", 1)[0]
                return self.response_400(message=f"Not a valid rison schema {message}")
            return view(self, *args, **kwargs)

        return functools.update_wrapper(wrapper, view)

    return decorator


def rebuild_route(
    fab_route: View, schema: dict[str, Any] | None = None, url: str | None = None
) -> View:
    """FAB's route ``fab_route`` again, with our ``@safe`` (app/api/doors.py), and
    checking ``q`` with ``rison_args(schema)`` when the route reads one.

    ``url`` replaces the route's path (FAB's item route only accepts ``<int:pk>``).
    """
    body = inspect.unwrap(fab_route)  # the undecorated method, with its merge functions
    if schema is not None:
        body = rison_args(schema)(body)
    route = protect()(safe(permission_name(fab_route._permission_name)(body)))
    ((fab_url, methods),) = fab_route._urls
    route = expose(url or fab_url, methods=methods)(route)
    route.__doc__ = fab_route.__doc__
    return route
