"""Base REST API for organisation-owned models.

FAB's ModelRestApi answers 500 on a number of malformed inputs (design.md §6).
This class closes them once for every resource: strict ids on every ``/<pk>``
route, typed and bounded query arguments, JSON objects only, schemas that
follow the columns, model validation errors as 422 with per-field messages,
database errors without SQL text (refusals are raised and answered once,
app/api/errors.py), the organisation scope on every read and
write, and an OpenAPI description that matches the responses.

It is also faster than FAB's defaults (docs/benchmarks.md): lists count and
page on the base table when that gives the same rows (app/api/interface.py),
``q`` is checked by a JSON-schema validator built once (app/api/rison.py), and a
request that carries a Bearer token has it verified first instead of being
checked as an anonymous visitor before.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from typing import Any

from flask import current_app
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.api.schemas import get_info_schema, get_item_schema, get_list_schema
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from marshmallow.fields import Field
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from app.api import doors
from app.api.core_list import CoreList
from app.api.custom import SpecFixes
from app.api.doors import json_object
from app.api.interface import ListQueryInterface
from app.api.query import QueryArgumentError, check_filters, check_page_args
from app.api.related import ScopedRelatedValues
from app.api.rison import rebuild_route
from app.api.schemas import describe_fields, harden_schema, integer_bound
from app.models.base import GENERAL, ModelValidationError
from app.services.scope import ORGANISATION_BASE_FILTERS, organisation_for_new_rows
from app.services.validation import validate_item

# "²".isdigit() is True and int() accepts other scripts' digits: use an ASCII pattern.
PK_PATTERN = re.compile(r"^[1-9][0-9]{0,18}$")


def parse_pk(raw: Any, bound: int = 2**63 - 1) -> int | None:
    """Return the id as an int, or None when it cannot name a row."""
    text = str(raw)
    if not PK_PATTERN.match(text):
        return None
    value = int(text)
    return value if value <= bound else None


class OrganisationModelRestApi(ScopedRelatedValues, SpecFixes, ModelRestApi):
    """ModelRestApi scoped to the caller's organisation, hardened against bad input."""

    base_filters = ORGANISATION_BASE_FILTERS
    page_size = 20
    max_page_size = 100
    # Lists answered from Core statements when that gives FAB's answer (app/api/core_list.py).
    core_list_enabled = True

    # FAB's read routes, with ``q`` checked by a validator built once (app/api/rison.py).
    get_list = rebuild_route(ModelRestApi.get_list, get_list_schema)
    info = rebuild_route(ModelRestApi.info, get_info_schema)
    # FAB routes GET on "/<int:pk>" but PUT and DELETE on "/<pk>": "-1" or "²" then
    # answers an HTML 405 for GET. One pattern for all three lets parse_pk decide.
    get = rebuild_route(ModelRestApi.get, get_item_schema, url="/<pk>")
    # The writes, whose refusals (raised) reach the one handler (app/api/errors.py).
    post = rebuild_route(ModelRestApi.post)
    put = rebuild_route(ModelRestApi.put)
    delete = rebuild_route(ModelRestApi.delete)

    def __init__(self) -> None:
        # Every resource lists through ListQueryInterface; one that chose another
        # SQLAInterface subclass keeps it.
        if type(self.datamodel) is SQLAInterface:
            self.datamodel = ListQueryInterface(self.datamodel.obj, self.datamodel._session)
        super().__init__()
        self.core_list = CoreList.for_api(self) if self.core_list_enabled else None

    # --- set-up ---------------------------------------------------------------
    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        model = self.datamodel.obj
        self.add_model_schema = harden_schema(self.add_model_schema, model, loads=True)
        self.edit_model_schema = harden_schema(
            self.edit_model_schema, model, loads=True, partial=True
        )
        self.show_model_schema = harden_schema(self.show_model_schema, model, loads=False)
        self.list_model_schema = harden_schema(self.list_model_schema, model, loads=False)
        for schema in (
            self.add_model_schema,
            self.edit_model_schema,
            self.show_model_schema,
            self.list_model_schema,
        ):
            describe_fields(schema, self.description_columns)

    @property
    def page_size_cap(self) -> int:
        """Rows per page at most: API_PAGE_SIZE_MAX, else the class default (100)."""
        return int(current_app.config.get("API_PAGE_SIZE_MAX") or self.max_page_size)

    @property
    def pk_bound(self) -> int:
        return integer_bound(inspect(self.datamodel.obj).primary_key[0])

    # --- reads ----------------------------------------------------------------
    def get_headless(self, pk: Any, **kwargs: Any) -> Response:
        parsed = parse_pk(pk, self.pk_bound)
        if parsed is None:
            return self.response_404()
        return super().get_headless(parsed, **kwargs)

    def get_list_headless(self, **kwargs: Any) -> Response:
        args = kwargs.get("rison", {})
        try:
            check_page_args(args, self.page_size_cap)
            check_filters(args.get("filters", []), self._search_columns(), self._operators())
        except QueryArgumentError as error:
            return self.response_400(message=str(error))
        if self.core_list is not None:
            # Same SQL and body, from Core statements built once (app/api/core_list.py).
            answer = self.core_list.answer(args)
            if answer is not None:
                return answer
        return super().get_list_headless(**kwargs)

    def _sanitize_page_args(
        self, page: int | None, page_size: int | None
    ) -> tuple[int | None, int | None]:
        # Values were checked by check_page_args; only defaults are filled in here.
        return page or 0, page_size or self.page_size

    def _get_field_info(self, field: Field, *args: Any, **kwargs: Any) -> dict[str, Any]:
        info = super()._get_field_info(field, *args, **kwargs)
        # gettext("") returns the catalogue header: never show it as a label or description.
        sources = {"label": self.label_columns, "description": self.description_columns}
        for key, source in sources.items():
            if not source.get(field.name):
                info[key] = ""
        return info

    def _search_columns(self) -> dict[str, Any]:
        columns = {column.key: column for column in inspect(self.datamodel.obj).columns}
        return {name: columns[name] for name in self.search_columns if name in columns}

    def _operators(self) -> dict[str, set[str]]:
        return {
            name: {flt.arg_name for flt in filters}
            for name, filters in self._filters.get_search_filters().items()
        }

    # --- writes ---------------------------------------------------------------
    def post_headless(self) -> Response:
        body = json_object()
        session = self.datamodel.session
        with self.transaction():
            item = self.add_model_schema.load(body)
            item.organisation_id = organisation_for_new_rows()
            if item.organisation_id is None:
                raise ModelValidationError(
                    {GENERAL: str(_("Your account belongs to no organisation."))}
                )
            validate_item(session, item)
            self.pre_add(item)
            session.add(item)
        self.post_add(item)
        return self.response(
            201,
            result=self.add_model_schema.dump(item, many=False),
            id=self.datamodel.get_pk_value(item),
        )

    def put_headless(self, pk: Any) -> Response:
        item = self.scoped_item(pk)
        if item is None:
            return self.response_404()
        body = json_object()
        session = self.datamodel.session
        # Autoflush would write half-loaded values before validation has run.
        with self.transaction(), session.no_autoflush:
            data = self._merge_update_item(item, body)
            self.edit_model_schema.load(data, instance=item)
            validate_item(session, item)
            self.pre_update(item)
        self.post_update(item)
        return self.response(200, result=self.edit_model_schema.dump(item, many=False))

    def delete_headless(self, pk: Any) -> Response:
        item = self.scoped_item(pk)
        if item is None:
            return self.response_404()
        # Deleting can only break references (SQLite and PostgreSQL word it differently).
        with self.transaction(lambda error: _("This record is still used by other records.")):
            self.pre_delete(item)
            self.datamodel.session.delete(item)
        self.post_delete(item)
        return self.response(200, message="OK")

    def scoped_item(self, pk: Any) -> Any | None:
        """The row with this id if the caller's organisation may see it, else None."""
        parsed = parse_pk(pk, self.pk_bound)
        return self.datamodel.get(parsed, self._base_filters) if parsed else None

    def transaction(
        self, integrity_message: doors.IntegrityMessage | None = None
    ) -> AbstractContextManager[None]:
        """``doors.transaction`` on this API's session; constraints say ``integrity_message``."""
        return doors.transaction(
            self.datamodel.session,
            integrity_message or self.integrity_message,
            self.resource_name,
        )

    def integrity_message(self, error: IntegrityError) -> str | dict[str, str]:
        """Override to turn a known constraint into a field message."""
        return _("This record conflicts with an existing one.")
