"""The API's error body, ``{"message": ...}`` with the status, and the one answer to a refusal.

A door refuses by raising: a service's DomainError (app/services/errors.py), a
model's ModelValidationError, a schema's marshmallow ValidationError. They pass
through the doors' ``@safe`` (app/api/doors.py) to ``answer_refusal``, registered
once on the application, which maps each to its status and message.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
from flask_appbuilder.api import BaseApi
from marshmallow import ValidationError

from app.models.base import GENERAL, ModelValidationError
from app.services.errors import DomainError

API_PREFIX = "/api/"
REFUSALS = (DomainError, ModelValidationError, ValidationError)
Message = str | dict[str, Any]


def json_error(status: int, message: Message, **headers: str) -> Response:
    response = jsonify(message=message)
    response.status_code = status
    response.headers.update(headers)
    return response


def field_errors(errors: dict[str, str]) -> dict[str, list[str]]:
    """Shape model errors like marshmallow's, so clients parse one format."""
    return {field: [message] for field, message in errors.items()}


def refusal(error: Exception) -> tuple[int, Message]:
    """The status and ``message`` answering a refusal: a sentence, or field -> messages."""
    if isinstance(error, ValidationError):
        return 422, error.messages
    if isinstance(error, ModelValidationError):
        if set(error.errors) == {GENERAL}:
            return 422, str(error.errors[GENERAL])
        return 422, field_errors(error.errors)
    if not isinstance(error, DomainError):
        raise TypeError(f"not a refusal: {error!r}")
    if error.errors and set(error.errors) != {GENERAL}:
        return error.status, field_errors(error.errors)
    return error.status, error.message


def answer_refusal(error: Exception) -> Response:
    """The error handler for REFUSALS: on the API, the JSON answer FAB's doors give."""
    if not request.path.startswith(API_PREFIX):
        # Screens catch their refusals and flash them; one that escapes is a bug.
        raise error
    status, message = refusal(error)
    # A refusal may carry more than words (the items a conversion still misses).
    details = getattr(error, "details", None) or {}
    return BaseApi.response(status, message=message, **details)


def init_refusals(app: Flask) -> None:
    for error_class in REFUSALS:
        app.register_error_handler(error_class, answer_refusal)
