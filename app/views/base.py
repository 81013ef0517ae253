"""The ModelViews every screen builds on (organisation-owned or not).

FAB's ModelView, with the doors closed that it leaves open:
- rows outside the user's organisation answer 404 on show, edit, delete and
  actions (FAB's action routes load rows without the base filters);
- relation selects of the add, edit and search forms offer only rows the user
  may see (app/views/related.py; FAB's own queries ignore the base filters);
- invalid input re-renders the form with the user's values and a message beside
  each field, instead of FAB's flash-and-redirect that loses what was typed;
- model validation errors (raised while the form is copied onto the row), unique
  constraints and foreign keys become translated messages, never a 500;
- malformed ids, page numbers, page sizes and sort columns answer 400/404.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import ModelView, expose
from flask_appbuilder.const import FLAMSG_ERR_SEC_ACCESS_DENIED
from flask_appbuilder.urltools import get_order_args
from flask_babel import lazy_gettext as _
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.wrappers import Response
from wtforms import Form

from app.models.base import ModelValidationError
from app.ops.outages import DATABASE_DOWN
from app.services.scope import ORGANISATION_BASE_FILTERS, current_user, organisation_for_new_rows
from app.services.validation import validate_item
from app.views.fields import name_blank_choices, parse_id, use_date_inputs
from app.views.labels import date_formatter
from app.views.list_screen import ListScreen
from app.views.related import ScopedRelatedFields

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 100
# FAB's list argument "agency equal to" (filter 0 of a relation) on lists that offer it.
AGENCY_FILTER = "_flt_0_organisation"
MAX_PAGE = 100_000
PAGE_ARG = re.compile(r"^(page|psize)_(.+)$")
NUMBER = re.compile(r"^[0-9]{1,6}$")


class GuardedModelView(ScopedRelatedFields, ListScreen, ModelView):
    """FAB's ModelView with the doors above closed; see the module docstring.

    Its lists keep the user's last sort and unbroken cells (app/views/list_screen.py).
    """

    page_size = 25
    list_template = "screens/list.html"
    add_template = "screens/add.html"
    edit_template = "screens/edit.html"

    invalid_form_message = _("The form has errors: please correct the fields shown below.")
    delete_integrity_error_message = _("This record is still used by other records.")
    database_error_message = _("The database could not save the change. Please try again.")
    # Unique constraint name -> (form field, message) for duplicates the form did not catch.
    unique_constraints: dict[str, tuple[str, Any]] = {}

    # --- hooks: invariants --------------------------------------------------
    def pre_add(self, item: Any) -> None:
        self.check_unique(item)
        validate_item(self.datamodel.session, item)

    def pre_update(self, item: Any) -> None:
        self.check_unique(item)
        validate_item(self.datamodel.session, item)

    def check_unique(self, item: Any) -> None:
        """Raise ModelValidationError when the item duplicates another row."""

    def _init_properties(self) -> None:
        super()._init_properties()
        # Every date and datetime cell in the reader's format and time zone, even on
        # screens that name no formatter for it (FAB prints ISO UTC with microseconds).
        dates = {
            name: date_formatter
            for name in [*self.list_columns, *self.show_columns]
            if self.datamodel.is_date(name) or self.datamodel.is_datetime(name)
        }
        self.formatters_columns = {**dates, **(self.formatters_columns or {})}

    def _init_forms(self) -> None:
        super()._init_forms()
        for form in (self.add_form, self.edit_form, self.search_form):
            name_blank_choices(form)
            use_date_inputs(form)

    # --- CRUD doors ---------------------------------------------------------
    def _list(self, **kwargs: Any) -> Any:
        self._check_list_arguments()
        try:
            return super()._list(**kwargs)
        except DATABASE_DOWN:
            raise  # not the user's request: 503 (app/ops/outages.py)
        except SQLAlchemyError:
            # A filter value the column cannot hold (an unknown enum value, text for a
            # number on PostgreSQL): the user's request is wrong, not the server.
            self.datamodel.session.rollback()
            log.info("list filter refused on %s", self.__class__.__name__, exc_info=True)
            abort(400)

    def _show(self, pk: Any) -> Any:
        self._check_list_arguments()
        return super()._show(self._parse_pk(pk))

    def _add(self) -> Any:
        form = self.add_form.refresh()
        if request.method == "POST":
            if form.validate():
                self.process_form(form, True)
                item = self.datamodel.obj()
                if self._save(form, item, self.pre_add):
                    self.post_add(item)
                    flash(str(self.add_row_message), "success")
                    return None
            else:
                self._report_model_errors(form, self.datamodel.obj())
        else:
            self.prefill_add_form(form)
            self.update_redirect()
        return self._get_add_widget(form=form)

    def _edit(self, pk: Any) -> Any:
        self._check_list_arguments()
        item = self.datamodel.get(self._parse_pk(pk), self._base_filters)
        if item is None:
            abort(404)
        pk = self.datamodel.get_pk_value(item)
        if request.method == "POST":
            form = self.edit_form.refresh()
            form._id = pk  # FAB's Unique validator skips the row being edited
            if form.validate():
                self.process_form(form, False)
                if self._save(form, item, self.pre_update):
                    self.post_update(item)
                    flash(str(self.edit_row_message), "success")
                    return None
            else:
                self._report_model_errors(form, item)
        else:
            form = self.edit_form.refresh(obj=item)
            self.prefill_form(form, pk)
            self.update_redirect()
        widgets = self._get_edit_widget(form=form)
        return self._get_related_views_widgets(
            item,
            filters={},
            orders=get_order_args(),
            pages=self._page_args("page"),
            page_sizes=self._page_args("psize"),
            widgets=widgets,
        )

    def _delete(self, pk: Any) -> None:
        item = self.datamodel.get(self._parse_pk(pk), self._base_filters)
        if item is None:
            abort(404)
        session = self.datamodel.session
        try:
            self.pre_delete(item)
            session.delete(item)
            session.commit()
        except ValueError as error:  # ModelValidationError, or a refusal from pre_delete
            session.rollback()
            for message in _messages(error):
                flash(message, "danger")
            return
        except IntegrityError:
            session.rollback()
            flash(str(self.delete_integrity_error_message), "danger")
            return
        except SQLAlchemyError:
            session.rollback()
            log.exception("delete failed on %s", self.__class__.__name__)
            flash(str(self.database_error_message), "danger")
            return
        self.post_delete(item)
        flash(str(self.delete_row_message), "success")
        self.update_redirect()

    def prefill_add_form(self, form: Form) -> None:
        """Override to fill the add form from the request (e.g. the related row's filter)."""

    # --- actions: only on rows the user may see -----------------------------
    @expose("/action/<string:name>/<pk>", methods=["POST"])
    def action(self, name: str, pk: str) -> Response:
        return self._run_action(name, [pk])

    @expose("/action_post", methods=["POST"])
    def action_post(self) -> Response:
        return self._run_action(request.form.get("action", ""), request.form.getlist("rowid"))

    def _run_action(self, name: str, raw_pks: list[str]) -> Response:
        if current_user() is None:
            return redirect(url_for(self.appbuilder.sm.auth_view.endpoint + ".login"))
        action = self.actions.get(name)
        permission = self.get_action_permission_name(name) if action else None
        if action is None or not self.appbuilder.sm.has_access(
            permission, self.class_permission_name
        ):
            flash(str(FLAMSG_ERR_SEC_ACCESS_DENIED), "danger")
            return redirect(self.get_redirect())
        ids = {parse_id(raw) for raw in raw_pks[:MAX_PAGE_SIZE]} - {None}
        return action.func(self.scoped_items(ids))

    def scoped_items(self, ids: set[int]) -> list[Any]:
        """The rows with these ids that the user may see (others are silently left out)."""
        if not ids:
            return []
        query = self.datamodel.session.query(self.datamodel.obj)
        query = self._base_filters.apply_all(query)
        return query.filter(self.datamodel.obj.id.in_(ids)).all()

    # --- helpers ------------------------------------------------------------
    def _save(self, form: Form, item: Any, prepare: Any) -> bool:
        """Copy the form onto the item, validate and commit; on failure show why and roll back."""
        session = self.datamodel.session
        # No autoflush: a half-copied row must not reach the database while we validate it.
        with session.no_autoflush:
            errors = populate_item(form, item)
            if not errors:
                try:
                    prepare(item)
                except ModelValidationError as error:
                    errors = dict(error.errors)
                except ValueError as error:  # FAB's contract: pre_add/pre_update refuse by raising
                    errors = {"": str(error)}
        if not errors:
            try:
                session.add(item)
                session.commit()
                return True
            except IntegrityError as error:
                errors = self._integrity_errors(error)
            except SQLAlchemyError:
                log.exception("save failed on %s", self.__class__.__name__)
                errors = {"": str(self.database_error_message)}
        session.rollback()
        show_errors(form, errors, self.invalid_form_message)
        return False

    def _report_model_errors(self, form: Form, item: Any) -> None:
        """The form is invalid: still run the model's field checks on the valid fields,
        so the user sees every error at once, then discard the copied values."""
        session = self.datamodel.session
        with session.no_autoflush:
            errors = populate_item(
                form, item, skip={name for name, f in form._fields.items() if f.errors}
            )
        session.rollback()
        show_errors(form, errors, self.invalid_form_message)

    def _integrity_errors(self, error: IntegrityError) -> dict[str, str]:
        text = str(error.orig)
        for constraint, (field, message) in self.unique_constraints.items():
            if constraint in text:
                return {field: str(message)}
        log.info("integrity error on %s: %s", self.__class__.__name__, error.orig)
        return {"": str(_("This record conflicts with an existing one."))}

    def _parse_pk(self, pk: Any) -> int:
        parsed = parse_id(pk)
        if parsed is None:
            abort(404)
        return parsed

    def _page_args(self, prefix: str) -> dict[str, int]:
        return {
            match.group(2): int(value)
            for key, value in request.args.items()
            if (match := PAGE_ARG.match(key)) and match.group(1) == prefix
        }

    def _check_list_arguments(self) -> None:
        """Refuse page, page size and sort arguments FAB would turn into a 500."""
        for key, value in request.args.items():
            match = PAGE_ARG.match(key)
            if match is None:
                continue
            if not NUMBER.match(value):
                abort(400)
            number = int(value)
            if (match.group(1) == "psize" and not 1 <= number <= MAX_PAGE_SIZE) or (
                number > MAX_PAGE
            ):
                abort(400)
        views = {type(self).__name__: self}
        views.update({type(view).__name__: view for view in self._related_views})
        for view_name, (column, _direction) in get_order_args().items():
            view = views.get(view_name)
            if view is not None and column not in view.order_columns:
                abort(400)


class OrganisationModelView(GuardedModelView):
    """Shows and writes only the rows of the user's organisation (app.services.scope)."""

    base_filters = ORGANISATION_BASE_FILTERS

    def pre_add(self, item: Any) -> None:
        # A forged organisation_id cannot come in: the forms have no such field.
        item.organisation_id = organisation_for_new_rows()
        if item.organisation_id is None:
            raise ModelValidationError({"": str(_("Your account belongs to no organisation."))})
        super().pre_add(item)


def _messages(error: ValueError) -> list[str]:
    if isinstance(error, ModelValidationError):
        return list(error.errors.values())
    return [str(error)]


def populate_item(form: Form, item: Any, skip: set[str] | None = None) -> dict[str, str]:
    """Copy every field (but ``skip``) onto the item, collecting each model validation error.

    WTForms' populate_obj stops at the first field whose @validates raises; going
    field by field reports every invalid field at once.
    """
    errors: dict[str, str] = {}
    for name, field in form._fields.items():
        if skip and name in skip:
            continue
        try:
            field.populate_obj(item, name)
        except ModelValidationError as error:
            errors.update(error.errors)
        except ValueError:  # a model check that does not speak our error type: no raw text
            log.info("value refused by the model for %s", name, exc_info=True)
            errors[name] = str(_("Invalid value."))
    return errors


def show_errors(form: Form, errors: dict[str, str], summary: Any) -> None:
    """Put each message beside its field; flash the ones that belong to no field."""
    flash(str(summary), "danger")
    for field_name, message in errors.items():
        field = form._fields.get(field_name)
        if field is None or field_name == "csrf_token":
            flash(message, "danger")
        else:
            field.errors = [*field.errors, message]
