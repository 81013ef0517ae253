"""What an API door uses to read its input and run one use case, refusing by raising.

A door reads linearly: ``json_object()`` for its body, ``with transaction(...)``
around the service call, then the answer. Any refusal on the way, the body's,
the schema's, the service's or the database's, is an exception that
``@safe`` lets through to the one handler of app/api/errors.py.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import request
from flask_appbuilder.api import get_error_msg
from flask_babel import gettext as _
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from app.api.errors import REFUSALS
from app.ops.outages import DATABASE_DOWN
from app.services.errors import (
    DomainError,
    InvalidRequestError,
    MalformedRequestError,
    UnavailableError,
)

log = logging.getLogger(__name__)
# @safe logs an unexpected error where FAB's own @safe does: operators' filters hold.
fab_api_log = logging.getLogger("flask_appbuilder.api")

# What the database says of a row it refuses: a sentence, or field -> message.
IntegrityMessage = Callable[[IntegrityError], "str | dict[str, str]"]


def default_integrity_message(error: IntegrityError) -> str:
    return _("This record conflicts with an existing one.")


def safe(view: Callable[..., Response]) -> Callable[..., Response]:
    """FAB's ``@safe``, except that a refusal goes on to the one handler (app/api/errors.py).

    Like FAB's: BadRequest answers 400, any other error is logged and answers 500.
    """

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Response:
        try:
            return view(self, *args, **kwargs)
        except REFUSALS:
            raise
        except BadRequest as error:
            return self.response_400(message=str(error))
        except Exception as error:  # noqa: BLE001 (FAB's contract: a JSON 500, never HTML)
            fab_api_log.exception(error)
            return self.response_500(message=get_error_msg())

    return functools.update_wrapper(wrapper, view)


def json_object() -> dict[str, Any]:
    """The request's body, a JSON object (size, nesting and text were checked: json_guard.py)."""
    if not request.is_json:
        raise MalformedRequestError(_("The request body must be JSON."))
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise MalformedRequestError(_("The request body must be a JSON object."))
    return body


@contextmanager
def transaction(
    session: Session,
    integrity_message: IntegrityMessage = default_integrity_message,
    resource: str = "",
) -> Iterator[None]:
    """Commit what the block did; on any error roll back and let the error out.

    A database that is away leaves as it is, for the 503 of app/ops/outages.py. A
    database refusal leaves as a DomainError, without SQL: a broken constraint says
    ``integrity_message``, a value the column cannot hold is out of range (both 422);
    anything else means the database is unavailable (503).
    """
    try:
        yield
        session.commit()
    except DATABASE_DOWN:
        session.rollback()
        raise  # the database is away: 503 with Retry-After (app/ops/outages.py)
    except SQLAlchemyError as error:
        session.rollback()
        raise database_refusal(error, integrity_message, resource) from error
    except BaseException:
        session.rollback()
        raise


def database_refusal(
    error: SQLAlchemyError, integrity_message: IntegrityMessage, resource: str
) -> DomainError:
    """The refusal to answer for a database error, logged for operators."""
    if isinstance(error, IntegrityError):
        log.info("integrity error on %s: %s", resource, error.orig)
        said = integrity_message(error)
        if isinstance(said, dict):
            return InvalidRequestError(next(iter(said.values()), ""), said)
        return InvalidRequestError(said)
    if isinstance(error, DataError):
        log.info("data error on %s: %s", resource, error.orig)
        return InvalidRequestError(_("A value is out of range for its field."))
    log.exception("database error on %s", resource)
    return UnavailableError(_("The database is unavailable, try again later."))
