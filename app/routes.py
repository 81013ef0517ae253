"""Which of FAB's routes exist, and what their ids accept.

FAB registers routes the product never uses, and some of them crash. Every
view and API (ours and FAB's security screens) passes through
``MonAssuranceAppBuilder.register_blueprint``, which leaves out:
- FAB's ``download/<filename>`` (file columns, none here: it read an unset
  UPLOAD_FOLDER and answered 500);
- ``action/<name>/<pk>`` and ``action_post`` on views that declare no action;
- routes guarded by a permission the view does not declare (FAB's permission
  screens keep only their list), which nobody could ever be granted.
The permissions of the routes left out go too, so no grant names a missing door.

On screens, an id in the path (``<pk>``) that is not a positive 63-bit integer
answers 404 before the view runs: FAB's own screens passed any text to the
database (a 20-digit id overflowed SQLite's INTEGER: 500).
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app
from flask_appbuilder import AppBuilder
from flask_appbuilder.baseviews import BaseView
from flask_appbuilder.const import PERMISSION_PREFIX

from app.views.fields import parse_id

# FAB's handlers the product never calls, whatever the view.
FAB_ONLY_UNUSED = frozenset({"download"})
ACTION_ROUTES = frozenset({"action", "action_post"})


class MonAssuranceAppBuilder(AppBuilder):
    """FAB's AppBuilder, registering only the routes the product uses (module docstring)."""

    def register_blueprint(
        self, baseview: Any, endpoint: str | None = None, static_folder: str | None = None
    ) -> None:
        unused = unused_routes(baseview)
        if unused:
            _drop_permissions(baseview, unused)
            baseview.exclude_route_methods = set(baseview.exclude_route_methods) | unused
        blueprint = baseview.create_blueprint(self, endpoint=endpoint, static_folder=static_folder)
        if isinstance(baseview, BaseView):  # screens; the APIs answer bad ids in JSON themselves
            blueprint.url_value_preprocessor(_refuse_malformed_ids)
        current_app.register_blueprint(blueprint)


def routed_methods(view: Any) -> set[str]:
    """The names of the view's methods FAB would register as routes."""
    names = set()
    for name in dir(view):
        if view.include_route_methods is not None and name not in view.include_route_methods:
            continue
        if name not in view.exclude_route_methods and hasattr(getattr(view, name), "_urls"):
            names.add(name)
    return names


def unused_routes(view: Any) -> set[str]:
    """The route methods of ``view`` that the product does not use (module docstring)."""
    return {name for name in routed_methods(view) if _unused(view, name)}


def _unused(view: Any, name: str) -> bool:
    method = getattr(view, name)
    if name in FAB_ONLY_UNUSED:
        return method.__module__.startswith("flask_appbuilder.")  # ours (a document's) stays
    if name in ACTION_ROUTES:
        return not getattr(view, "actions", None)
    declared = view.base_permissions or ()
    return hasattr(method, "_permission_name") and _permission(view, name) not in declared


def _permission(view: Any, method_name: str) -> str:
    return PERMISSION_PREFIX + view.get_method_permission(method_name)


def _drop_permissions(view: Any, unused: set[str]) -> None:
    """Forget the permissions only the unused routes needed (others share e.g. can_read)."""
    kept = routed_methods(view) - unused
    needed = {
        _permission(view, name) for name in kept if hasattr(getattr(view, name), "_permission_name")
    }
    needed |= {
        view.get_action_permission_name(name) for name in getattr(view, "actions", None) or {}
    }
    gone = {
        _permission(view, name)
        for name in unused
        if hasattr(getattr(view, name), "_permission_name")
    } - needed
    view.base_permissions = [p for p in view.base_permissions if p not in gone]


def _refuse_malformed_ids(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    if values and "pk" in values and parse_id(values["pk"]) is None:
        abort(404)
