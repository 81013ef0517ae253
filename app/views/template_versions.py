"""The version pages of a template: list, editor, publish, preview and diff.

A mixin of TemplateView (app/views/templates.py), so the pages share its URL
prefix and its Template permission (methods named in permissions.SCREEN_METHODS).
Each page parses its form, calls one app.services.templates function, commits
when it wrote, then flashes and redirects.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.extensions import db
from app.models import OutputFormat, Template
from app.models.base import ModelValidationError
from app.services import templates as template_service
from app.services.errors import DomainError
from app.services.rendering import RenderError, TemplateSyntaxProblem, check_template
from app.services.scope import current_user
from app.views.base import show_errors
from app.views.fields import LookupSelectField, parse_id
from app.views.responses import error_messages, file_response

SHARED_READ_ONLY = _("Shared templates can only be changed by the platform operator.")


class VersionForm(FlaskForm):
    body = TextAreaField(_("Body"), [DataRequired()])
    changelog = StringField(_("What changed"), [Optional(), Length(max=500)])


class PublishForm(FlaskForm):
    version = StringField(validators=[DataRequired()])


class PreviewForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    version = SelectField(_("Version"), coerce=int, validate_choice=True)
    policy_id = LookupSelectField(
        _("Policy"),
        [Optional()],
        kind="policy",
        description=_("Leave empty to use sample data."),
    )


class DiffForm(FlaskForm):
    class Meta:
        csrf = False

    a = SelectField(_("From version"), coerce=int, validate_choice=True)
    b = SelectField(_("To version"), coerce=int, validate_choice=True)


class TemplateVersionPages:
    """Pages under /<view>/versions|new_version|publish|preview|diff/<template id>."""

    # --- versions ----------------------------------------------------------------
    @expose("/versions/<pk>")
    @has_access
    def versions(self, pk: str) -> Any:
        template = self._template(pk)
        return self.render_template(
            "documents/template_versions.html",
            doc_template=template,
            versions=list(reversed(template.versions)),
            may_write=self._may_write(template),
            publish_form=PublishForm(),
            title=template.name,
        )

    @expose("/new_version/<pk>", methods=["GET", "POST"])
    @has_access
    def new_version(self, pk: str) -> Any:
        template = self._template(pk)
        if not self._may_write(template):
            flash(str(SHARED_READ_ONLY), "danger")
            return redirect(url_for(f"{type(self).__name__}.versions", pk=template.id))
        form = VersionForm()
        error_line = None
        if request.method == "GET" and template.versions:
            form.body.data = template.versions[-1].body  # start from the latest version
        if form.validate_on_submit():
            session = db.session
            try:
                version = template_service.add_version(
                    session,
                    current_user(),
                    template,
                    body=form.body.data,
                    changelog=form.changelog.data or None,
                )
                session.commit()
            except (ModelValidationError, DomainError) as error:
                session.rollback()
                # The body stays in the form; the message names the faulty line.
                for message in error_messages(error):
                    flash(message, "danger")
                if "body" in getattr(error, "errors", {}):
                    error_line = _syntax_error_line(form.body.data, template)
            else:
                flash(str(_("Version %(number)d saved.", number=version.number)), "success")
                return redirect(url_for(f"{type(self).__name__}.versions", pk=template.id))
        elif request.method == "POST":
            show_errors(form, {}, _("The form has errors: please correct the fields shown below."))
        return self.render_template(
            "documents/template_editor.html",
            doc_template=template,
            form=form,
            error_line=error_line,
            title=_("New version of %(name)s", name=template.name),
        )

    @expose("/publish/<pk>", methods=["POST"])
    @has_access
    def publish(self, pk: str) -> Response:
        template = self._template(pk)
        back = redirect(url_for(f"{type(self).__name__}.versions", pk=template.id))
        form = PublishForm()
        number = parse_id(form.version.data or "")
        if not form.validate_on_submit() or number is None:
            flash(str(_("Choose a version to publish.")), "danger")
            return back
        session = db.session
        try:
            version = template_service.publish(session, current_user(), template, number)
            session.commit()
        except (ModelValidationError, DomainError) as error:
            session.rollback()
            for message in error_messages(error):
                flash(message, "danger")
            return back
        flash(str(_("Version %(number)d is now published.", number=version.number)), "success")
        return back

    @expose("/preview/<pk>")
    @has_access
    def preview(self, pk: str) -> Any:
        template = self._template(pk)
        if not template.versions:
            flash(str(_("This template has no version yet.")), "warning")
            return redirect(url_for(f"{type(self).__name__}.versions", pk=template.id))
        form = PreviewForm(request.args)
        form.version.choices = _version_choices(template)
        if "version" not in request.args:
            form.version.data = _default_version(template)
        output = request.args.get("output", "html")
        if output not in ("html", "pdf", "xlsx"):
            abort(400)
        html = None
        # Beside the HTML in the page, the file itself: the PDF, or an XLSX template's workbook.
        file_output = "xlsx" if template.output_format == OutputFormat.xlsx else "pdf"
        if form.validate():
            try:
                rendered = template_service.preview(
                    db.session,
                    current_user(),
                    template,
                    version=form.version.data,
                    policy_id=form.policy_id.data,
                    output=output,
                )
            except (ModelValidationError, DomainError, RenderError) as error:
                for message in error_messages(error):
                    flash(message, "danger")
            else:
                if output != "html" or not rendered.media_type.startswith("text/html"):
                    # A PDF opens in the browser's viewer; a workbook is saved.
                    name = f"apercu-{template.id}-v{form.version.data}.{rendered.extension}"
                    return file_response(
                        rendered.data, rendered.media_type, name, attachment=output != "pdf"
                    )
                html = rendered.data.decode("utf-8")
        return self.render_template(
            "documents/template_preview.html",
            doc_template=template,
            form=form,
            html=html,
            file_output=file_output,
            file_args={
                "version": form.version.data,
                "policy_id": form.policy_id.data or "",
                "output": file_output,
            },
            title=_("Preview of %(name)s", name=template.name),
        )

    @expose("/diff/<pk>")
    @has_access
    def diff(self, pk: str) -> Any:
        template = self._template(pk)
        form = DiffForm(request.args)
        choices = _version_choices(template)
        form.a.choices = form.b.choices = choices
        if len(choices) < 2:
            flash(str(_("Two versions are needed for a comparison.")), "warning")
            return redirect(url_for(f"{type(self).__name__}.versions", pk=template.id))
        if "a" not in request.args and "b" not in request.args:
            numbers = sorted(choice.value for choice in choices)
            form.a.data, form.b.data = numbers[-2], numbers[-1]
        changes = None
        if form.validate():
            try:
                changes = template_service.diff_hunks(template, form.a.data, form.b.data)
            except (ModelValidationError, DomainError) as error:
                for message in error_messages(error):
                    flash(message, "danger")
        return self.render_template(
            "documents/template_diff.html",
            doc_template=template,
            form=form,
            changes=changes,
            title=_("Compare versions of %(name)s", name=template.name),
        )

    # --- helpers -----------------------------------------------------------------
    def _may_write(self, template: Template) -> bool:
        """The role may write templates, and the service lets this user write this one."""
        return self.appbuilder.sm.has_access(
            "can_write", self.class_permission_name
        ) and template_service.may_write(current_user(), template)

    def _template(self, pk: Any) -> Template:
        template_id = self._parse_pk(pk)
        template = template_service.visible_template(db.session, current_user(), template_id)
        if template is None:
            abort(404)  # another agency's template: same answer as one that does not exist
        return template


def _syntax_error_line(body: str | None, template: Template) -> int | None:
    """The line of the body's syntax error, to mark it in the editor's gutter."""
    try:
        check_template(body or "", template.output_format)
    except TemplateSyntaxProblem as problem:
        return problem.line
    except RenderError:
        return None
    return None


def _version_choices(template: Template) -> list[SelectChoice]:
    published = template.published_version_id
    choices = []
    for version in reversed(template.versions):
        label = f"v{version.number}"
        if version.id == published:
            label = f"{label} ({_('published')})"
        choices.append(SelectChoice(version.number, label))
    return choices


def _default_version(template: Template) -> int:
    if template.published_version is not None:
        return template.published_version.number
    return template.versions[-1].number
