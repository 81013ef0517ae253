"""The "Users" screen and FAB's password forms, on the same rules as /api/v1/user/.

FAB's user screen (UserDBModelView) is kept for what it does well — the list,
the profile page, "reset password" — and plugged into the security manager
with our changes (app/security.py):
- the rows are the accounts the user may manage (app.services.users): an
  ADMIN sees their organisation's accounts, never a SUPERADMIN's; others 404;
- one role per account, chosen among the roles the user may grant;
- saving goes through app.services.users, so every rule of the API holds here;
- passwords, here and in FAB's two reset forms, follow app.services.passwords.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, Select2Widget
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.forms import ResetPasswordForm
from flask_appbuilder.security.views import (
    ResetMyPasswordView,
    ResetPasswordView,
    UserDBModelView,
)
from flask_babel import lazy_gettext as _
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.wrappers import Response
from wtforms import Form, PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo, StopValidation

from app.extensions import db
from app.models import AppUser
from app.models.base import ModelValidationError
from app.services.passwords import MAX_LENGTH, MIN_LENGTH, password_problem
from app.services.roles import ADMIN, MANAGER, SUPERADMIN, USER
from app.services.scope import current_user
from app.services.users import (
    GENERAL,
    USER_BASE_FILTERS,
    assignable_roles,
    create_user,
    delete_user,
    manageable_users_clause,
    role_of,
    update_user,
)
from app.views.base import GuardedModelView, show_errors
from app.views.fields import parse_id
from app.views.labels import yes_no

ROLE_LABELS = {
    USER: _("User"),
    MANAGER: _("Manager"),
    ADMIN: _("Administrator"),
    SUPERADMIN: _("Super administrator"),
}
PASSWORD_HELP = _(
    "At least %(min)d characters (up to %(max)d), not a common password: "
    "a sentence of a few words is easy to remember.",
    min=MIN_LENGTH,
    max=MAX_LENGTH,
)


def roles_label(roles: Any) -> str:
    """A user's roles as words ("Responsable"), not the list's repr ("[MANAGER]")."""
    return ", ".join(str(ROLE_LABELS.get(role.name, role.name)) for role in roles or ())


# Where the service's field names differ from the form's.
FORM_FIELD = {"organisation_id": "organisation"}


class PasswordPolicy:
    """WTForms validator running app.services.passwords on the field."""

    def __init__(self, username: Callable[[Form], str | None]) -> None:
        self.username = username

    def __call__(self, form: Form, field: Any) -> None:
        problem = password_problem(field.data, self.username(form))
        if problem is not None:
            raise StopValidation(problem)


def password_field(username: Callable[[Form], str | None]) -> Any:
    """A new-password field checked by the policy; ``username(form)`` names the account."""
    return PasswordField(
        _("Password"),
        description=PASSWORD_HELP,
        validators=[DataRequired(), PasswordPolicy(username)],
        widget=BS3PasswordFieldWidget(),
    )


def confirmation_field() -> Any:
    return PasswordField(
        _("Confirm password"),
        validators=[EqualTo("password", message=_("Passwords must match"))],
        widget=BS3PasswordFieldWidget(),
    )


def _role_choices() -> list[tuple[str, Any]]:
    return [(name, ROLE_LABELS[name]) for name in assignable_roles(current_user())]


def _form_username(form: Form) -> str | None:
    return form.username.data if "username" in form else None


# Choices are read when each form is built: the roles the current user may grant.
ROLE_FIELD = SelectField(_("Role"), choices=_role_choices, widget=Select2Widget())


class OrganisationUserView(GuardedModelView, UserDBModelView):
    """FAB's user screen, limited to the accounts the user manages (see module docstring)."""

    # Keep FAB's permission name: roles and self-service grants refer to it.
    class_permission_name = "UserDBModelView"
    base_filters = USER_BASE_FILTERS
    list_title = _("Users")
    show_title = _("User")
    add_title = _("New user")
    edit_title = _("Edit user")

    list_columns = [
        "first_name",
        "last_name",
        "username",
        "email",
        "organisation",
        "roles",
        "active",
    ]
    add_columns = [
        "first_name",
        "last_name",
        "username",
        "email",
        "role",
        "organisation",
        "active",
        "password",
        "conf_password",
    ]
    edit_columns = [
        "first_name",
        "last_name",
        "username",
        "email",
        "role",
        "organisation",
        "active",
    ]
    search_columns = [
        "username",
        "first_name",
        "last_name",
        "email",
        "organisation",
        "roles",
        "active",
    ]
    order_columns = ["username", "first_name", "last_name", "email", "active"]
    base_order = ("username", "asc")
    show_fieldsets = [
        (
            _("Account"),
            {
                "fields": [
                    "username",
                    "active",
                    "roles",
                    "organisation",
                    "last_login",
                    "login_count",
                ]
            },
        ),
        (_("Identity"), {"fields": ["first_name", "last_name", "email"], "expanded": True}),
    ]
    label_columns = {
        "first_name": _("First name"),
        "last_name": _("Last name"),
        "username": _("User name"),
        "email": _("E-mail"),
        "organisation": _("Organisation"),
        "roles": _("Role"),
        "role": _("Role"),
        "active": _("Active account"),
        "password": _("Password"),
        "conf_password": _("Confirm password"),
        "last_login": _("Last login"),
        "login_count": _("Login count"),
        "get_full_name": _("Full name"),
    }
    description_columns = {
        "active": _("An inactive account cannot log in; its history is kept."),
        "organisation": _("Required for every role except SUPERADMIN."),
    }
    formatters_columns = {"roles": roles_label, "active": yes_no}
    validators_columns: dict[str, Any] = {}
    add_form_extra_fields = {
        "role": ROLE_FIELD,
        "password": password_field(_form_username),
        "conf_password": confirmation_field(),
    }
    edit_form_extra_fields = {"role": ROLE_FIELD}

    # --- show: FAB's own route, with the id checked first -----------------------
    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk: Any) -> Response:
        parsed = parse_id(pk)
        if parsed is None:
            abort(404)
        return UserDBModelView.show(self, parsed)

    def prefill_form(self, form: Form, pk: Any) -> None:
        item = self.datamodel.get(pk, self._base_filters)
        form.role.data = role_of(item)

    def prefill_add_form(self, form: Form) -> None:
        # The usual case: a new user of the administrator's own organisation.
        form.role.data = USER
        form.active.data = True
        form.organisation.data = getattr(current_user(), "organisation", None)

    # --- saving through the users service ----------------------------------------
    def _save(self, form: Form, item: AppUser, prepare: Any) -> bool:
        session = self.datamodel.session
        actor = current_user()
        changes = _changes_from(form)
        try:
            with session.no_autoflush:
                if item.id is None:
                    create_user(session, actor, changes, user=item)
                else:
                    update_user(session, actor, item, changes)
            session.commit()
            return True
        except ModelValidationError as error:
            errors = {FORM_FIELD.get(key, key): str(msg) for key, msg in error.errors.items()}
        except IntegrityError as error:
            errors = self._integrity_errors(error)
        except SQLAlchemyError:
            errors = {GENERAL: str(self.database_error_message)}
        session.rollback()
        show_errors(form, errors, self.invalid_form_message)
        return False

    def pre_delete(self, item: AppUser) -> None:
        delete_user(self.datamodel.session, current_user(), item)

    # --- actions: FAB's, fed by GuardedModelView's scoped list of rows ------------
    @action("resetpasswords", _("Reset password"), "", "fa-lock", multiple=False)
    def resetpasswords(self, items: Any) -> Response:
        item = _single(items)
        view = self.appbuilder.sm.resetpasswordview.__name__
        return redirect(url_for(view + ".this_form_get", pk=item.id))


