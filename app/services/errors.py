"""Domain errors with an HTTP status and a user-facing message, mapped once per door.

Services raise them; they are never returned. The API answers ``{"message": ...}``
with the status, by one error handler (app/api/errors.py); screens flash the message.
Field errors (``errors``) use the shape of ModelValidationError: field -> message.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 422

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFoundError(DomainError):
    """The row does not exist, or lies outside the caller's organisation (same answer)."""

    status = 404


class ForbiddenError(DomainError):
    status = 403


class ConflictError(DomainError):
    status = 409


class InvalidRequestError(DomainError):
    status = 422


class MalformedRequestError(DomainError):
    """The request cannot be read at all (a body that is not a JSON object, a bad argument)."""

    status = 400


class UnavailableError(DomainError):
    """A service the request needs is away (the database, a store, the signing keys)."""

    status = 503
