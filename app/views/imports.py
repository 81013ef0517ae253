"""Import screens: template files, upload, preview (mapping and row errors), dry run, import.

One screen per kind, each under its resource's write permission (Client, Policy).
Thin door over app.services.imports: the service reads, validates, stages and writes.
The upload route checks the size before the body is parsed, so the global CSRF hook
is skipped for it and the same check runs in the view, right after the size check.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import HiddenField
from wtforms.validators import AnyOf

from app import permissions
from app.extensions import csrf, db
from app.services import imports
from app.services.errors import DomainError
from app.services.imports import samples
from app.services.scope import current_user
from app.views.responses import file_response

ERRORS_SHOWN = 500
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the other fields, beside the file


class UploadForm(FlaskForm):
    file = FileField()


class RunForm(FlaskForm):
    mode = HiddenField(validators=[AnyOf(["dry", "apply"])])


class ImportView(BaseView):
    """Shared by both kinds; subclasses name the kind, the resource and the list to go back to."""

    kind = ""
    title: Any = ""
    list_endpoint = ""
    method_permission_name = permissions.SCREEN_METHODS
    default_view = "import_form"

    @expose("/", methods=["GET"])
    @has_access
    def import_form(self) -> Any:
        limits = imports.limits()
        return self.render_template(
            "imports/upload.html",
            title=self.title,
            kind=self.kind,
            fields=imports.FIELDS[self.kind],
            form=UploadForm(),
            max_mb=f"{limits.max_bytes / 1024 / 1024:g}",
            limits=limits,
            endpoint=self.endpoint,
        )

    @expose("/template.<string:extension>", methods=["GET"])
    @has_access
    def import_template(self, extension: str) -> Response:
        label = gettext("template")
        name = f"{self.kind}-{label}.{extension}"
        if extension == "csv":
            return file_response(samples.template_csv(self.kind), samples.CSV_TYPE, name)
        if extension == "xlsx":
            return file_response(samples.template_xlsx(self.kind), samples.XLSX_TYPE, name)
        abort(404)

    @expose("/upload", methods=["POST"])
    @has_access
    def import_upload(self) -> Response:
        limits = imports.limits()
        back = redirect(url_for(f"{self.endpoint}.import_form"))
        # Refused before the body is read: Content-Length is known for every browser upload.
        if (request.content_length or 0) > limits.max_bytes + FORM_OVERHEAD:
            flash(imports.too_large_message(limits), "danger")
            return back
        request.max_content_length = limits.max_bytes + FORM_OVERHEAD
        try:
            csrf.protect()  # 400 without a valid token, like every other form
            upload = request.files.get("file")
        except RequestEntityTooLarge:  # a chunked body without Content-Length
            flash(imports.too_large_message(limits), "danger")
            return back
        if upload is None or not upload.filename:
            flash(str(_("Choose a CSV or XLSX file.")), "danger")
            return back
        data = upload.stream.read(limits.max_bytes + 1)
        try:
            staged = imports.stage(data, upload.filename, self.kind, current_user())
        except DomainError as error:
            flash(error.message, "danger")
            return back
        return redirect(url_for(f"{self.endpoint}.import_preview", token=staged.token))

    @expose("/<string:token>", methods=["GET"])
    @has_access
    def import_preview(self, token: str) -> Any:
        staged, validation = self._analysed(token)
        return self.render_template(
            "imports/preview.html",
            title=self.title,
            staged=staged,
            validation=validation,
            errors=validation.errors[:ERRORS_SHOWN],
            hidden=max(0, len(validation.errors) - ERRORS_SHOWN),
            form=RunForm(),
            endpoint=self.endpoint,
        )

    @expose("/<string:token>/errors.csv", methods=["GET"])
    @has_access
    def import_errors(self, token: str) -> Response:
        staged, validation = self._analysed(token)
        errors = list(validation.errors)
        errors += [imports.RowError(1, "", problem) for problem in validation.mapping.problems()]
        label = gettext("errors")
        name = f"{staged.file_name.rsplit('.', 1)[0]}-{label}.csv"
        return file_response(samples.errors_csv(errors), samples.CSV_TYPE, name)

    @expose("/<string:token>/run", methods=["POST"])
    @has_access
    def import_run(self, token: str) -> Response:
        preview = redirect(url_for(f"{self.endpoint}.import_preview", token=token))
        form = RunForm()
        if not form.validate_on_submit():
            flash(str(_("The request was refused: reload the page and try again.")), "danger")
            return preview
        staged = self._staged(token)
        if staged is None:
            return redirect(url_for(f"{self.endpoint}.import_form"))
        dry_run = form.mode.data == "dry"
        try:
            validation, outcome = imports.run(db.session, staged, dry_run=dry_run)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return preview
        if outcome is None:
            db.session.rollback()
            flash(
                ngettext(
                    "%(num)d error in the file: nothing was imported.",
                    "%(num)d errors in the file: nothing was imported.",
                    len(validation.errors) or len(validation.mapping.problems()),
                ),
                "danger",
            )
            return preview
        values = {"created": outcome.created, "updated": outcome.updated}
        values["unchanged"] = outcome.unchanged
        if dry_run:
            flash(
                gettext(
                    "Dry run: %(created)d row(s) would be created, %(updated)d updated and "
                    "%(unchanged)d left unchanged. Nothing was written.",
                    **values,
                ),
                "info",
            )
            return preview
        flash(
            gettext(
                "Import done: %(created)d row(s) created, %(updated)d updated and "
                "%(unchanged)d unchanged.",
                **values,
            ),
            "success",
        )
        return redirect(url_for(self.list_endpoint))

    def _analysed(self, token: str) -> tuple[Any, Any]:
        """The staged upload and its validation; else back to the form, the refusal flashed.

        ``abort`` with the redirect ends the request here, so the routes read straight on.
        """
        staged = self._staged(token)
        if staged is None:
            abort(redirect(url_for(f"{self.endpoint}.import_form")))
        try:
            return staged, imports.analyse(db.session, staged)
        except DomainError as error:
            flash(error.message, "danger")
            abort(redirect(url_for(f"{self.endpoint}.import_form")))
        finally:
            db.session.rollback()  # the analysis only read

    def _staged(self, token: str) -> imports.Staged | None:
        """The user's staged upload, or None (flashed) when it expired or is someone else's."""
        try:
            user = current_user()
            return imports.staging().get(
                token,
                kind=self.kind,
                user_id=user.id,
                organisation_id=imports.target_organisation(user),
            )
        except DomainError as error:
            flash(error.message, "danger")
            return None


class ClientImportView(ImportView):
    route_base = "/import/clients"
    class_permission_name = permissions.CLIENT
    kind = "clients"
    title = _("Import clients")
    list_endpoint = "ClientView.list"


class PolicyImportView(ImportView):
    route_base = "/import/policies"
    class_permission_name = permissions.POLICY
    kind = "policies"
    title = _("Import policies")
    list_endpoint = "PolicyView.list"


# Checked in import_upload itself, after the size (see the module docstring).
csrf.exempt(f"{__name__}.{ImportView.import_upload.__name__}")
