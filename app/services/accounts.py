"""Administrator accounts: the first one on a fresh install, more from the CLI."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask_appbuilder import AppBuilder

from app.models import Organisation
from app.services.passwords import PasswordPolicyError
from app.services.passwords import check_password as check_password_policy
from app.services.roles import SUPERADMIN


class AccountError(ValueError):
    """An account cannot be created as asked; the message says why."""


@dataclass(frozen=True)
class CreatedAdmin:
    username: str
    password: str | None  # set only when we generated it: shown once, never stored in clear


def generate_password() -> str:
    """16 random URL-safe characters (96 bits)."""
    return secrets.token_urlsafe(12)


def check_password(password: str, username: str | None = None) -> None:
    """The product's password policy (app.services.passwords), as an AccountError."""
    try:
        check_password_policy(password, username)
    except PasswordPolicyError as error:
        raise AccountError(error.message) from None


def create_admin(
    appbuilder: AppBuilder,
    username: str,
    password: str,
    organisation_id: int | None = None,
) -> None:
    """Create a SUPERADMIN account; AccountError if the name is taken or the input is bad."""
    sm = appbuilder.sm
    username = username.strip()
    if not username or len(username) > 64:
        raise AccountError("the username needs 1 to 64 characters")
    check_password(password, username)
    if sm.find_user(username=username) is not None:
        raise AccountError(f"a user named {username!r} already exists")
    if organisation_id is not None and sm.session.get(Organisation, organisation_id) is None:
        raise AccountError(f"no organisation has the id {organisation_id}")
    role = sm.find_role(SUPERADMIN)
    if role is None:
        raise AccountError("the SUPERADMIN role is missing: run `flask monassurance sync-roles`")
    user = sm.add_user(
        username=username,
        first_name="Admin",
        last_name="MonAssurance",
        # FAB requires a unique e-mail; .invalid can never be delivered to anyone.
        email=f"{username}@monassurance.invalid",
        role=role,
        password=password,
    )
    if not user:
        sm.session.rollback()
        raise AccountError(f"could not create the administrator {username!r} (see the log)")
    user.organisation_id = organisation_id
    sm.session.commit()


def ensure_first_admin(
    appbuilder: AppBuilder,
    username: str,
    password: str | None,
    organisation_id: int | None,
) -> CreatedAdmin | None:
    """Create the first SUPERADMIN unless any user exists; generate a password if none is given."""
    if appbuilder.sm.count_users():
        return None
    generated = password is None
    password = generate_password() if password is None else password
    create_admin(appbuilder, username, password, organisation_id)
    return CreatedAdmin(username=username, password=password if generated else None)
