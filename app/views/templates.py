"""Document templates: list, show, add, edit, and their versions (editor, publish, preview, diff).

Thin doors over app.services.templates: each page parses its form, calls one
service function, commits, then flashes and redirects. Which templates a user
sees (own agency + shared) and may write (own agency; shared ones: SUPERADMIN)
is decided by the service, never here.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import false
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Query
from werkzeug.wrappers import Response
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app import permissions
from app.extensions import db
from app.models import OutputFormat, Template, TemplateKind
from app.models.base import ModelValidationError
from app.services import templates as template_service
from app.services.errors import DomainError
from app.services.rendering import RenderError, TemplateSyntaxProblem, check_template
from app.services.scope import current_user, is_superadmin
from app.views.base import GuardedModelView, show_errors
from app.views.fields import EnumSelectField, LookupSelectField, parse_id
from app.views.interface import ListInterface
from app.views.labels import column_labels, date_formatter, enum_formatter
from app.views.responses import file_response

log = logging.getLogger(__name__)

LOCALE_LABELS = (("fr", _("French")), ("en", _("English")))
LOCALE_CHOICES = [SelectChoice(code, label) for code, label in LOCALE_LABELS]
TEMPLATE_LABELS: dict[str, Any] = {
    **column_labels("name", "kind", "created_at", "updated_at"),
    "output_format": _("Output format"),
    "locale": _("Language"),
    "description": _("Description"),
    "shared": _("Shared with every agency"),
    "scope": _("Scope"),
    "published": _("Published version"),
}


SHARED_READ_ONLY = _("Shared templates can only be changed by the platform operator.")
FORM_FIELDS = {
    "kind": EnumSelectField(_("Kind"), [InputRequired()], enum_class=TemplateKind),
    "output_format": EnumSelectField(
        _("Output format"), [InputRequired()], enum_class=OutputFormat
    ),
    "locale": SelectField(_("Language"), choices=LOCALE_CHOICES, default="fr"),
    "description": TextAreaField(_("Description"), [Optional(), Length(max=2000)]),
    "shared": BooleanField(_("Shared with every agency")),
}


class FilterVisibleTemplates(BaseFilter):
    """The templates the service lets the current user see (own agency + shared)."""

    name = "Visible templates"

    def apply(self, query: Query, value: Any) -> Query:
        user = current_user()
        if user is None:
            return query.filter(false())
        visible = template_service.templates_query(db.session, user).with_entities(Template.id)
        return query.filter(Template.id.in_(visible.scalar_subquery()))


VISIBLE_TEMPLATES = [["id", FilterVisibleTemplates, None]]


def _scope_label(template: Template) -> str:
    return str(_("Shared") if template.organisation_id is None else _("Your agency"))


def _published_label(template: Template) -> str:
    version = template.published_version
    return f"v{version.number}" if version is not None else str(_("none"))


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


class TemplateView(GuardedModelView):
    class_permission_name = permissions.TEMPLATE
    method_permission_name = permissions.SCREEN_METHODS
    # Versions and documents point at a template: it is never deleted from a screen.
    include_route_methods = {
        "list",
        "show",
        "add",
        "edit",
        "versions",
        "new_version",
        "publish",
        "preview",
        "diff",
    }
    datamodel = ListInterface(
        Template,
        eager=("published_version",),
        computed={"scope": _scope_label, "published": _published_label},
    )
    base_filters = VISIBLE_TEMPLATES
    show_template = "documents/template_show.html"
    list_title = _("Templates")
    show_title = _("Template")
    add_title = _("New template")
    edit_title = _("Edit template")

    list_columns = ["name", "kind", "output_format", "locale", "scope", "published", "updated_at"]
    add_columns = ["name", "kind", "output_format", "locale", "description", "shared"]
    edit_columns = ["name", "kind", "locale", "description"]
    show_columns = [
        "name",
        "kind",
        "output_format",
        "locale",
        "description",
        "scope",
        "published",
        "created_at",
        "updated_at",
    ]
    search_columns = ["name", "kind", "output_format"]
    order_columns = ["name", "kind", "output_format", "updated_at"]
    base_order = ("name", "asc")
    label_columns = TEMPLATE_LABELS
    description_columns = {
        "output_format": _("Cannot be changed once the template exists."),
        "shared": _("Only the platform operator shares templates."),
    }
    formatters_columns = {
        "kind": enum_formatter(TemplateKind),
        "output_format": enum_formatter(OutputFormat),
        "locale": lambda value: str(dict(LOCALE_LABELS).get(value, value or "")),
        "description": lambda value: value or "",
        "created_at": date_formatter,
        "updated_at": date_formatter,
    }
    add_form_extra_fields = FORM_FIELDS
    edit_form_extra_fields = {key: FORM_FIELDS[key] for key in ("kind", "locale", "description")}
    search_form_extra_fields = {
        "kind": EnumSelectField(_("Kind"), enum_class=TemplateKind),
        "output_format": EnumSelectField(_("Output format"), enum_class=OutputFormat),
    }
    unique_constraints = {
        "uq_template_organisation_name": ("name", _("A template with this name already exists.")),
        "template.organisation_id, template.name": (
            "name",
            _("A template with this name already exists."),
        ),
    }

    # --- add and edit ---------------------------------------------------------
    def _add(self) -> Any:
        form = self.add_form.refresh()
        # Only the platform operator may share; others never see the box.
        hidden = [] if is_superadmin(current_user()) else ["shared"]
        if request.method == "POST":
            if form.validate():
                template = self._create(form, may_share=not hidden)
                if template is not None:
                    g.created_template_id = template.id
                    flash(str(self.add_row_message), "success")
                    return None
            else:
                show_errors(form, {}, self.invalid_form_message)
        return self._get_add_widget(form=form, exclude_cols=hidden)

    def _create(self, form: Any, *, may_share: bool) -> Template | None:
        session = db.session
        try:
            template = template_service.create_template(
                session,
                current_user(),
                name=form.name.data or "",
                kind=form.kind.data,
                output_format=form.output_format.data,
                shared=may_share and bool(form.shared.data),
                locale=form.locale.data or "fr",
                description=form.description.data or None,
            )
            session.commit()
            return template
        except (ModelValidationError, DomainError) as error:
            session.rollback()
            errors = dict(error.errors) or {"": getattr(error, "message", str(error))}
            if not may_share and "shared" in errors:
                errors[""] = errors.pop("shared")  # the box is hidden: say it above the form
            show_errors(form, errors, self.invalid_form_message)
        except IntegrityError as error:
            session.rollback()
            show_errors(form, self._integrity_errors(error), self.invalid_form_message)
        except SQLAlchemyError:
            session.rollback()
            log.exception("template creation failed")
            show_errors(form, {"": str(self.database_error_message)}, self.invalid_form_message)
        return None

    def post_add_redirect(self) -> Response:
        # A new template has no body yet: the next step is writing version 1.
        created = g.pop("created_template_id", None)
        if created is not None:
            return redirect(url_for(f"{type(self).__name__}.new_version", pk=created))
        return super().post_add_redirect()

    def _edit(self, pk: Any) -> Any:
        template = self._template(pk)
        if not self._may_write(template):
            flash(str(SHARED_READ_ONLY), "danger")
            return None
        return super()._edit(pk)

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
        rows = None
        if form.validate():
            try:
                rows = template_service.diff_rows(template, form.a.data, form.b.data)
            except (ModelValidationError, DomainError) as error:
                for message in error_messages(error):
                    flash(message, "danger")
        return self.render_template(
            "documents/template_diff.html",
            doc_template=template,
            form=form,
            rows=rows,
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


def error_messages(error: Exception) -> list[str]:
    """What to flash for a refused request: each field's message, or the error's own."""
    errors = getattr(error, "errors", None)
    if isinstance(errors, dict) and errors:
        return [str(message) for message in errors.values()]
    return [str(getattr(error, "message", None) or error)]
