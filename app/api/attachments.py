"""/api/v1/attachment/: files kept for clients, contracts and claims.

A thin door over app/services/attachments. ``POST /`` (multipart: ``file`` and one of
``claim_id``, ``client_id``, ``policy_id``) uploads one; a claim's own door is
``POST /api/v1/claim/<id>/attachments`` (app/api/claims.py). ``GET /<id>/download``
answers the exact bytes as an attachment with ``nosniff``; ``GET /<id>/thumbnail`` an
image's PNG thumbnail; ``DELETE /<id>`` deletes it (audited). Another agency's file,
client, contract or claim answers 404, like an unknown one.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder.api import expose, protect
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from app import permissions
from app.api.base import OrganisationModelRestApi, parse_pk
from app.api.doors import safe
from app.api.files import attachment_response
from app.models import Attachment
from app.services.attachments import files
from app.services.errors import InvalidRequestError, MalformedRequestError
from app.services.scope import current_user, visible_organisation_id
from app.services.storage import file_store

FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the other fields, beside the file
ATTACHMENT_COLUMNS = [
    "id",
    "claim_id",
    "client_id",
    "policy_id",
    "file_name",
    "media_type",
    "size",
    "sha256",
    "has_thumbnail",
    "uploaded_by_id",
    "created_at",
]


class NotATrainingCertificate(BaseFilter):
    """A training's certificate is the DDA log's (MANAGER, app/views/training.py), not staff's."""

    name = "not a training certificate"

    def apply(self, query: Any, value: Any) -> Any:
        return query.filter(Attachment.training_record_id.is_(None))


def uploaded_file() -> tuple[bytes, str]:
    """The multipart field ``file``: its bytes (one past the limit at most) and its name."""
    limit = files.max_bytes()
    if (request.content_length or 0) > limit + FORM_OVERHEAD:
        raise _too_large(limit)
    request.max_content_length = limit + FORM_OVERHEAD
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        raise _too_large(limit) from None
    if upload is None:
        raise MalformedRequestError(_("Send the file in the multipart field 'file'."))
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise _too_large(limit)
    return data, upload.filename or ""


def _too_large(limit: int) -> InvalidRequestError:
    error = InvalidRequestError(
        _("The file is larger than %(mb)s MB.", mb=round(limit / 1024 / 1024, 1))
    )
    error.status = 413
    return error


def upload_to(session: Any, owner: Any) -> Attachment:
    data, name = uploaded_file()
    user = current_user()
    return files.add_attachment(
        session, file_store(), owner, data=data, file_name=name, user_id=getattr(user, "id", None)
    )


class AttachmentApi(OrganisationModelRestApi):
    class_permission_name = permissions.ATTACHMENT
    method_permission_name = {
        **permissions.API_METHODS,
        "upload": permissions.WRITE,
        "download": permissions.READ,
        "thumbnail": permissions.READ,
        "remove": permissions.WRITE,
    }
    resource_name = "attachment"
    openapi_spec_tag = "Attachments"
    datamodel = SQLAInterface(Attachment)
    base_filters = [
        *OrganisationModelRestApi.base_filters,
        ["training_record_id", NotATrainingCertificate, None],
    ]
    include_route_methods = {"get", "get_list", "info", "upload", "download", "thumbnail", "remove"}
    list_columns = ATTACHMENT_COLUMNS
    show_columns = ATTACHMENT_COLUMNS
    search_columns = ["claim_id", "client_id", "policy_id", "file_name", "media_type"]
    order_columns = ["id", "file_name", "size", "created_at"]
    base_order = ("id", "desc")

    def _session(self) -> Any:
        return self.datamodel.session

    def _answer(self, attachment: Attachment, status: int = 200) -> Response:
        return self.response(
            status, id=attachment.id, result=self.show_model_schema.dump(attachment)
        )

    @expose("/", methods=["POST"])
    @protect()
    @safe
    def upload(self) -> Response:
        """Upload a file for a client, a contract or a claim.
        ---
        post:
          summary: Upload an attachment
          description: >-
            Multipart: `file`, and exactly one of `claim_id`, `client_id`,
            `policy_id`. PDF, JPEG, PNG, HEIC, DOCX, XLSX or TXT, decided from the
            content, which must agree with the name; a PDF with JavaScript or
            embedded files is refused. 413 beyond ATTACHMENT_MAX_BYTES.
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  properties:
                    file: {type: string, format: binary}
                    claim_id: {type: integer}
                    client_id: {type: integer}
                    policy_id: {type: integer}
          responses:
            201:
              description: The attachment
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result:
                        $ref: '#/components/schemas/AttachmentApi.get'
            400:
              $ref: '#/components/responses/400'
            404:
              $ref: '#/components/responses/404'
            413:
              description: The file is too large
            422:
              $ref: '#/components/responses/422'
        """
        session = self._session()
        given = [f for f in files.OWNERS if request.form.get(f)]
        if len(given) != 1:
            raise InvalidRequestError(_("Attach the file to a client, a contract or a claim."))
        owner_id = parse_pk(request.form[given[0]])
        if owner_id is None:
            raise InvalidRequestError(_("Unknown id."), {given[0]: _("Unknown id.")})
        with self.transaction():
            owner = files.scoped_owner(session, visible_organisation_id(), given[0], owner_id)
            attachment = upload_to(session, owner)
        return self._answer(attachment, 201)

    @expose("/<pk>/download", methods=["GET"])
    @protect()
    @safe
    def download(self, pk: str) -> Response:
        """The file's exact bytes, as an attachment.
        ---
        get:
          summary: Download an attachment
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: The file
              content:
                application/octet-stream:
                  schema: {type: string, format: binary}
            404:
              $ref: '#/components/responses/404'
        """
        return self._file(pk, thumbnail=False)

    @expose("/<pk>/thumbnail", methods=["GET"])
    @protect()
    @safe
    def thumbnail(self, pk: str) -> Response:
        """An image's thumbnail (PNG, at most 256 px).
        ---
        get:
          summary: An attachment's thumbnail
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: The thumbnail
              content:
                image/png:
                  schema: {type: string, format: binary}
            404:
              $ref: '#/components/responses/404'
        """
        return self._file(pk, thumbnail=True)

    @expose("/<pk>", methods=["DELETE"])
    @protect()
    @safe
    def remove(self, pk: str) -> Response:
        """Delete a file (audited).
        ---
        delete:
          summary: Delete an attachment
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: Deleted
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Message'
            404:
              $ref: '#/components/responses/404'
        """
        attachment = self.scoped_item(pk)
        if attachment is None:
            return self.response_404()
        with self.transaction():
            deleted = files.delete_attachment(self._session(), attachment)
        deleted.remove_from(file_store())
        return self.response(200, message=_("Deleted."))

    def _file(self, pk: str, *, thumbnail: bool) -> Response:
        attachment = self.scoped_item(pk)
        if attachment is None:
            return self.response_404()
        with self.transaction():
            data = files.read(
                self._session(), file_store(), attachment, current_user(), thumbnail=thumbnail
            )
        if thumbnail:
            name = f"{attachment.file_name.rpartition('.')[0] or attachment.file_name}.png"
            return attachment_response(data, "image/png", name, "", len(data))
        return attachment_response(
            data, attachment.media_type, attachment.file_name, attachment.sha256, len(data)
        )
