"""/api/v1/user/: the accounts an ADMIN (own organisation) or a SUPERADMIN (all) manages.

Thin door over app.services.users: the JSON body is type-checked here, every
rule is checked there. ``password`` is write-only: no schema dumps it, and list
and show load the rows without it. ``role`` is one of the four role names.
DELETE removes the account (the audit trail keeps its id and name); to keep an
account but stop its logins, PUT ``{"active": false}``.

List filters (``?q=(filters:!((col:role,opr:eq,value:ADMIN)))``): ``role`` and
``active`` with ``eq``; ``username``, ``first_name``, ``last_name``, ``email`` and
``organisation_id`` with FAB's operators. Choosing columns (``columns``,
``select_columns``) is refused: a user row is small and always whole.
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.exceptions import InvalidColumnArgsFABException
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.sqla.models import Role
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Query
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import OrganisationModelRestApi
from app.api.doors import json_object
from app.api.query import QueryArgumentError
from app.models import AppUser
from app.models.base import ModelValidationError
from app.services.roles import ROLE_NAMES
from app.services.scope import current_user
from app.services.users import (
    MAX_ID,
    USER_BASE_FILTERS,
    USER_FIELDS,
    create_user,
    delete_user,
    role_of,
    update_user,
)

READ_COLUMNS = [
    "id",
    "username",
    "first_name",
    "last_name",
    "email",
    "role",
    "organisation_id",
    "active",
]
WRITE_COLUMNS = list(USER_FIELDS)
# Real columns to load (role comes from the roles relation, the hash is never loaded).
LOADED_COLUMNS = ["id", "username", "first_name", "last_name", "email", "organisation_id", "active"]
OWN_FILTERS = {"role", "active"}


class UserSchema(Schema):
    """A user as the API shows it: never a password or its hash."""

    id = fields.Integer(dump_only=True)
    username = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    email = fields.String()
    role = fields.Function(role_of, metadata={"enum": list(ROLE_NAMES)})
    organisation_id = fields.Integer(allow_none=True)
    active = fields.Boolean()


class UserShowSchema(UserSchema):
    """The same fields for GET /<pk>: its own class keeps the OpenAPI components apart."""


class UserWriteSchema(Schema):
    """What POST and PUT read (documentation and ``_info``; parse_body does the reading)."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=128))
    first_name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    last_name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    email = fields.String(required=True, validate=validate.Length(max=320))
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=12, max=128)
    )
    role = fields.String(required=True, validate=validate.OneOf(ROLE_NAMES))
    organisation_id = fields.Integer(allow_none=True)
    active = fields.Boolean()


class UserEditSchema(UserWriteSchema):
    """PUT is partial: every field may be left out."""

    class Meta:
        partial = True


class FilterRoleName(BaseFilter):
    name = "Role"
    arg_name = None  # FAB keeps a global table of arg names: stay out of it

    def apply(self, query: Query, value: Any) -> Query:
        return query.filter(AppUser.roles.any(Role.name == value))


class FilterActive(BaseFilter):
    name = "Active"
    arg_name = None

    def apply(self, query: Query, value: Any) -> Query:
        # Rows written by FAB before "active" had a default hold NULL: not active.
        column = AppUser.active
        return query.filter(column.is_(True) if value else (column.is_(False) | column.is_(None)))


def parse_body(body: dict[str, Any]) -> dict[str, Any]:
    """Check the JSON types of a POST/PUT body; the service checks the values."""
    errors: dict[str, str] = {}
    for name, value in body.items():
        if name == "id":
            errors[name] = _("This field is read-only.")
        elif name not in WRITE_COLUMNS:
            errors[name] = _("Unknown field.")
        elif name == "active":
            if not isinstance(value, bool):
                errors[name] = _("Must be true or false.")
        elif name == "organisation_id":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                errors[name] = _("Must be an integer or null.")
            elif value is not None and not 1 <= value <= MAX_ID:
                errors[name] = _("Unknown organisation.")
        elif not isinstance(value, str):
            errors[name] = _("Must be text.")
    if errors:
        raise ModelValidationError(errors)
    return dict(body)


