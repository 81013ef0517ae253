"""Make FAB's generated OpenAPI document say what our API really answers.

FAB writes the spec from docstrings that contradict its responses: ids are
declared strings but sent as integers, ``_info`` columns are declared an
object but sent as a list, a 422 ``message`` may be an object of field ->
messages, and every operation offers an API-key scheme that is off here.
These helpers patch the document FAB builds; tests/test_api_openapi.py checks
responses against it, and tests/test_api_conformance.py runs Schemathesis'
conformance checks over every operation.

Some answers hold for every operation, whichever class wrote it (FAB's own
included), so ``fix_document`` adds them to the finished document: 401 and 403
wherever a permission is checked; 429 (the API's shared rate limit) and 503 (the
database away) on every route; 400 and 413 wherever a body is read (the body
guard); 400 wherever a query is read (text the database cannot store); 414
wherever the request line carries a client's values (the HTTP server's line
limit).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app, request
from flask_appbuilder.api.manager import OpenApi as FabOpenApi
from flask_appbuilder.api.manager import resolver
from sqlalchemy import inspect

INTEGER = {"type": "integer"}
# The longest request line gunicorn.conf.py lets through (gunicorn's maximum short of
# "unlimited"); tests/test_api_request_limits.py checks that both say the same.
SERVER_REQUEST_LINE_LIMIT = 8190
FIELD_MESSAGES = {
    "type": "object",
    "description": (
        "Field name -> list of messages; for a list or nested field, an object of item"
        ' index or inner field -> messages, e.g. {"policy_ids": {"2": ["..."]}}'
    ),
    "additionalProperties": {
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]
    },
}
ERROR_BODY = {
    "type": "object",
    "properties": {"message": {"oneOf": [{"type": "string"}, FIELD_MESSAGES]}},
    "required": ["message"],
}
FIELD_INFO = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "label": {"type": "string"},
        "description": {"type": "string"},
        "type": {"type": "string", "description": "The marshmallow field class"},
        "required": {"type": "boolean"},
        "unique": {"type": "boolean"},
        "validate": {"type": "array", "items": {"type": "string"}},
    },
}
FILTERS_INFO = {
    "type": "object",
    "description": "Searchable column -> the operators it accepts",
    "additionalProperties": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "operator": {"type": "string"}},
        },
    },
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": INTEGER}}
SERVICE_UNAVAILABLE = {
    "description": (
        "The database (or the file store) does not answer (app/ops/outages.py):"
        " try again after the seconds Retry-After says"
    ),
    "headers": RETRY_AFTER,
    "content": {"application/json": {"schema": ERROR_BODY}},
}
TOO_MANY_REQUESTS = {
    "description": "Over a rate limit (docs/api.md): wait the seconds Retry-After says",
    "headers": RETRY_AFTER,
    "content": {"application/json": {"schema": ERROR_BODY}},
}
PAYLOAD_TOO_LARGE = {
    "description": "The body is larger than the API takes (app/api/json_guard.py)",
    "content": {"application/json": {"schema": ERROR_BODY}},
}
URI_TOO_LONG = {
    "description": (
        "The request line (method, path and query string, as sent: percent-encoded)"
        f" is longer than {SERVER_REQUEST_LINE_LIMIT} bytes. The HTTP server answers"
        " it with an HTML page before the application sees the request."
    ),
    "content": {"text/html": {"schema": {"type": "string"}}},
}
# Named once here, referred to by $ref from the doors' docstrings and fixes instead
# of being repeated in each: ``#/components/schemas/Message``, ``.../responses/429``.
SHARED_SCHEMAS = {"Message": {"type": "object", "properties": {"message": {"type": "string"}}}}
SHARED_RESPONSES = {
    "413": PAYLOAD_TOO_LARGE,
    "414": URI_TOO_LONG,
    "429": TOO_MANY_REQUESTS,
    "503": SERVICE_UNAVAILABLE,
}
OPERATIONS = ("get", "put", "post", "delete", "patch")
# A door's answers that several of its operations give word for word: the door registers
# them with ``add_responses`` and its docstrings say ``$ref: '#/components/responses/<name>'``.
IMPORT_TOO_LARGE = {
    "description": "The file is larger than IMPORT_MAX_BYTES.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}},
}


def message_response(description: str) -> dict[str, Any]:
    """A refusal whose body is ``{"message": ...}`` (the shared Message schema)."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}},
    }


def add_responses(api_spec: APISpec, responses: Mapping[str, dict[str, Any]]) -> None:
    """Register a door's named response blocks once (several classes may share one)."""
    for name, response in responses.items():
        if name not in api_spec.components.responses:
            api_spec.components.response(name, response)


