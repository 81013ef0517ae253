"""Administration > Pièces attendues des sinistres: the documents each claim nature asks for.

The agency's own lists, per nature, for every line of business or for one
(app/services/claims/checklist.py says how a claim picks its list). Every role reads
them; MANAGER and above add, edit, switch off and delete items, and copy the shipped
defaults in ("Charger les listes par défaut") to edit them. Scoped to the user's agency
like every OrganisationModelView; each change is in the audit trail.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as __
from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import case
from werkzeug.wrappers import Response
from wtforms import BooleanField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional

from app import permissions
from app.models import ClaimChecklistItem, ClaimNature, LineOfBusiness
from app.services.claims.checklist import DUPLICATE, check_item, load_defaults
from app.services.scope import organisation_for_new_rows
from app.views.base import OrganisationModelView
from app.views.fields import EnumSelectField
from app.views.interface import ListInterface
from app.views.labels import column_labels, enum_choices, enum_formatter, yes_no
from app.views.portfolio import RECORD_DATES

EVERY_LINE = _("Every line of business")


class LineField(SelectField):
    """A line of business, or none: the item is asked on every line."""

    def __init__(self, label: Any = None, validators: Any = None, **kw: Any) -> None:
        def coerce(value: Any) -> LineOfBusiness | None:
            if value in (None, "") or isinstance(value, LineOfBusiness):
                return value or None
            return LineOfBusiness(value)

        choices = [("", EVERY_LINE), *enum_choices(LineOfBusiness)]
        super().__init__(label, validators, coerce=coerce, choices=choices, **kw)


class LoadDefaultsForm(FlaskForm):
    """The button's form: nothing to fill in but the CSRF token."""


def _line_cell(value: Any) -> str:
    return str(EVERY_LINE) if value is None else enum_formatter(LineOfBusiness)(value)


# The lists as a claim reads them: per nature, one line's items before the nature-wide ones.
LIST_ORDER = (
    ClaimChecklistItem.nature,
    case((ClaimChecklistItem.line_of_business.is_(None), 1), else_=0),
    ClaimChecklistItem.line_of_business,
    ClaimChecklistItem.position,
)


class ClaimChecklistView(OrganisationModelView):
    route_base = "/claim-checklists"
    class_permission_name = permissions.CLAIM_CHECKLIST
    method_permission_name = permissions.SCREEN_METHODS
    include_route_methods = {"list", "show", "add", "edit", "delete", "load_defaults"}
    datamodel = ListInterface(ClaimChecklistItem, orders={"list_order": LIST_ORDER})
    list_template = "claims/checklist_list.html"
    list_title = _("Claim checklists")
    show_title = _("Claim checklist item")
    add_title = _("New claim checklist item")
    edit_title = _("Edit claim checklist item")

    list_columns = ["nature", "line_of_business", "position", "label", "active"]
    add_columns = list_columns
    edit_columns = add_columns
    show_columns = [*add_columns, *RECORD_DATES]
    search_columns = ["nature", "line_of_business", "label", "active"]
    order_columns = ["nature", "line_of_business", "position", "label"]
    base_order = ("list_order", "asc")
    label_columns = {
        "nature": _("Nature"),
        "line_of_business": _("Line of business"),
        "position": _("Position"),
        "label": _("Document"),
        "active": _("In use"),
        **column_labels(*RECORD_DATES),
    }
    description_columns = {
        "line_of_business": _(
            "Empty: asked on every line. A line's items come before the nature-wide ones."
        ),
        "position": _("The order in its list (0 first). Empty: at the end."),
    }
    formatters_columns = {
        "nature": enum_formatter(ClaimNature),
        "line_of_business": _line_cell,
        "active": yes_no,
    }
    add_form_extra_fields = {
        "nature": EnumSelectField(_("Nature"), [InputRequired()], enum_class=ClaimNature),
        "line_of_business": LineField(_("Line of business"), [Optional()]),
        "position": IntegerField(_("Position"), [Optional(), NumberRange(min=0, max=1000)]),
        "active": BooleanField(
            _("Active"),
            default=True,
            description=_("Switched off, new claims no longer ask for it."),
        ),
    }
    edit_form_extra_fields = add_form_extra_fields
    search_form_extra_fields = {
        "nature": EnumSelectField(_("Nature"), enum_class=ClaimNature),
        "line_of_business": EnumSelectField(_("Line of business"), enum_class=LineOfBusiness),
    }
    # Two saves racing past check_unique: the constraint decides (PostgreSQL names, SQLite columns).
    unique_constraints = {
        "uq_claim_checklist_item": ("label", DUPLICATE),
        "claim_checklist_item.organisation_id, claim_checklist_item.nature": ("label", DUPLICATE),
    }

    def check_unique(self, item: ClaimChecklistItem) -> None:
        check_item(self.datamodel.session, item)

    def render_template(self, template: str, **kwargs: Any) -> Any:
        if template == self.list_template:
            can_write = self.appbuilder.sm.has_access("can_write", self.class_permission_name)
            kwargs.setdefault("defaults_form", LoadDefaultsForm() if can_write else None)
        return super().render_template(template, **kwargs)

    @expose("/load-defaults", methods=["POST"])
    @has_access
    def load_defaults(self) -> Response:
        """Copy the shipped defaults into the agency's lists (never twice)."""
        back = redirect(url_for(f"{type(self).__name__}.list"))
        organisation_id = organisation_for_new_rows()
        if not LoadDefaultsForm().validate_on_submit() or organisation_id is None:
            flash(__("The defaults could not be loaded: reload the page and try again."), "danger")
            return back
        session = self.datamodel.session
        added = load_defaults(session, organisation_id)
        session.commit()
        if added:
            flash(__("Documents added from the defaults: %(count)d.", count=added), "success")
        else:
            flash(__("Your lists already hold every default."), "info")
        return back
