"""The ladder: PolicyApi with FAB's defaults back, then our changes turned on one at a time.

Registered on the benchmark's app only, at /api/v1/policy_tuned/, with PolicyApi's
permissions and everything else inherited from our PolicyApi. Each change made in
app/ (see docs/benchmarks.md) can be turned back to FAB's own code for requests to
this path; the X-Bench-Tuning request header lists the changes to keep:

- base_table:  count (and deep pages) on the policy table, app/api/interface.py;
               off: FAB's SQLAInterface.query_count / apply_all;
- schema:      ``q`` checked by a validator built once, app/api/rison.py;
               off: FAB's @rison, i.e. jsonschema.validate() on every request;
- jwt_first:   a Bearer token verified first (OrganisationModelRestApi.allow_browser_login);
               off: allow_browser_login = True, an anonymous pass before the JWT;
- permissions: the security manager's one-query checks and roles loaded with the
               user, app/security.py + app/api/access.py; off: FAB's methods.

Without the header this path is FAB with its defaults; with every step it is
/api/v1/policy/ as shipped, and the benchmark checks that every rung returns the
same body. Nothing here is used by the application itself.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from flask import Flask, has_request_context, request
from flask_appbuilder.api import expose, get_list_schema, rison, safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name, protect
from flask_appbuilder.security.sqla.manager import SecurityManager as FabSecurityManager

HEADER = "X-Bench-Tuning"
STEPS = ("base_table", "schema", "jwt_first", "permissions")
STEP_TITLES = {
    "base_table": "count on the policy table only",
    "schema": "q validator built once",
    "jwt_first": "Bearer token verified first",
    "permissions": "one query per permission check, roles loaded with the user",
}
PATH = "/api/v1/policy_tuned/"


def tuning() -> frozenset[str]:
    """The steps kept for this request; outside this path everything is as shipped."""
    if not has_request_context() or not request.path.startswith(PATH):
        return frozenset(STEPS)
    return frozenset(filter(None, request.headers.get(HEADER, "").split(",")))


def build_tuned_api() -> type:
    """The PolicyApi subclass (built lazily: the app's modules read the environment on import)."""
    from app.api.interface import ListQueryInterface
    from app.api.resources import PolicyApi
    from app.api.rison import rison_args
    from app.models import Policy

    class SwitchedInterface(ListQueryInterface):
        def query_count(self, *args: Any, **kwargs: Any) -> int:
            if "base_table" in tuning():
                return super().query_count(*args, **kwargs)
            return SQLAInterface.query_count(self, *args, **kwargs)

        def apply_all(self, *args: Any, **kwargs: Any) -> Any:
            if "base_table" in tuning():
                return super().apply_all(*args, **kwargs)
            return SQLAInterface.apply_all(self, *args, **kwargs)

    body = inspect.unwrap(PolicyApi.get_list)  # FAB's undecorated get_list
    ours = rison_args(get_list_schema)(body)
    fabs = rison(get_list_schema)(body)

    @functools.wraps(body)
    def switched_rison(self: Any, *args: Any, **kwargs: Any) -> Any:
        route = ours if "schema" in tuning() else fabs
        return route(self, *args, **kwargs)

    class TunedPolicyApi(PolicyApi):
        resource_name = "policy_tuned"
        class_permission_name = PolicyApi.class_permission_name or PolicyApi.__name__
        method_permission_name = PolicyApi.method_permission_name
        datamodel = SwitchedInterface(Policy)
        openapi_spec_tag = "Benchmark only"

        get_list = expose("/", methods=("GET",))(
            protect()(safe(permission_name("get")(switched_rison)))
        )

        @property
        def allow_browser_login(self) -> bool:  # type: ignore[override]
            if "jwt_first" in tuning():
                return super().allow_browser_login
            return True

    return TunedPolicyApi


def install(app: Flask) -> None:
    """Register the tuned API and switch the security manager's checks for its path."""
    with app.app_context():
        app.appbuilder.add_api(build_tuned_api())
        sm = app.appbuilder.sm
        for name in ("is_item_public", "_has_view_access", "get_user_by_id"):
            setattr(sm, name, _switched(getattr(sm, name), getattr(FabSecurityManager, name), sm))


def _switched(ours: Callable[..., Any], fabs: Callable[..., Any], sm: Any) -> Callable[..., Any]:
    def method(*args: Any, **kwargs: Any) -> Any:
        if "permissions" in tuning():
            return ours(*args, **kwargs)
        return fabs(sm, *args, **kwargs)

    return method