def add_shared_components(api_spec: APISpec) -> None:
    """Register SHARED_SCHEMAS and SHARED_RESPONSES once in the document."""
    for name, schema in SHARED_SCHEMAS.items():
        if name not in api_spec.components.schemas:
            api_spec.components.schema(name, schema)
    for code, response in SHARED_RESPONSES.items():
        if code not in api_spec.components.responses:
            api_spec.components.response(code, response)


def nullable_enums(api_spec: Any, api_name: str, model: type) -> None:
    """Say in the spec that an empty enum column answers null (marshmallow leaves it out)."""
    nullable = {column.key for column in inspect(model).columns if column.nullable}
    for name, schema in api_spec.components.schemas.items():
        if not name.startswith(f"{api_name}."):
            continue
        for key, prop in schema.get("properties", {}).items():
            if key in nullable and "enum" in prop:
                prop["nullable"] = True


def fix_error_responses(api_spec: APISpec) -> None:
    """400 and 422 bodies carry either a sentence or field -> messages."""
    for code in ("400", "422"):
        response = api_spec.components.responses.get(code)
        if response is not None:
            response["content"] = {"application/json": {"schema": ERROR_BODY}}


def fix_resource_paths(api_spec: APISpec, route_base: str, *, api_key_enabled: bool) -> None:
    """Correct the operations FAB generated under ``route_base``."""
    for path, operations in api_spec._paths.items():
        if not path.startswith(route_base + "/"):
            continue
        for operation in operations.values():
            if not api_key_enabled and "security" in operation:
                operation["security"] = [
                    requirement
                    for requirement in operation["security"]
                    if "api_key" not in requirement
                ]
            responses = operation.get("responses", {})
            for code in ("200", "201"):
                properties = _json_properties(responses.get(code))
                if properties is not None:
                    _fix_body_properties(properties)
            responses.setdefault("400", {"$ref": "#/components/responses/400"})
            responses.setdefault("401", {"$ref": "#/components/responses/401"})


def _json_properties(response: dict[str, Any] | None) -> dict[str, Any] | None:
    if not response or "content" not in response:
        return None
    schema = response["content"].get("application/json", {}).get("schema", {})
    return schema.get("properties")


def _fix_body_properties(properties: dict[str, Any]) -> None:
    if "id" in properties:
        properties["id"] = {**properties["id"], **INTEGER}
    if "ids" in properties:
        properties["ids"]["items"] = INTEGER
    if "count" in properties:
        properties["count"] = {**properties["count"], **INTEGER}
    for key in ("add_columns", "edit_columns"):
        if key in properties:
            properties[key] = {"type": "array", "items": FIELD_INFO}
    if "filters" in properties:
        properties["filters"] = FILTERS_INFO
    for key in ("add_title", "edit_title"):
        if "add_columns" in properties:
            properties.setdefault(key, {"type": "string"})


def fix_document(spec: dict[str, Any]) -> None:
    """What holds for every operation of the finished document (see the module's docstring)."""
    # FAB's own classes do not register SHARED_RESPONSES: they may be alone in a document.
    responses = spec.setdefault("components", {}).setdefault("responses", {})
    for code, response in SHARED_RESPONSES.items():
        responses.setdefault(code, response)
    for path, item in spec.get("paths", {}).items():
        for method in OPERATIONS:
            if method in item:
                _fix_operation(path, item, item[method])


def _fix_operation(path: str, item: dict[str, Any], operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    codes: list[str] = []
    if operation.get("security"):
        codes += ["401", "403"]
    if path.startswith("/api/"):
        codes.append("503")  # every door needs the database
        if "content" not in responses.get("429", {}):  # a bare description says too little
            responses["429"] = {"$ref": "#/components/responses/429"}
    if "requestBody" in operation:
        codes += ["400", "413"]  # the body guard: size, nesting, text (app/api/json_guard.py)
    parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
    locations = {parameter.get("in") for parameter in parameters}
    if "query" in locations:
        codes.append("400")  # text the database cannot store (app/api/guards.py)
    if locations & {"path", "query"}:
        codes.append("414")
    for code in codes:
        responses.setdefault(code, {"$ref": f"#/components/responses/{code}"})


class TruthfulSpec(APISpec):
    """The document FAB's OpenApi view builds, with ``fix_document`` applied last."""

    def to_dict(self) -> dict[str, Any]:
        document = super().to_dict()
        fix_document(document)
        return document


class OpenApi(FabOpenApi):
    """FAB's ``/api/<version>/_openapi`` (same name, so same permission), fixed as a whole."""

    @staticmethod
    def _create_api_spec(version: str) -> APISpec:
        servers = current_app.config.get("FAB_OPENAPI_SERVERS", [{"url": request.host_url}])
        return TruthfulSpec(
            title=current_app.appbuilder.app_name,
            version=version,
            openapi_version="3.0.2",
            info={"description": current_app.appbuilder.app_name},
            plugins=[MarshmallowPlugin(schema_name_resolver=resolver)],
            servers=servers,
        )
