"""Import by API: ``POST /api/v1/import/clients`` and ``POST /api/v1/import/policies``.

Multipart: ``file`` (CSV or XLSX) and ``dry_run`` (true/false, default false). The
same service as the screens reads, checks every row and upserts in one transaction
(or rolls back for a dry run): 200 with the counts, 422 with every row error (nothing
written), 413 beyond IMPORT_MAX_BYTES. Each kind needs write on its resource.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder.api import expose, protect
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from app import permissions
from app.api.custom import BearerFirstApi
from app.api.doors import safe
from app.api.openapi import IMPORT_TOO_LARGE, add_responses
from app.extensions import db
from app.services import imports
from app.services.scope import current_user

FORM_OVERHEAD = 64 * 1024
TRUE, FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no", ""})

DOC = """{summary}
---
post:
  requestBody:
    required: true
    content:
      multipart/form-data:
        schema:
          type: object
          required: [file]
          properties:
            file:
              type: string
              format: binary
              description: CSV (UTF-8 or Windows-1252, ';' or ',') or XLSX; see docs/import.md.
            dry_run:
              type: boolean
              description: Check and write, then roll back (default false).
  responses:
    200:
      description: Imported (or, with dry_run, would be), all rows in one transaction.
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/ImportResult'
    400:
      $ref: '#/components/responses/400'
    401:
      $ref: '#/components/responses/401'
    403:
      $ref: '#/components/responses/403'
    413:
      $ref: '#/components/responses/ImportTooLarge'
    422:
      $ref: '#/components/responses/ImportRefused'
"""

COLUMNS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "column": {"type": "string"},
            "field": {"type": "string", "nullable": True, "description": "null: ignored"},
        },
    },
}
SCHEMAS = {
    "ImportResult": {
        "type": "object",
        "properties": {
            "dry_run": {"type": "boolean"},
            "rows": {"type": "integer"},
            "created": {"type": "integer"},
            "updated": {"type": "integer"},
            "unchanged": {"type": "integer"},
            "columns": COLUMNS_SCHEMA,
        },
    },
    "ImportRefusal": {
        "type": "object",
        "properties": {
            "message": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "row": {"type": "integer"},
                        "column": {"type": "string"},
                        "message": {"type": "string"},
                    },
                },
            },
            "columns": COLUMNS_SCHEMA,
        },
    },
}
REFUSED = {
    "description": "The file cannot be read, or rows are invalid; nothing was written.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ImportRefusal"}}},
}


class _ImportApi(BearerFirstApi):
    resource_name = "import"
    method_permission_name = {"import_file": permissions.WRITE}
    openapi_spec_tag = "Import"
    kind = ""

    def add_apispec_components(self, api_spec: Any) -> None:
        super().add_apispec_components(api_spec)
        for name, schema in SCHEMAS.items():
            if name not in api_spec.components.schemas:
                api_spec.components.schema(name, schema)
        add_responses(api_spec, {"ImportTooLarge": IMPORT_TOO_LARGE, "ImportRefused": REFUSED})

    def import_upload(self) -> Response:
        limits = imports.limits()
        if (request.content_length or 0) > limits.max_bytes + FORM_OVERHEAD:
            return self.response(413, message=imports.too_large_message(limits))
        request.max_content_length = limits.max_bytes + FORM_OVERHEAD
        try:
            upload = request.files.get("file")
            dry_run_text = request.form.get("dry_run", "").strip().lower()
        except RequestEntityTooLarge:
            return self.response(413, message=imports.too_large_message(limits))
        if upload is None or not upload.filename:
            return self.response_400(message=_("Send the file in the multipart field 'file'."))
        if dry_run_text not in TRUE | FALSE:
            return self.response_400(message=_("dry_run must be true or false."))
        data = upload.stream.read(limits.max_bytes + 1)
        if len(data) > limits.max_bytes:
            return self.response(413, message=imports.too_large_message(limits))
        # The service commits the import, or rolls it back (a dry run, a refusal).
        validation, outcome = imports.run_bytes(
            db.session,
            self.kind,
            data,
            upload.filename,
            current_user(),
            dry_run=dry_run_text in TRUE,
        )
        columns = [
            {"column": c.header, "field": c.field.name if c.field else None}
            for c in validation.mapping.columns
        ]
        if outcome is None:
            db.session.rollback()
            errors = [
                {"row": e.row, "column": e.column, "message": e.message} for e in validation.errors
            ]
            problems = validation.mapping.problems()
            message = (
                " ".join(problems) if problems else _("The file has errors: nothing was imported.")
            )
            return self.response(422, message=message, errors=errors, columns=columns)
        return self.response(
            200,
            dry_run=not outcome.applied,
            rows=len(validation.rows),
            created=outcome.created,
            updated=outcome.updated,
            unchanged=outcome.unchanged,
            columns=columns,
        )


class ClientImportApi(_ImportApi):
    class_permission_name = permissions.CLIENT
    kind = "clients"

    @expose("/clients", methods=["POST"])
    @protect()
    @safe
    def import_file(self) -> Response:
        return self.import_upload()

    import_file.__doc__ = DOC.format(
        summary="Import clients from a CSV or XLSX file (upsert by e-mail)."
    )


class PolicyImportApi(_ImportApi):
    class_permission_name = permissions.POLICY
    kind = "policies"

    @expose("/policies", methods=["POST"])
    @protect()
    @safe
    def import_file(self) -> Response:
        return self.import_upload()

    import_file.__doc__ = DOC.format(
        summary="Import policies from a CSV or XLSX file (upsert by number)."
    )
