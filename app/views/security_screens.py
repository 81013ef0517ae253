"""FAB's technical security screens, kept for SUPERADMIN under Administration.

FAB registers roles, groups, permissions and views/menus under its own "Security"
menu, beside ours. We move those entries into Administration with labels of our
own; each entry keeps FAB's name, so its "menu_access" permission (and the role
sync in app/services/roles.py) stays the same. The role, group and permission
screens are FAB's (same class names, so the same permissions), with labels for
the columns FAB leaves to its English default.
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder import AppBuilder
from flask_appbuilder.security import views as fab_views
from flask_babel import lazy_gettext as _

# FAB's menu entry name -> our label, in the order they follow our own entries.
TECHNICAL_ENTRIES: dict[str, Any] = {
    "List Roles": _("Roles"),
    "List Groups": _("Groups"),
    "Base Permissions": _("Permissions"),
    "Views/Menus": _("Views and menus"),
    "Permission on Views/Menus": _("Permissions by view"),
}
USERS_ENTRY = "List Users"
FAB_CATEGORY = "Security"


class RoleModelView(fab_views.RoleModelView):
    # FAB's class name: its permissions and endpoints are named after it.
    label_columns = {
        **fab_views.RoleModelView.label_columns,
        "user": _("Users"),
        "groups": _("Groups"),
    }


class UserGroupModelView(fab_views.UserGroupModelView):
    label_columns = {
        "name": _("Name"),
        "label": _("Label"),
        "description": _("Description"),
        "users": _("Users"),
        "roles": _("Roles"),
    }


class PermissionViewModelView(fab_views.PermissionViewModelView):
    label_columns = {**fab_views.PermissionViewModelView.label_columns, "role": _("Roles")}


def place_security_menus(appbuilder: AppBuilder, category: str) -> None:
    """Move FAB's security entries into ``category`` and drop FAB's "Security" menu.

    The users screen leads the category (ADMIN manages users); the technical
    screens, which only SUPERADMIN holds, close it.
    """
    menu = appbuilder.menu
    target = menu.find(category)
    if target is None:
        menu.add_category(category, icon="fa-cogs", label=_("Administration"))
        target = menu.find(category)
    users = _detach(appbuilder, USERS_ENTRY)
    if users is not None:
        users.label = _("Users")
        users.icon = "fa-user"
        target.childs.insert(0, users)
    for name, label in TECHNICAL_ENTRIES.items():
        entry = _detach(appbuilder, name)
        if entry is not None:
            entry.label = label
            target.childs.append(entry)
    security = menu.find(FAB_CATEGORY)
    if security is not None and all(child.name == "-" for child in security.childs):
        menu.menu.remove(security)  # only FAB's separator was left in it


def _detach(appbuilder: AppBuilder, name: str) -> Any:
    """The menu entry ``name``, taken out of its category (None when FAB did not add it)."""
    entry = appbuilder.menu.find(name)
    if entry is None:
        return None
    for parent in appbuilder.menu.get_list():
        if entry in parent.childs:
            parent.childs.remove(entry)
    return entry
