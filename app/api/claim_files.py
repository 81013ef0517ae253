"""ClaimApi's files: ``POST`` and ``GET /api/v1/claim/<id>/attachments`` (a mixin of
app/api/claims.py; the checks and the storage are app/services/attachments)."""

from __future__ import annotations

from typing import Any

from flask_appbuilder.api import expose, protect
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.api.attachments import ATTACHMENT_COLUMNS, upload_to
from app.api.doors import safe
from app.models import Attachment


def _attachment_dict(attachment: Attachment) -> dict[str, Any]:
    values = {name: getattr(attachment, name) for name in ATTACHMENT_COLUMNS}
    values["created_at"] = attachment.created_at.isoformat() if attachment.created_at else None
    return values


class ClaimFilesDoor:
    """The claim's attachments: upload one, list them."""

    # Provided by ClaimApi (app/api/claims.py) and its base.
    datamodel: Any
    scoped_item: Any
    response: Any
    response_404: Any
    transaction: Any
    _session: Any

    @expose("/<pk>/attachments", methods=["POST"])
    @protect()
    @safe
    def attach(self, pk: str) -> Response:
        """Upload a file for a claim (the constat, photos, invoices).
        ---
        post:
          summary: Upload a claim's attachment
          description: >-
            Multipart field `file`. PDF, JPEG, PNG, HEIC, DOCX, XLSX or TXT, decided
            from the content, which must agree with the name; a PDF with JavaScript
            or embedded files is refused; images get a thumbnail. 413 beyond
            ATTACHMENT_MAX_BYTES. The file is then at /api/v1/attachment/<id>.
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  properties:
                    file: {type: string, format: binary}
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
        claim = self.scoped_item(pk)
        if claim is None:
            return self.response_404()
        with self.transaction():
            attachment = upload_to(self._session(), claim)
        return self.response(201, id=attachment.id, result=_attachment_dict(attachment))

    @expose("/<pk>/attachments", methods=["GET"])
    @protect()
    @safe
    def attachments(self, pk: str) -> Response:
        """A claim's files, newest first.
        ---
        get:
          summary: List a claim's attachments
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: The files
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      result:
                        type: array
                        items:
                          $ref: '#/components/schemas/AttachmentApi.get'
            404:
              $ref: '#/components/responses/404'
        """
        claim = self.scoped_item(pk)
        if claim is None:
            return self.response_404()
        rows = self._session().scalars(
            select(Attachment).where(Attachment.claim_id == claim.id).order_by(Attachment.id.desc())
        )
        return self.response(200, result=[_attachment_dict(row) for row in rows])
