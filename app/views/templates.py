"""Document templates: list, show, add and edit; the version pages are in template_versions.py.

Thin doors over app.services.templates: each page parses its form, calls one
service function, commits, then flashes and redirects. Which templates a user
sees (own agency + shared) and may write (own agency; shared ones: SUPERADMIN)
is decided by the service, never here.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import lazy_gettext as _
from sqlalchemy import false
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Query
from werkzeug.wrappers import Response
from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from app import permissions
from app.extensions import db
from app.models import OutputFormat, Template, TemplateKind
from app.models.base import ModelValidationError
from app.models.template import TEMPLATE_FORMATS
from app.services import templates as template_service
from app.services.errors import DomainError
from app.services.scope import current_user, is_superadmin
from app.views.base import GuardedModelView, show_errors
from app.views.fields import EnumSelectField
from app.views.interface import ListInterface
from app.views.labels import column_labels, date_formatter, enum_formatter
from app.views.template_versions import SHARED_READ_ONLY, TemplateVersionPages

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

FORM_FIELDS = {
    "kind": EnumSelectField(_("Kind"), [InputRequired()], enum_class=TemplateKind),
    "output_format": EnumSelectField(
        _("Output format"), [InputRequired()], enum_class=OutputFormat, members=TEMPLATE_FORMATS
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


class TemplateView(TemplateVersionPages, GuardedModelView):
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
        if request.method != "POST":
            return super()._edit(pk)
        # Saved through the service, like the API's PUT: the kind is frozen once
        # versions exist, the name stays unique, and the change is audited.
        form = self.edit_form.refresh(request.form)
        if form.validate():
            if self._update(template, form):
                flash(str(self.edit_row_message), "success")
                return None
        else:
            show_errors(form, {}, self.invalid_form_message)
        return self._get_edit_widget(form=form)

    def _update(self, template: Template, form: Any) -> bool:
        session = db.session
        changes = {name: form[name].data for name in self.edit_columns}
        changes["description"] = changes.get("description") or None
        try:
            template_service.update_template(session, current_user(), template, changes)
            session.commit()
            return True
        except (ModelValidationError, DomainError) as error:
            session.rollback()
            errors = dict(getattr(error, "errors", {}) or {}) or {
                "": getattr(error, "message", str(error))
            }
            show_errors(form, errors, self.invalid_form_message)
        except SQLAlchemyError:
            session.rollback()
            log.exception("template update failed")
            show_errors(form, {"": str(self.database_error_message)}, self.invalid_form_message)
        return False