class UserApi(OrganisationModelRestApi):
    class_permission_name = permissions.USER
    method_permission_name = permissions.API_METHODS
    resource_name = "user"
    datamodel = SQLAInterface(AppUser)
    base_filters = USER_BASE_FILTERS
    list_columns = READ_COLUMNS
    show_columns = READ_COLUMNS
    add_columns = WRITE_COLUMNS
    edit_columns = WRITE_COLUMNS
    list_select_columns = LOADED_COLUMNS
    show_select_columns = LOADED_COLUMNS
    search_columns = ["username", "first_name", "last_name", "email", "organisation_id"]
    order_columns = ["id", "username", "first_name", "last_name", "email", "organisation_id"]
    base_order = ("username", "asc")
    list_model_schema = UserSchema()
    show_model_schema = UserShowSchema()
    add_model_schema = UserWriteSchema()
    edit_model_schema = UserEditSchema()

    def _init_model_schemas(self) -> None:
        # Our schemas are written by hand; FAB's column-derived hardening would
        # rebuild ``password`` as a plain (dumpable) string field.
        pass

    # --- reads ----------------------------------------------------------------
    def get_list_headless(self, **kwargs: Any) -> Response:
        args = kwargs.get("rison", {})
        filters = args.get("filters", [])
        try:
            args["_user_filters"] = [
                self._own_filter(item) for item in filters if item.get("col") in OWN_FILTERS
            ]
        except QueryArgumentError as error:
            return self.response_400(message=str(error))
        args["filters"] = [item for item in filters if item.get("col") not in OWN_FILTERS]
        return super().get_list_headless(**kwargs)

    def _handle_filters_args(self, rison_args: dict[str, Any]) -> Any:
        joined = super()._handle_filters_args(rison_args)
        for column, filter_class, value in rison_args.get("_user_filters", []):
            joined.add_filter(column, filter_class, value)
        return joined

    @staticmethod
    def _own_filter(item: dict[str, Any]) -> tuple[str, type[BaseFilter], Any]:
        column, value = item.get("col"), item.get("value")
        if item.get("opr") != "eq":
            raise QueryArgumentError(
                _(
                    "Filter operator %(opr)s is not allowed on %(col)s.",
                    opr=item.get("opr"),
                    col=column,
                )
            )
        if column == "role" and value in ROLE_NAMES:
            return "id", FilterRoleName, value
        if column == "active" and isinstance(value, bool):
            return "id", FilterActive, value
        raise QueryArgumentError(_("Invalid value for filter on %(col)s.", col=column))

    def info_headless(self, **kwargs: Any) -> Response:
        # FAB's _info binds its merge functions at import: add our two filters afterwards.
        response = super().info_headless(**kwargs)
        payload = response.get_json()
        if response.status_code != 200 or "filters" not in payload:
            return response
        for column, label in (("role", _("Role")), ("active", _("Active account"))):
            payload["filters"][column] = [{"name": label, "operator": "eq"}]
        return self.response(200, **payload)

    def _handle_columns_args(
        self,
        args: dict[str, Any],
        default_select_columns: list[str],
        default_response_columns: list[str],
    ) -> tuple[list[str], list[str]]:
        if args.get("columns") or args.get("select_columns"):
            raise InvalidColumnArgsFABException(_("Choosing columns is not supported here."))
        return default_select_columns, []

    # --- writes ---------------------------------------------------------------
    def post_headless(self) -> Response:
        body = json_object()
        with self.transaction():
            user = create_user(self.datamodel.session, current_user(), parse_body(body))
        return self.response(201, id=user.id, result=self.show_model_schema.dump(user))

    def put_headless(self, pk: Any) -> Response:
        user = self.scoped_item(pk)
        if user is None:
            return self.response_404()
        body = json_object()
        session = self.datamodel.session
        with self.transaction(), session.no_autoflush:
            update_user(session, current_user(), user, parse_body(body))
        return self.response(200, id=user.id, result=self.show_model_schema.dump(user))

    def delete_headless(self, pk: Any) -> Response:
        user = self.scoped_item(pk)
        if user is None:
            return self.response_404()
        with self.transaction():
            delete_user(self.datamodel.session, current_user(), user)
        return self.response(200, message="OK")

    # --- helpers --------------------------------------------------------------
    def integrity_message(self, error: IntegrityError) -> str | dict[str, str]:
        # Two requests racing past the duplicate check: the unique constraint decides.
        text = str(error.orig).lower()
        if "email" in text:
            return {"email": _("An account with this e-mail address already exists.")}
        if "username" in text:
            return {"username": _("This user name is already taken.")}
        if "foreign key" in text:
            return _("This account is still referenced by other records: deactivate it instead.")
        return super().integrity_message(error)
