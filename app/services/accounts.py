"""The first administrator and other account set-up."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask_appbuilder import AppBuilder

from app.services.roles import SUPERADMIN


@dataclass(frozen=True)
class CreatedAdmin:
    username: str
    password: str | None  # set only when we generated it: shown once, never stored in clear


def ensure_first_admin(
    appbuilder: AppBuilder,
    username: str,
    password: str | None,
    organisation_id: int | None,
) -> CreatedAdmin | None:
    """Create the SUPERADMIN account unless one user already exists."""
    sm = appbuilder.sm
    if sm.count_users():
        return None
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    user = sm.add_user(
        username=username,
        first_name="Admin",
        last_name="MonAssurance",
        email=f"{username}@monassurance.invalid",
        role=sm.find_role(SUPERADMIN),
        password=password,
    )
    if not user:
        raise RuntimeError(f"could not create the administrator {username!r}")
    user.organisation_id = organisation_id
    sm.session.commit()
    return CreatedAdmin(username=username, password=password if generated else None)
