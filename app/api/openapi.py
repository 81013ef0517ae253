"""Make FAB's generated OpenAPI document say what our API really answers.

FAB writes the spec from docstrings that contradict its responses: ids are
declared strings but sent as integers, ``_info`` columns are declared an
object but sent as a list, a 422 ``message`` may be an object of field ->
messages, and every operation offers an API-key scheme that is off here.
These helpers patch the document FAB builds; tests/test_api_openapi.py checks
responses against it.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec

INTEGER = {"type": "integer"}
FIELD_MESSAGES = {
    "type": "object",
    "description": "Field name -> list of messages",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
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
SERVICE_UNAVAILABLE = {
    "description": "The database is unavailable",
    "content": {"application/json": {"schema": ERROR_BODY}},
}
# Named once here, referred to by $ref from the doors' docstrings and fixes instead
# of being repeated in each: ``#/components/schemas/Message``, ``.../responses/429``.
SHARED_SCHEMAS = {"Message": {"type": "object", "properties": {"message": {"type": "string"}}}}
SHARED_RESPONSES = {
    "429": {"description": "Too many attempts; see Retry-After"},
    "503": SERVICE_UNAVAILABLE,
}


def add_shared_components(api_spec: APISpec) -> None:
    """Register SHARED_SCHEMAS and SHARED_RESPONSES once in the document."""
    for name, schema in SHARED_SCHEMAS.items():
        if name not in api_spec.components.schemas:
            api_spec.components.schema(name, schema)
    for code, response in SHARED_RESPONSES.items():
        if code not in api_spec.components.responses:
            api_spec.components.response(code, response)


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
        for method, operation in operations.items():
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
            if method in ("post", "put", "delete"):
                responses.setdefault("503", {"$ref": "#/components/responses/503"})


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
