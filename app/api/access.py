"""FAB's permission questions, answered from permission sets read in one SQL statement.

FAB answers "may this user do X on view Y?" by loading the user's roles, then
their groups (two lazy loads), then asking whether one of those roles holds
the permission; and "is X on Y public?" by loading the Public role, then all of
its permissions. A screen asks one such question per menu entry and button (15
on the policy list). Here the user's whole set of (permission, view) pairs, through
roles direct or through groups, is one SELECT over FAB's association tables, and
so is the Public role's; app/security.py reads each at most once per request and
never keeps it longer: a permission taken from a role, a role taken from a user or
a group, or a role renamed, counts from the very next request. Only
app/security.py calls these.
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
from sqlalchemy import Select, bindparam, select, union_all
from sqlalchemy.orm import Session

_pv = PermissionView.__table__
_pvr = assoc_permissionview_role
_permission = Permission.__table__
_view_menu = ViewMenu.__table__
_role = Role.__table__


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


def _pairs_granted_to(role_ids: Any) -> Select:
    """SELECT (permission, view) held by one of ``role_ids``."""
    return (
        select(_permission.c.name, _view_menu.c.name)
        .select_from(
            _pvr.join(_pv, _pv.c.id == _pvr.c.permission_view_id)
            .join(_permission, _permission.c.id == _pv.c.permission_id)
            .join(_view_menu, _view_menu.c.id == _pv.c.view_menu_id)
        )
        .where(_pvr.c.role_id.in_(role_ids))
    )  # no DISTINCT: a pair held through two roles is folded by the frozenset


# Built once: only the parameters change from one request to the next.
USER_PERMISSIONS = _pairs_granted_to(_user_role_ids())
ROLE_PERMISSIONS = _pairs_granted_to(_role_named())

# (permission name, view name), as FAB names them: ("can_read", "Policy").
Pairs = frozenset[tuple[str, str]]


def user_permissions(session: Session, user_id: int) -> Pairs:
    """Every (permission, view) the user holds, through a role or a group's role."""
    rows = session.execute(USER_PERMISSIONS, {"user_id": user_id})
    return frozenset((permission, view) for permission, view in rows)


def role_permissions(session: Session, role_name: str) -> Pairs:
    """Every (permission, view) the role called ``role_name`` holds."""
    rows = session.execute(ROLE_PERMISSIONS, {"role_name": role_name})
    return frozenset((permission, view) for permission, view in rows)
