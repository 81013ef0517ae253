"""FAB's permission questions, each asked in one SQL statement.

FAB answers "may this user do X on view Y?" by loading the user's roles, then
their groups (two lazy loads), then asking whether one of those roles holds
the permission; and "is X on Y public?" by loading the Public role, then all of
its permissions. Here each question is one EXISTS over FAB's association
tables, always read fresh from the database: a permission taken from a role, a
role taken from a user or a group, or a role renamed, counts from the very next
request. Only app/security.py calls these.
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.security.sqla.models import (
    Permission,
    PermissionView,
    Role,
    ViewMenu,
    assoc_group_role,
    assoc_permissionview_role,
    assoc_user_group,
    assoc_user_role,
)
from sqlalchemy import Select, bindparam, exists, literal, select, union_all
from sqlalchemy.orm import Session

_pv = PermissionView.__table__
_pvr = assoc_permissionview_role
_permission = Permission.__table__
_view_menu = ViewMenu.__table__
_role = Role.__table__


def _granted_to(role_ids: Any) -> Any:
    """EXISTS: one of ``role_ids`` holds :permission on :view."""
    return exists(
        select(literal(1))
        .select_from(
            _pvr.join(_pv, _pv.c.id == _pvr.c.permission_view_id)
            .join(_permission, _permission.c.id == _pv.c.permission_id)
            .join(_view_menu, _view_menu.c.id == _pv.c.view_menu_id)
        )
        .where(
            _pvr.c.role_id.in_(role_ids),
            _permission.c.name == bindparam("permission"),
            _view_menu.c.name == bindparam("view"),
        )
    )


def _user_role_ids() -> Select:
    """The roles of :user_id, given directly or through groups (as FAB counts them)."""
    roles = union_all(
        select(assoc_user_role.c.role_id).where(assoc_user_role.c.user_id == bindparam("user_id")),
        select(assoc_group_role.c.role_id)
        .join(assoc_user_group, assoc_user_group.c.group_id == assoc_group_role.c.group_id)
        .where(assoc_user_group.c.user_id == bindparam("user_id")),
    ).subquery("user_roles")
    return select(roles.c.role_id)


def _role_named() -> Select:
    return select(_role.c.id).where(_role.c.name == bindparam("role_name"))


# Built once: only the parameters change from one request to the next.
USER_HAS_PERMISSION = select(_granted_to(_user_role_ids()))
ROLE_HAS_PERMISSION = select(_granted_to(_role_named()))


def user_has_permission(session: Session, user_id: int, permission: str, view: str) -> bool:
    """Does the user, through a role or a group's role, hold ``permission`` on ``view``?"""
    parameters = {"user_id": user_id, "permission": permission, "view": view}
    return bool(session.execute(USER_HAS_PERMISSION, parameters).scalar())


def role_has_permission(session: Session, role_name: str, permission: str, view: str) -> bool:
    """Does the role called ``role_name`` hold ``permission`` on ``view``?"""
    parameters = {"role_name": role_name, "permission": permission, "view": view}
    return bool(session.execute(ROLE_HAS_PERMISSION, parameters).scalar())
