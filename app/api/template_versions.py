"""The version routes of /api/v1/template/: versions, publish, preview, diff.

A mixin of TemplateApi (app/api/templates.py), which provides ``_template`` (the
scoped, strictly parsed load), ``_session`` and ``transaction``. Each route
parses its input, calls one function of app.services.templates and answers;
refusals are raised and answered once (app/api/errors.py).
"""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, protect
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.api.base import parse_pk
from app.api.doors import json_object, safe
from app.api.files import preview_response
from app.api.template_schemas import (
    MAX_NUMBER,
    TemplateDiffSchema,
    TemplatePreviewSchema,
    TemplatePublishSchema,
    TemplateVersionBodySchema,
    TemplateVersionCreateSchema,
    TemplateVersionSchema,
    describe_version,
    version_summaries,
)
from app.models import TemplateVersion
from app.services import templates as service
from app.services.scope import current_user


class TemplateVersionRoutes:
    """Routes on one template's versions; mixed into TemplateApi before its base class."""

    @expose("/<pk>/versions", methods=["GET"])
    @protect()
    @safe
    def list_versions(self, pk: str) -> Response:
        """The versions of a template, oldest first, without their bodies.
        ---
        get:
          summary: List a template's versions
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: Every version; `published` marks the published one.
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/TemplateVersionListSchema'
            404:
              $ref: '#/components/responses/404'
        """
        template = self._template(pk)
        if template is None:
            return self.response_404()
        rows = version_summaries(self._session(), template)
        result = TemplateVersionSchema().dump(rows, many=True)
        return self.response(200, count=len(result), result=result)

    @expose("/<pk>/versions/<number>", methods=["GET"])
    @protect()
    @safe
    def get_version(self, pk: str, number: str) -> Response:
        """One version of a template, with its body.
        ---
        get:
          summary: Read a template version
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          - {in: path, name: number, required: true, schema: {type: integer}}
          responses:
            200:
              description: The version and its body
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/TemplateVersionBodySchema'
            404:
              $ref: '#/components/responses/404'
        """
        template = self._template(pk)
        parsed = parse_pk(number, MAX_NUMBER)
        if template is None or parsed is None:
            return self.response_404()
        version = self._session().scalar(
            select(TemplateVersion).where(
                TemplateVersion.template_id == template.id, TemplateVersion.number == parsed
            )
        )
        if version is None:
            return self.response_404()
        return self.response(
            200, **TemplateVersionBodySchema().dump(describe_version(version, template))
        )

    @expose("/<pk>/versions", methods=["POST"])
    @protect()
    @safe
    def add_version(self, pk: str) -> Response:
        """Save the next version of a template; a syntax error answers 422 with its line.
        ---
        post:
          summary: Add a template version
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/TemplateVersionCreateSchema'
          responses:
            201:
              description: The new version (numbered after the last one)
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/TemplateVersionSchema'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              description: Another version was saved at the same moment; save again
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Message'
            422:
              $ref: '#/components/responses/422'
        """
        template = self._template(pk)
        if template is None:
            return self.response_404()
        body = json_object()
        with self.transaction():
            data = TemplateVersionCreateSchema().load(body)
            version = service.add_version(
                self._session(),
                current_user(),
                template,
                body=data["body"],
                changelog=data.get("changelog"),
            )
        return self.response(
            201, **TemplateVersionSchema().dump(describe_version(version, template))
        )

    @expose("/<pk>/publish", methods=["POST"])
    @protect()
    @safe
    def publish(self, pk: str) -> Response:
        """Publish one version: new documents use it, documents already made keep theirs.
        ---
        post:
          summary: Publish a template version
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/TemplatePublishSchema'
          responses:
            200:
              description: Published
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/TemplatePublishedSchema'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        template = self._template(pk)
        if template is None:
            return self.response_404()
        body = json_object()
        with self.transaction():
            number = TemplatePublishSchema().load(body)["version"]
            version = service.publish(self._session(), current_user(), template, number)
        return self.response(
            200, id=template.id, published_version=version.number, version_id=version.id
        )

    # --- preview and diff -----------------------------------------------------
    @expose("/<pk>/preview", methods=["POST"])
    @protect()
    @safe
    def preview(self, pk: str) -> Response:
        """Render a version with sample data or one of your policies; answers the file.
        ---
        post:
          summary: Preview a template version
          description: >-
            HTML comes with a Content-Security-Policy that lets it load nothing
            (no script, no fetch): show it as it is. Render errors answer 422
            on `body`.
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/TemplatePreviewSchema'
          responses:
            200:
              description: The rendered file
              content:
                text/html:
                  schema: {type: string}
                application/pdf:
                  schema: {type: string, format: binary}
                application/vnd.openxmlformats-officedocument.spreadsheetml.sheet:
                  schema: {type: string, format: binary}
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        template = self._template(pk)
        if template is None:
            return self.response_404()
        body = json_object()
        with self.transaction():
            options = TemplatePreviewSchema().load(body)
            rendered = service.preview(
                self._session(),
                current_user(),
                template,
                version=options.get("version"),
                policy_id=options.get("policy_id"),
                output=options.get("output") or "html",
            )
        file_name = f"preview-{template.id}.{rendered.extension}"
        return preview_response(rendered.data, rendered.media_type, file_name)

    @expose("/<pk>/diff", methods=["GET"])
    @protect()
    @safe
    def diff(self, pk: str) -> Response:
        """Two versions side by side, line by line.
        ---
        get:
          summary: Compare two template versions
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          - {in: query, name: a, required: true, schema: {type: integer}}
          - {in: query, name: b, required: true, schema: {type: integer}}
          responses:
            200:
              description: The rows; a side without a line has nulls
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/TemplateDiffSchema'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        template = self._template(pk)
        if template is None:
            return self.response_404()
        numbers = {name: parse_pk(request.args.get(name, ""), MAX_NUMBER) for name in ("a", "b")}
        bad = sorted(name for name, number in numbers.items() if number is None)
        if bad:
            return self.response_400(
                message=_(
                    "Give versions a and b as numbers: ?a=1&b=2 (%(bad)s).", bad=", ".join(bad)
                )
            )
        a, b = numbers["a"], numbers["b"]
        with self.transaction():
            rows = service.diff_rows(template, a, b)
        result = {"a": a, "b": b, "rows": [row.as_dict() for row in rows]}
        return self.response(200, **TemplateDiffSchema().dump(result))
