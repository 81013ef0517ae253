"""/api/v1/document/: generated documents — ask for them, follow them, download them.

A thin door over app.services.documents. The resource itself is read-only (no
POST/PUT/DELETE on it): documents come from ``POST /generate`` and
``POST /generate-batch``, which answer 202 at once; the render runs on the
queue and the document's ``status`` goes queued → running → ready (or failed,
with ``error``). ``GET /<id>/download`` answers the original bytes once ready
(409 before), with an RFC 6266 file name and the sha256 in ``X-Checksum``.

Every route sees the caller's organisation only (SUPERADMIN: all); any other id
answers 404, like an unknown one.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_appbuilder.api import expose, protect
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, pre_load, validate
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import OrganisationModelRestApi, parse_pk
from app.api.bodies import Id, StrictBoolean
from app.api.doors import json_object, safe
from app.api.files import attachment_response
from app.models import Document, OutputFormat
from app.services import documents as service
from app.services.scope import current_user

FORMATS = [output_format.value for output_format in OutputFormat]
JOB_ROUTE = "/api/v1/job"
DOCUMENT_COLUMNS = [
    "id",
    "status",
    "error",
    "attempts",
    "duration_ms",
    "format",
    "media_type",
    "file_name",
    "size",
    "sha256",
    "compressed",
    "encrypted",
    "engine",
    "template_id",
    "template_version_id",
    "template_version.number",
    "policy_id",
    "job_id",
    "created_at",
    "finished_at",
]


class GenerateSchema(Schema):
    template_id = Id(required=True)
    policy_id = Id(required=True)
    format = fields.String(
        allow_none=True,
        validate=validate.OneOf(FORMATS),
        metadata={"description": "Default: the template's own format"},
    )
    compress = StrictBoolean(metadata={"description": "Store gzip-compressed (default false)"})
    encrypt = StrictBoolean(metadata={"description": "Store encrypted (default false)"})


class GenerateBatchSchema(Schema):
    template_id = Id(required=True)
    policy_ids = fields.List(
        Id(),
        required=True,
        metadata={"description": "1 to DOCUMENT_BATCH_MAX (default 1000) policy ids"},
    )

    @pre_load
    def _bounded(self, data: Any, **kwargs: Any) -> Any:
        # Checked before marshmallow reads every item of a list that is too long anyway.
        ids = data.get("policy_ids") if isinstance(data, dict) else None
        limit = int(current_app.config["DOCUMENT_BATCH_MAX"])
        if isinstance(ids, list) and not 1 <= len(ids) <= limit:
            message = _("Give between 1 and %(limit)d policy ids.", limit=limit)
            raise ValidationError({"policy_ids": [message]})
        return data


class GenerateAcceptedSchema(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"enum": ["queued", "running", "ready", "failed"]})


class GenerateBatchAcceptedSchema(Schema):
    job_id = fields.Integer()
    status = fields.String(metadata={"enum": ["queued", "running", "succeeded", "failed"]})
    total = fields.Integer(metadata={"description": "How many documents the job makes"})


class DocumentApi(OrganisationModelRestApi):
    class_permission_name = permissions.DOCUMENT
    method_permission_name = {
        **permissions.API_METHODS,
        "generate": permissions.WRITE,
        "generate_batch": permissions.WRITE,
        "download": permissions.READ,
    }
    resource_name = "document"
    openapi_spec_tag = "Documents"
    datamodel = SQLAInterface(Document)
    # Read-only resource: documents are made by /generate, never posted or edited.
    include_route_methods = {"get", "get_list", "info", "generate", "generate_batch", "download"}
    list_columns = DOCUMENT_COLUMNS
    show_columns = [
        *DOCUMENT_COLUMNS,
        "stored_size",
        "data_sha256",
        "enqueued_at",
        "started_at",
        "created_by_id",
    ]
    search_columns = ["status", "policy_id", "template_id", "job_id", "format", "created_at"]
    order_columns = ["id", "created_at", "finished_at", "status", "size"]
    base_order = ("id", "desc")
    openapi_spec_component_schemas = (
        GenerateSchema,
        GenerateBatchSchema,
        GenerateAcceptedSchema,
        GenerateBatchAcceptedSchema,
    )

    def _session(self) -> Any:
        return self.datamodel.session

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        # Reports and exports have no template (migration 0007): their version is null.
        for schema in (self.show_model_schema, self.list_model_schema):
            if "template_version" in schema.fields:
                schema.fields["template_version"].allow_none = True

    @expose("/generate", methods=["POST"])
    @protect()
    @safe
    def generate(self) -> Response:
        """Ask for one document; it is rendered on the queue.
        ---
        post:
          summary: Generate a document
          description: >-
            Answers 202 at once with the document's id; follow it at the
            Location given (GET /api/v1/document/<id>) until `status` is
            `ready` (or `failed`), then download it.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/GenerateSchema'
          responses:
            202:
              description: Accepted; Location names the document
              headers:
                Location:
                  schema: {type: string}
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/GenerateAcceptedSchema'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        body = json_object()
        with self.transaction():
            data = GenerateSchema().load(body)
            document = service.request_document(self._session(), current_user(), **data)
        response = self.response(202, id=document.id, status=document.status.value)
        response.headers["Location"] = f"{self.route_base}/{document.id}"
        return response

    @expose("/generate-batch", methods=["POST"])
    @protect()
    @safe
    def generate_batch(self) -> Response:
        """Ask for one document per policy, in one job whose progress you can follow.
        ---
        post:
          summary: Generate documents for many policies
          description: >-
            Answers 202 with the job's id; follow it at the Location given
            (GET /api/v1/job/<id>): `progress` counts the documents done.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/GenerateBatchSchema'
          responses:
            202:
              description: Accepted; Location names the job
              headers:
                Location:
                  schema: {type: string}
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/GenerateBatchAcceptedSchema'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        body = json_object()
        with self.transaction():
            data = GenerateBatchSchema().load(body)
            job = service.request_batch(self._session(), current_user(), **data)
        response = self.response(
            202, job_id=job.id, status=job.status.value, total=job.progress_total
        )
        response.headers["Location"] = f"{JOB_ROUTE}/{job.id}"
        return response

    @expose("/<pk>/download", methods=["GET"])
    @protect()
    @safe
    def download(self, pk: str) -> Response:
        """The document's original bytes (decompressed and decrypted), once it is ready.
        ---
        get:
          summary: Download a document
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: >-
                The file, with its Content-Type, `Content-Disposition: attachment`
                (RFC 6266 file name) and its sha256 in `X-Checksum`
              headers:
                X-Checksum:
                  schema: {type: string}
                Content-Disposition:
                  schema: {type: string}
              content:
                application/pdf:
                  schema: {type: string, format: binary}
                text/html:
                  schema: {type: string}
                application/vnd.openxmlformats-officedocument.spreadsheetml.sheet:
                  schema: {type: string, format: binary}
                text/csv:
                  schema: {type: string}
                application/xml:
                  schema: {type: string}
                application/zip:
                  schema: {type: string, format: binary}
            404:
              $ref: '#/components/responses/404'
            409:
              description: The document is not ready (queued, running or failed)
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Message'
            503:
              description: The file store cannot be read right now; try again
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Message'
        """
        parsed = parse_pk(pk, self.pk_bound)
        if parsed is None:
            return self.response_404()
        with self.transaction():  # the download is audited
            download = service.open_download(self._session(), current_user(), parsed)
        return attachment_response(
            download.chunks,
            download.media_type,
            download.file_name,
            download.sha256,
            size=download.size,
        )
