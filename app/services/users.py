"""Accounts of an organisation: who may see, create, change or remove which user.

One set of rules for every door (REST API, screens). The functions take the
acting user explicitly and never commit: the caller owns the transaction, and
the audit listener records the change in it.

Rules:
- SUPERADMIN manages every account; any other manager (ADMIN) manages the
  accounts of their own organisation, and never sees a SUPERADMIN account.
- Nobody grants a role above their own; nobody changes their own role,
  deactivates or deletes their own account.
- An ADMIN cannot put a user in another organisation: a different
  ``organisation_id`` is refused (422), a missing or null one means their own.
- Every account but a SUPERADMIN belongs to an organisation.
- User names and e-mail addresses are unique whatever their case.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.sqla.models import Role
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Query, Session

from app.models import AppUser, Organisation
from app.models.base import GENERAL, ModelValidationError
from app.models.validators import clean_email, clean_text
from app.services.passwords import hash_password, password_problem
from app.services.roles import ADMIN, MANAGER, ROLE_NAMES, SUPERADMIN, USER
from app.services.scope import current_user, is_superadmin

ROLE_RANK = {USER: 0, MANAGER: 1, ADMIN: 2, SUPERADMIN: 3}
USER_FIELDS = (
    "username",
    "first_name",
    "last_name",
    "email",
    "password",
    "role",
    "organisation_id",
    "active",
)
USERNAME_PATTERN = re.compile(r"^[^\s\x00-\x1f\x7f]+$")
# Lengths of FAB's ab_user columns.
MAX_LENGTHS = {"username": 128, "first_name": 64, "last_name": 64}
MAX_ID = 2**31 - 1  # ids are SQL INTEGER


# --- who sees whom -------------------------------------------------------------


def role_of(user: Any) -> str | None:
    """The user's role among the four (the highest, should an account hold several)."""
    names = [role.name for role in getattr(user, "roles", []) if role.name in ROLE_RANK]
    return max(names, key=ROLE_RANK.__getitem__) if names else None


def assignable_roles(actor: Any) -> tuple[str, ...]:
    """The roles ``actor`` may give: their own and those below; SUPERADMIN all four."""
    rank = ROLE_RANK.get(role_of(actor) or "", -1)
    return tuple(name for name in ROLE_NAMES if ROLE_RANK[name] <= rank)


def manageable_users_clause(actor: Any) -> Any:
    """SQL condition on AppUser: the accounts ``actor`` may see (always their own)."""
    if is_superadmin(actor):
        return True
    if actor is None:
        return False
    same_organisation = and_(
        AppUser.organisation_id == actor.organisation_id,
        AppUser.organisation_id.is_not(None),
        ~AppUser.roles.any(Role.name == SUPERADMIN),
    )
    return or_(AppUser.id == actor.id, same_organisation)


class FilterManageableUsers(BaseFilter):
    """FAB base filter: the accounts the current user may see (screens and API)."""

    name = "Manageable users"

    def apply(self, query: Query, value: Any) -> Query:
        return query.filter(manageable_users_clause(current_user()))


USER_BASE_FILTERS = [["id", FilterManageableUsers, None]]


def find_role(session: Session, name: str) -> Role | None:
    return session.scalar(select(Role).where(Role.name == name))


# --- changes -------------------------------------------------------------------


def create_user(
    session: Session, actor: Any, changes: Mapping[str, Any], user: AppUser | None = None
) -> AppUser:
    """Validate ``changes`` (every field but ``active`` required) and add the new user.

    ``user`` is a new, empty AppUser to fill (screens build one), else one is made.
    """
    user = user if user is not None else AppUser()
    _apply(session, actor, user, {"active": True, **changes}, creating=True)
    user.created_by_fk = getattr(actor, "id", None)
    session.add(user)
    return user


def update_user(session: Session, actor: Any, user: AppUser, changes: Mapping[str, Any]) -> None:
    """Apply the fields present in ``changes`` (a partial update) if every rule allows it."""
    _check_may_manage(actor, user)
    _apply(session, actor, user, changes, creating=False)


def delete_user(session: Session, actor: Any, user: AppUser) -> None:
    """Remove the account; the audit trail keeps its id and name (it has no foreign key)."""
    _check_may_manage(actor, user)
    if user.id == getattr(actor, "id", None):
        raise ModelValidationError({GENERAL: _("You cannot delete your own account.")})
    # FAB's "created by"/"changed by" columns would block the delete; they are
    # bookkeeping only (the audit trail is the record), so they let go of the user.
    for column in (AppUser.created_by_fk, AppUser.changed_by_fk):
        session.execute(update(AppUser).where(column == user.id).values({column.key: None}))
    session.delete(user)


def _check_may_manage(actor: Any, user: AppUser) -> None:
    # The base filters already hide these accounts; this guards callers without them.
    outranked = ROLE_RANK.get(role_of(user) or "", 0) > ROLE_RANK.get(role_of(actor) or "", -1)
    if not may_see(actor, user) or outranked:
        raise ModelValidationError({GENERAL: _("You cannot change this account.")})


def may_see(actor: Any, user: AppUser) -> bool:
    """The Python twin of manageable_users_clause, for one loaded user."""
    if is_superadmin(actor):
        return True
    if actor is None:
        return False
    if user.id is not None and user.id == actor.id:
        return True
    return (
        user.organisation_id is not None
        and user.organisation_id == actor.organisation_id
        and role_of(user) != SUPERADMIN
    )