def _single(items: Any) -> Any:
    rows = items if isinstance(items, list) else [items]
    if len(rows) != 1 or rows[0] is None:
        abort(404)
    return rows[0]


def _changes_from(form: Form) -> dict[str, Any]:
    changes: dict[str, Any] = {
        name: form[name].data
        for name in ("first_name", "last_name", "username", "email", "role", "active", "password")
        if name in form
    }
    organisation = form["organisation"].data if "organisation" in form else None
    changes["organisation_id"] = getattr(organisation, "id", None)
    changes["active"] = bool(changes.get("active"))
    return changes


# --- FAB's password forms, with the policy ----------------------------------------


def _target_user() -> AppUser | None:
    """The account named by ?pk=, if the current user may manage it."""
    pk = parse_id(request.args.get("pk", ""))
    if pk is None:
        return None
    clause = manageable_users_clause(current_user())
    return db.session.query(AppUser).filter(AppUser.id == pk, clause).one_or_none()


class PolicyResetPasswordForm(ResetPasswordForm):
    password = password_field(lambda _form: getattr(_target_user(), "username", None))
    conf_password = confirmation_field()


class PolicyResetMyPasswordForm(ResetPasswordForm):
    password = password_field(lambda _form: getattr(current_user(), "username", None))
    conf_password = confirmation_field()


class ScopedResetPasswordView(ResetPasswordView):
    """Set another user's password: only for an account the user manages (else 404)."""

    class_permission_name = "ResetPasswordView"
    form = PolicyResetPasswordForm

    @expose("/form", methods=["GET"])
    @has_access
    def this_form_get(self) -> Response:
        if _target_user() is None:
            abort(404)
        return ResetPasswordView.this_form_get(self)

    @expose("/form", methods=["POST"])
    @has_access
    def this_form_post(self) -> Response:
        if _target_user() is None:
            abort(404)
        return ResetPasswordView.this_form_post(self)

    def form_post(self, form: Form) -> Response | None:
        user = _target_user()
        try:
            update_user(db.session, current_user(), user, {"password": form.password.data})
            db.session.commit()
        except ModelValidationError as error:
            db.session.rollback()
            for message in error.errors.values():
                flash(str(message), "danger")
            return None
        flash(str(self.message), "info")
        return redirect(url_for(f"{OrganisationUserView.__name__}.show", pk=user.id))


class PolicyResetMyPasswordView(ResetMyPasswordView):
    """FAB's "reset my password", with the password policy."""

    class_permission_name = "ResetMyPasswordView"
    form = PolicyResetMyPasswordForm
