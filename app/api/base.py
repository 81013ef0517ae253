"""Base REST API for organisation-owned models.

FAB's ModelRestApi answers 500 on a number of malformed inputs (design.md §6).
This class closes them once for every resource: strict ids, JSON objects only,
model validation errors as 422 with per-field messages, database errors without
SQL text, and the organisation scope on every read and write.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import request
from flask_appbuilder.api import ModelRestApi
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from app.models.base import ModelValidationError
from app.services.scope import ORGANISATION_BASE_FILTERS, organisation_for_new_rows
from app.services.validation import validate_item

log = logging.getLogger(__name__)

# Ids are positive 63-bit integers; "²".isdigit() is True, so use an ASCII pattern.
PK_PATTERN = re.compile(r"^[1-9][0-9]{0,18}$")
MAX_PK = 2**63 - 1
MAX_PAGE = 1_000_000


def parse_pk(raw: Any) -> int | None:
    """Return the id as an int, or None when it cannot name a row."""
    text = str(raw)
    if not PK_PATTERN.match(text):
        return None
    value = int(text)
    return value if value <= MAX_PK else None


def field_errors(errors: dict[str, str]) -> dict[str, list[str]]:
    """Shape model errors like marshmallow's, so clients parse one format."""
    return {field: [message] for field, message in errors.items()}


class OrganisationModelRestApi(ModelRestApi):
    """ModelRestApi scoped to the caller's organisation, hardened against bad input."""

    base_filters = ORGANISATION_BASE_FILTERS
    allow_browser_login = True
    page_size = 20
    max_page_size = 100

    # --- reads ---------------------------------------------------------------
    def get_headless(self, pk: Any, **kwargs: Any) -> Response:
        parsed = parse_pk(pk)
        if parsed is None:
            return self.response_404()
        return super().get_headless(parsed, **kwargs)

    def _sanitize_page_args(
        self, page: int | None, page_size: int | None
    ) -> tuple[int | None, int | None]:
        for name, value in (("page", page), ("page_size", page_size)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise BadRequest(_("%(name)s must be an integer.", name=name))
        if page is not None and not 0 <= page <= MAX_PAGE:
            raise BadRequest(_("page must be between 0 and %(max)d.", max=MAX_PAGE))
        limit = self.max_page_size
        if page_size is not None and not 1 <= page_size <= limit:
            raise BadRequest(_("page_size must be between 1 and %(max)d.", max=limit))
        return page or 0, page_size or self.page_size

    # --- writes --------------------------------------------------------------
    def post_headless(self) -> Response:
        body = self._json_object()
        if isinstance(body, Response):
            return body
        try:
            item = self.add_model_schema.load(body)
            item.organisation_id = organisation_for_new_rows()
            if item.organisation_id is None:
                return self.response_422(message=_("Your account belongs to no organisation."))
            validate_item(self.datamodel.session, item)
            self.pre_add(item)
            self.datamodel.session.add(item)
            self.datamodel.session.commit()
        except ValidationError as error:
            self.datamodel.session.rollback()
            return self.response_422(message=error.messages)
        except ModelValidationError as error:
            self.datamodel.session.rollback()
            return self.response_422(message=field_errors(error.errors))
        except SQLAlchemyError as error:
            return self._database_error(error)
        self.post_add(item)
        return self.response(
            201,
            result=self.add_model_schema.dump(item, many=False),
            id=self.datamodel.get_pk_value(item),
        )

    def put_headless(self, pk: Any) -> Response:
        parsed = parse_pk(pk)
        item = self.datamodel.get(parsed, self._base_filters) if parsed else None
        if item is None:
            return self.response_404()
        body = self._json_object()
        if isinstance(body, Response):
            return body
        session = self.datamodel.session
        try:
            # Autoflush would write half-loaded values before validation has run.
            with session.no_autoflush:
                data = self._merge_update_item(item, body)
                item = self.edit_model_schema.load(data, instance=item)
                validate_item(session, item)
                self.pre_update(item)
            session.commit()
        except ValidationError as error:
            session.rollback()
            return self.response_422(message=error.messages)
        except ModelValidationError as error:
            session.rollback()
            return self.response_422(message=field_errors(error.errors))
        except SQLAlchemyError as error:
            return self._database_error(error)
        self.post_update(item)
        return self.response(200, result=self.edit_model_schema.dump(item, many=False))

    def delete_headless(self, pk: Any) -> Response:
        parsed = parse_pk(pk)
        item = self.datamodel.get(parsed, self._base_filters) if parsed else None
        if item is None:
            return self.response_404()
        session = self.datamodel.session
        try:
            self.pre_delete(item)
            session.delete(item)
            session.commit()
        except SQLAlchemyError as error:
            return self._database_error(error)
        self.post_delete(item)
        return self.response(200, message="OK")

    # --- helpers -------------------------------------------------------------
    def _json_object(self) -> dict[str, Any] | Response:
        if not request.is_json:
            return self.response_400(message=_("The request body must be JSON."))
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self.response_400(message=_("The request body must be a JSON object."))
        return body

    def _database_error(self, error: SQLAlchemyError) -> Response:
        """Answer a database refusal without leaking SQL, and log it for operators."""
        self.datamodel.session.rollback()
        if isinstance(error, IntegrityError):
            log.info("integrity error on %s: %s", self.resource_name, error.orig)
            return self.response_422(message=self.integrity_message(error))
        if isinstance(error, DataError):
            log.info("data error on %s: %s", self.resource_name, error.orig)
            return self.response_422(message=_("A value is out of range for its field."))
        log.exception("database error on %s", self.resource_name)
        return self.response(503, message=_("The database is unavailable, try again later."))

    def integrity_message(self, error: IntegrityError) -> str | dict[str, list[str]]:
        """Override to turn a known constraint into a field message."""
        if "foreign key" in str(error.orig).lower():
            return _("This record is still referenced by other records.")
        return _("This record conflicts with an existing one.")
