"""The API's error body: ``{"message": ...}`` with the status, and nothing else."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

API_PREFIX = "/api/"


def json_error(status: int, message: str | dict[str, Any], **headers: str) -> Response:
    response = jsonify(message=message)
    response.status_code = status
    response.headers.update(headers)
    return response
