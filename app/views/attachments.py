"""The files kept for a claim, a client or a contract, on their pages (issue 17).

One screen door for the three owners: the block (attachments/_block.html) lists the
owner's files with their thumbnails, and posts here to upload or delete one; downloads
come here too. Each route loads the owner or the file through the organisation scope
(another agency's answers 404) and calls app/services/attachments/files.py, which decides
the type from the content and keeps nothing on refusal; a refusal is flashed on the
owner's page. Files are served as attachments with ``nosniff``, as on the API.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as __
from flask_wtf import FlaskForm
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from app import permissions
from app.api.attachments import FORM_OVERHEAD
from app.api.files import attachment_response
from app.extensions import db
from app.models import Attachment, Claim, Client, Policy
from app.services.attachments import files
from app.services.errors import DomainError, NotFoundError
from app.services.scope import current_user, visible_organisation_id
from app.services.storage import file_store
from app.views.documents import human_size
from app.views.fields import MAX_INTEGER_ID, parse_id
from app.views.premiums import flash_refusal

# The owner's name in the URL -> its attachment column and its page.
OWNER_PAGES: dict[str, tuple[str, str]] = {
    "claim": ("claim_id", "ClaimView.show"),
    "client": ("client_id", "ClientView.show"),
    "policy": ("policy_id", "PolicyView.show"),
}


def attachments_block(owner: Claim | Client | Policy, kind: str) -> dict[str, Any]:
    """What the block template shows: the owner's files and where the forms post."""
    rows = files.attachments_of(db.session, owner)
    return {
        "kind": kind,
        "owner_id": owner.id,
        "rows": rows,
        "sizes": {row.id: human_size(row.size) for row in rows},
        "max_size": human_size(files.max_bytes()),
    }


class AttachmentScreens(BaseView):
    """Upload, download and delete a file from its owner's page."""

    route_base = "/attachments"
    class_permission_name = permissions.ATTACHMENT
    method_permission_name = permissions.ATTACHMENT_SCREEN_METHODS

    @expose("/upload/<kind>/<pk>", methods=["POST"])
    @has_access
    def upload(self, kind: str, pk: str) -> Response:
        """Store the posted file for the owner; back to its page either way."""
        field, page = OWNER_PAGES.get(kind) or abort(404)
        owner_id = parse_id(pk, MAX_INTEGER_ID)
        if owner_id is None:
            abort(404)
        session = db.session
        try:
            owner = files.scoped_owner(session, visible_organisation_id(), field, owner_id)
        except NotFoundError:
            abort(404)
        back = redirect(url_for(page, pk=owner.id))
        limit = files.max_bytes()
        too_large = __("The file is larger than %(size)s.", size=human_size(limit))
        if (request.content_length or 0) > limit + FORM_OVERHEAD:
            flash(too_large, "danger")
            return back
        request.max_content_length = limit + FORM_OVERHEAD
        try:
            form = FlaskForm()
            upload = request.files.get("file")
        except RequestEntityTooLarge:
            flash(too_large, "danger")
            return back
        if not form.validate_on_submit():
            flash(__("The form has expired: please send the file again."), "danger")
            return back
        if upload is None or not upload.filename:
            flash(__("Choose a file."), "danger")
            return back
        data = upload.stream.read(limit + 1)
        if len(data) > limit:
            flash(too_large, "danger")
            return back
        user = current_user()
        try:
            attachment = files.add_attachment(
                session,
                file_store(),
                owner,
                data=data,
                file_name=upload.filename,
                user_id=getattr(user, "id", None),
            )
            session.commit()
        except DomainError as error:
            session.rollback()
            flash_refusal(error)
            return back
        flash(__("File %(name)s added.", name=attachment.file_name), "success")
        return back

    @expose("/download/<pk>")
    @has_access
    def download(self, pk: str) -> Response:
        """The file's exact bytes, as an attachment (the download is audited)."""
        return self._file(pk, thumbnail=False)

    @expose("/thumbnail/<pk>")
    @has_access
    def thumbnail(self, pk: str) -> Response:
        """An image's PNG thumbnail, for the block's list."""
        return self._file(pk, thumbnail=True)

    @expose("/delete/<pk>", methods=["POST"])
    @has_access
    def delete(self, pk: str) -> Response:
        """Delete the file (audited): its row, then its bytes once that is committed."""
        attachment = self._scoped(pk)
        back = redirect(_owner_page(attachment))
        if not FlaskForm().validate_on_submit():
            flash(__("The form has expired: please try again."), "danger")
            return back
        session = db.session
        name = attachment.file_name
        deleted = files.delete_attachment(session, attachment)
        session.commit()
        deleted.remove_from(file_store())
        flash(__("File %(name)s deleted.", name=name), "success")
        return back

    def _scoped(self, pk: str) -> Attachment:
        attachment_id = parse_id(pk, MAX_INTEGER_ID)
        if attachment_id is None:
            abort(404)
        try:
            return files.scoped_attachment(db.session, visible_organisation_id(), attachment_id)
        except NotFoundError:
            abort(404)

    def _file(self, pk: str, *, thumbnail: bool) -> Response:
        attachment = self._scoped(pk)
        session = db.session
        try:
            data = files.read(
                session, file_store(), attachment, current_user(), thumbnail=thumbnail
            )
        except NotFoundError:
            abort(404)
        session.commit()  # the download's audit entry
        if thumbnail:
            name = attachment.file_name.rsplit(".", 1)[0] + ".png"
            return attachment_response(data, "image/png", name, "", len(data))
        return attachment_response(
            data, attachment.media_type, attachment.file_name, attachment.sha256, attachment.size
        )


def _owner_page(attachment: Attachment) -> str:
    for field, page in OWNER_PAGES.values():
        owner_id = getattr(attachment, field)
        if owner_id is not None:
            return url_for(page, pk=owner_id)
    raise AssertionError(f"attachment {attachment.id} has no owner")