def _apply(
    session: Session, actor: Any, user: AppUser, changes: Mapping[str, Any], *, creating: bool
) -> None:
    unknown = set(changes) - set(USER_FIELDS)
    if unknown:
        raise ModelValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    errors: dict[str, str] = {}
    is_self = user.id is not None and user.id == getattr(actor, "id", None)

    def given(name: str) -> bool:
        return creating or name in changes

    values = _checked_texts(session, user, changes, errors, given)
    role = _checked_role(actor, user, changes, errors, creating=creating, is_self=is_self)
    organisation_id = _checked_organisation(session, actor, user, changes, errors)
    needs_organisation = (role or role_of(user)) != SUPERADMIN and organisation_id is None
    if needs_organisation and not {"role", "organisation_id"} & errors.keys():
        errors["organisation_id"] = _(
            "Every account except a SUPERADMIN belongs to an organisation."
        )
    if given("active"):
        active = changes.get("active")
        if not isinstance(active, bool):
            errors["active"] = _("Must be true or false.")
        elif is_self and not active:
            errors["active"] = _("You cannot deactivate your own account.")
        else:
            values["active"] = active
    if given("password"):
        problem = password_problem(changes.get("password"), values.get("username", user.username))
        if problem is not None:
            errors["password"] = problem
    if errors:
        raise ModelValidationError(errors)

    changed = creating or given("password") or organisation_id != user.organisation_id
    changed = changed or any(getattr(user, name) != value for name, value in values.items())
    for name, value in values.items():
        setattr(user, name, value)
    user.organisation_id = organisation_id
    if role is not None and role != role_of(user):
        user.roles = [find_role(session, role)]
        changed = True
    if given("password"):
        user.password = hash_password(changes["password"])
    if changed:  # FAB's bookkeeping columns; an empty PUT leaves the row untouched
        user.changed_on = dt.datetime.now()
        user.changed_by_fk = getattr(actor, "id", None)


def _checked_texts(
    session: Session,
    user: AppUser,
    changes: Mapping[str, Any],
    errors: dict[str, str],
    given: Any,
) -> dict[str, Any]:
    """Cleaned names and e-mail address (only those given), checked for duplicates."""
    values: dict[str, Any] = {}
    try_clean = _cleaner(errors, values)
    for name in (*MAX_LENGTHS, "email"):
        if given(name) and not isinstance(changes.get(name), str | None):
            errors[name] = _("Must be text.")
    for name, max_length in MAX_LENGTHS.items():
        if given(name) and name not in errors:
            try_clean(
                name, clean_text, name, changes.get(name), required=True, max_length=max_length
            )
    if "username" in values and not USERNAME_PATTERN.match(values["username"]):
        errors["username"] = _("A user name cannot contain spaces.")
        del values["username"]
    if given("email") and "email" not in errors:
        try_clean("email", clean_email, "email", changes.get("email"))
        if "email" in values and values["email"] is None:
            del values["email"]
            errors["email"] = _("This field is required.")
    _check_unique(session, user, values, errors)
    return values


def _cleaner(errors: dict[str, str], values: dict[str, Any]) -> Any:
    """Run a model cleaner; keep its value, or its message as the field's error."""

    def try_clean(name: str, clean: Any, *args: Any, **kwargs: Any) -> None:
        try:
            values[name] = clean(*args, **kwargs)
        except ModelValidationError as error:
            errors.update({key: str(message) for key, message in error.errors.items()})

    return try_clean


def _check_unique(
    session: Session, user: AppUser, values: dict[str, Any], errors: dict[str, str]
) -> None:
    messages = {
        "username": _("This user name is already taken."),
        "email": _("An account with this e-mail address already exists."),
    }
    for name, message in messages.items():
        value = values.get(name)
        if value is None:
            continue
        column = getattr(AppUser, name)
        query = select(AppUser.id).where(func.lower(column) == value.lower())
        if user.id is not None:
            query = query.where(AppUser.id != user.id)
        if session.execute(query.limit(1)).first() is not None:
            errors[name] = message


def _checked_role(
    actor: Any,
    user: AppUser,
    changes: Mapping[str, Any],
    errors: dict[str, str],
    *,
    creating: bool,
    is_self: bool,
) -> str | None:
    if not creating and "role" not in changes:
        return None
    role = changes.get("role")
    if not isinstance(role, str) or role not in ROLE_RANK:
        errors["role"] = _("Choose one of: %(roles)s.", roles=", ".join(ROLE_NAMES))
        return None
    if is_self and role != role_of(user):
        errors["role"] = _("You cannot change your own role.")
        return None
    if role not in assignable_roles(actor):
        errors["role"] = _("You cannot grant the role %(role)s.", role=role)
        return None
    return role


def _checked_organisation(
    session: Session, actor: Any, user: AppUser, changes: Mapping[str, Any], errors: dict[str, str]
) -> int | None:
    """The organisation the user ends up in (errors recorded for a refused value)."""
    current = user.organisation_id
    asked = changes.get("organisation_id")
    if not is_superadmin(actor):
        own = getattr(actor, "organisation_id", None)
        if asked is not None and asked != own:
            errors["organisation_id"] = _("You can only manage the users of your organisation.")
        return own
    if "organisation_id" not in changes:
        return current
    if asked is None:
        return None
    valid_id = isinstance(asked, int) and not isinstance(asked, bool) and 1 <= asked <= MAX_ID
    if not valid_id or session.get(Organisation, asked) is None:
        errors["organisation_id"] = _("Unknown organisation.")
        return current
    return asked
