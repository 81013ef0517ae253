"""/api/v1/template/: document templates, their versions, previews and diffs.

A thin door over app.services.templates: each route parses its input, calls one
service function in one transaction and answers the result; refusals are raised
and answered once (app/api/errors.py).

- Lists and reads show the caller's organisation's templates and the shared ones
  (SUPERADMIN: all); any other id answers 404.
- Writing needs ``Template.can_write`` (MANAGER and above); a shared template is
  written by SUPERADMIN only (403), and only SUPERADMIN creates one
  (``"shared": true``).
- PUT changes ``name``, ``description``, ``locale``; ``kind`` only while the
  template has no version; ``output_format`` never (app/services/templates/changes.py).
- DELETE removes the template and its versions, and answers 422 once a document
  was made from it.
- ``POST /<id>/versions`` saves the next version after a syntax check (422 naming
  the line), ``POST /<id>/publish`` publishes one, ``POST /<id>/preview`` renders
  one (read permission: it changes nothing), ``GET /<id>/diff?a=&b=`` compares two.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from flask_appbuilder.exceptions import InvalidColumnArgsFABException
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from sqlalchemy import false
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Query, Session
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import OrganisationModelRestApi, parse_pk
from app.api.doors import json_object
from app.api.template_schemas import (
    MAX_NUMBER,
    TEMPLATE_COLUMNS,
    TemplateCreateSchema,
    TemplateDiffSchema,
    TemplateEditSchema,
    TemplatePreviewSchema,
    TemplatePublishedSchema,
    TemplatePublishSchema,
    TemplateSchema,
    TemplateShowSchema,
    TemplateVersionBodySchema,
    TemplateVersionCreateSchema,
    TemplateVersionListSchema,
    TemplateVersionSchema,
)
from app.api.template_versions import TemplateVersionRoutes
from app.models import Template
from app.services import templates as service
from app.services.scope import current_user
from app.services.templates.changes import delete_template, update_template


class FilterVisibleTemplates(BaseFilter):
    """The templates the service lets the caller read: own organisation and shared ones."""

    name = "Visible templates"
    arg_name = None  # FAB keeps a global table of arg names: stay out of it

    def apply(self, query: Query, value: Any) -> Query:
        user = current_user()
        if user is None:
            return query.filter(false())
        visible = service.templates_query(self.datamodel.session, user)
        return query.filter(Template.id.in_(visible.with_entities(Template.id).scalar_subquery()))


class TemplateApi(TemplateVersionRoutes, OrganisationModelRestApi):
    class_permission_name = permissions.TEMPLATE
    method_permission_name = {
        **permissions.API_METHODS,
        "list_versions": permissions.READ,
        "get_version": permissions.READ,
        "add_version": permissions.WRITE,
        "publish": permissions.WRITE,
        "preview": permissions.READ,
        "diff": permissions.READ,
    }
    resource_name = "template"
    openapi_spec_tag = "Templates"
    datamodel = SQLAInterface(Template)
    base_filters = [["id", FilterVisibleTemplates, None]]
    list_columns = TEMPLATE_COLUMNS
    show_columns = [*TEMPLATE_COLUMNS, "versions"]
    add_columns = list(TemplateCreateSchema._declared_fields)
    edit_columns = list(TemplateEditSchema._declared_fields)
    # Real columns to load, and the published version joined in the same query.
    list_select_columns = [
        *(name for name in TEMPLATE_COLUMNS if name not in ("shared", "published_version")),
        "published_version.number",
    ]
    show_select_columns = list_select_columns
    search_columns = ["name", "kind", "output_format", "locale", "organisation_id"]
    order_columns = ["id", "name", "kind", "output_format", "created_at", "updated_at"]
    base_order = ("name", "asc")
    list_model_schema = TemplateSchema()
    show_model_schema = TemplateShowSchema()
    add_model_schema = TemplateCreateSchema()
    edit_model_schema = TemplateEditSchema()
    openapi_spec_component_schemas = (
        TemplateVersionSchema,
        TemplateVersionBodySchema,
        TemplateVersionListSchema,
        TemplateVersionCreateSchema,
        TemplatePublishSchema,
        TemplatePublishedSchema,
        TemplatePreviewSchema,
        TemplateDiffSchema,
    )

    def add_api_spec(self, api_spec: APISpec) -> None:
        super().add_api_spec(api_spec)
        # POST and PUT answer the template as GET shows it (with its versions),
        # not the body they read: say so, or clients validating answers would fail.
        shown = {"$ref": f"#/components/schemas/{self.show_model_schema_name}"}
        for path, method, code in (("/", "post", "201"), ("/{pk}", "put", "200")):
            operation = api_spec._paths[f"{self.route_base}{path}"][method]
            properties = operation["responses"][code]["content"]["application/json"]["schema"]
            properties["properties"]["result"] = shown
        # Shared templates are written by SUPERADMIN only: others get 403 with a reason.
        for path, method in (("/", "post"), ("/{pk}", "put"), ("/{pk}", "delete")):
            responses = api_spec._paths[f"{self.route_base}{path}"][method]["responses"]
            responses.setdefault("403", {"$ref": "#/components/responses/403"})

    def _init_model_schemas(self) -> None:
        # The schemas are written here; FAB's column-derived ones would not know
        # ``shared``, ``published_version`` or ``versions``.
        pass

    def _session(self) -> Session:
        return self.datamodel.session

    def _handle_columns_args(
        self,
        args: dict[str, Any],
        default_select_columns: list[str],
        default_response_columns: list[str],
    ) -> tuple[list[str], list[str]]:
        if args.get("columns") or args.get("select_columns"):
            raise InvalidColumnArgsFABException(_("Choosing columns is not supported here."))
        return default_select_columns, []

    def _template(self, pk: Any) -> Template | None:
        """The template with this id if the caller may read it (strict id), else None."""
        parsed = parse_pk(pk, MAX_NUMBER)
        if parsed is None:
            return None
        return service.visible_template(self._session(), current_user(), parsed)

    # --- create, change, delete -------------------------------------------------
    def post_headless(self) -> Response:
        body = json_object()
        with self.transaction():
            data = self.add_model_schema.load(body)
            template = service.create_template(self._session(), current_user(), **data)
        return self.response(201, id=template.id, result=self._shown(template))

    def put_headless(self, pk: Any) -> Response:
        template = self.scoped_item(pk)
        if template is None:
            return self.response_404()
        body = json_object()
        session = self._session()
        with self.transaction(), session.no_autoflush:
            data = self.edit_model_schema.load(body)
            changed = update_template(session, current_user(), template, data)
        return self.response(200, id=changed.id, result=self._shown(changed))

    def delete_headless(self, pk: Any) -> Response:
        template = self.scoped_item(pk)
        if template is None:
            return self.response_404()
        with self.transaction():
            delete_template(self._session(), current_user(), template)
        return self.response(200, message="OK")

    def _shown(self, template: Template) -> dict[str, Any]:
        return self.show_model_schema.dump(template)

    def integrity_message(self, error: IntegrityError) -> str | dict[str, str]:
        # Two requests racing past the service's name check: the constraint decides.
        if "name" in str(error.orig).lower():
            return {"name": _("A template with this name already exists.")}
        return super().integrity_message(error)
