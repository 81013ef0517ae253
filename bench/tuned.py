"""What would close the gap: PolicyApi with FAB's per-request costs removed one at a time.

Registered on the benchmark's app only, at /api/v1/policy_tuned/, with PolicyApi's
permissions (class_permission_name) and everything else inherited from our
PolicyApi. The X-Bench-Tuning request header turns each change on, so one app
measures every step and requests without the header behave exactly like FAB:

- count:   count(*) on the policy table with the same filters, instead of FAB's
           Query.count() over the joined SELECT of every column;
- schema:  the rison argument checked by a JSON-schema validator built once,
           instead of jsonschema.validate(), which re-checks the schema itself
           against its meta-schema on every request;
- browser: allow_browser_login off, so a JWT request is not first checked as
           an anonymous one (a second Public-role lookup);
- public:  the Public role's permissions cached per process (they change only
           when an operator syncs roles; a real version would clear the cache then);
- access:  the user's permission check cached per (user, permission, view) for
           a few seconds (a revoked role would then take that long to apply).

These are prototypes for measuring, not code to ship as they are; the proposals
are in docs/benchmarks.md.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import jsonschema
import prison
from flask import Flask, has_request_context, request
from flask_appbuilder.api import expose, get_list_schema, safe
from flask_appbuilder.const import (
    API_DESCRIPTION_COLUMNS_RIS_KEY,
    API_LABEL_COLUMNS_RIS_KEY,
    API_LIST_COLUMNS_RIS_KEY,
    API_LIST_TITLE_RIS_KEY,
    API_ORDER_COLUMNS_RIS_KEY,
    API_URI_RIS_KEY,
)
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name, protect
from sqlalchemy import func

HEADER = "X-Bench-Tuning"
STEPS = ("count", "schema", "browser", "public", "access")
STEP_TITLES = {
    "count": "count(*) on the policy table only",
    "schema": "rison schema validator built once",
    "browser": "allow_browser_login off",
    "public": "Public-role permissions cached",
    "access": "permission check cached 5 s",
}
ACCESS_TTL_SECONDS = 5.0
PATH = "/api/v1/policy_tuned/"


def tuning() -> frozenset[str]:
    # FAB reads attributes at start-up too, outside any request: nothing is tuned then.
    if not has_request_context():
        return frozenset()
    return frozenset(filter(None, request.headers.get(HEADER, "").split(",")))


class CountingInterface(SQLAInterface):
    """FAB's data interface with the count asked of the base table only."""

    def query_count(
        self, query: Any, filters: Any = None, select_columns: list[str] | None = None
    ) -> int:
        if "count" not in tuning() or _has_dotted_filter(filters):
            return super().query_count(query, filters, select_columns)
        count_query = self.session.query(func.count()).select_from(self.obj)
        return self.apply_filters(count_query, filters).scalar()


def _has_dotted_filter(filters: Any) -> bool:
    # A filter on a related column needs FAB's joins; keep FAB's count for those.
    return bool(filters) and any("." in flt.column_name for flt in filters.filters)


def cached_rison(schema: dict[str, Any]) -> Callable[..., Any]:
    """FAB's @rison, with the schema's validator built once when 'schema' is tuned on."""
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema)

    def decorator(f: Callable[..., Any]) -> Callable[..., Any]:
        def wraps(self: Any, *args: Any, **kwargs: Any) -> Any:
            value = request.args.get(API_URI_RIS_KEY)
            kwargs["rison"] = {}
            if value:
                try:
                    kwargs["rison"] = prison.loads(value)
                except prison.decoder.ParserException:
                    return self.response_400(message="Not a valid rison argument")
            try:
                if "schema" in tuning():
                    error = jsonschema.exceptions.best_match(validator.iter_errors(kwargs["rison"]))
                    if error is not None:
                        raise error
                else:
                    jsonschema.validate(instance=kwargs["rison"], schema=schema)
            except jsonschema.ValidationError as error:
                message = str(error).split("\n", 1)[0]
                return self.response_400(message=f"Not a valid rison schema {message}")
            return f(self, *args, **kwargs)

        return functools.update_wrapper(wraps, f)

    return decorator


def build_tuned_api() -> type:
    """The PolicyApi subclass (built lazily: the app's modules read the environment on import)."""
    from app.api.resources import PolicyApi
    from app.models import Policy

    def merge(method: str, key: str) -> Callable[..., Any]:
        from flask_appbuilder.api import merge_response_func

        return merge_response_func(getattr(PolicyApi, method), key)

    class TunedPolicyApi(PolicyApi):
        resource_name = "policy_tuned"
        class_permission_name = "PolicyApi"
        datamodel = CountingInterface(Policy)
        openapi_spec_tag = "Benchmark only"

        @property
        def allow_browser_login(self) -> bool:  # type: ignore[override]
            return "browser" not in tuning()

        @expose("/", methods=["GET"])
        @protect()
        @safe
        @permission_name("get")
        @cached_rison(get_list_schema)
        @merge("merge_order_columns", API_ORDER_COLUMNS_RIS_KEY)
        @merge("merge_list_label_columns", API_LABEL_COLUMNS_RIS_KEY)
        @merge("merge_description_columns", API_DESCRIPTION_COLUMNS_RIS_KEY)
        @merge("merge_list_columns", API_LIST_COLUMNS_RIS_KEY)
        @merge("merge_list_title", API_LIST_TITLE_RIS_KEY)
        def get_list(self, **kwargs: Any) -> Any:
            return self.get_list_headless(**kwargs)

    return TunedPolicyApi


def install(app: Flask) -> None:
    """Register the tuned API and the two security caches (both inert without the header)."""
    with app.app_context():
        app.appbuilder.add_api(build_tuned_api())
        sm = app.appbuilder.sm
        sm.is_item_public = _public_cache(sm.is_item_public)
        sm._has_view_access = _access_cache(sm._has_view_access)


def _public_cache(original: Callable[[str, str], bool]) -> Callable[[str, str], bool]:
    cache: dict[tuple[str, str], bool] = {}

    def is_item_public(permission: str, view: str) -> bool:
        if "public" not in tuning():
            return original(permission, view)
        key = (permission, view)
        if key not in cache:
            cache[key] = original(permission, view)
        return cache[key]

    return is_item_public


def _access_cache(original: Callable[[Any, str, str], bool]) -> Callable[[Any, str, str], bool]:
    cache: dict[tuple[int, str, str], tuple[float, bool]] = {}

    def has_view_access(user: Any, permission: str, view: str) -> bool:
        if "access" not in tuning():
            return original(user, permission, view)
        key = (user.id, permission, view)
        now = time.monotonic()
        hit = cache.get(key)
        if hit is None or hit[0] < now:
            hit = (now + ACCESS_TTL_SECONDS, original(user, permission, view))
            cache[key] = hit
        return hit[1]

    return has_view_access
