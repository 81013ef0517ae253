"""The baseline: the policy list written by hand with Flask and SQLAlchemy Core.

Registered on the benchmark's app only (never in app/), at /bench/policy/. It
answers the same requests as GET /api/v1/policy/ (the same `q` rison argument,
for the subset the benchmark uses) with the same JSON body, and does the same
work a careful hand-written endpoint must do:

- authentication: the same JWT check, and the user loaded by FAB's own JWT
  user loader (one query);
- authorisation: the same rule as FAB (the user's roles, direct or through
  groups, hold PolicyApi's read permission), asked in ONE query;
- scope: the user's organisation, or every organisation for SUPERADMIN;
- data: one count on the policy table and one page query with the same columns,
  LEFT OUTER JOINs to client and company, ORDER BY <column>, policy.id (same
  direction) and LIMIT/OFFSET; past the first page, the page's ids are chosen
  on the policy table first and only those rows joined (a deferred join), as
  our API does too: a careful hand-written endpoint would not join 40,000 rows
  to throw them away.

What it does not do is what FAB adds on top: the anonymous (Public role) check,
roles and groups loaded as ORM objects, JSON-schema validation of `q`, the
response metadata assembled by five merge decorators, ORM objects and marshmallow.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from enum import Enum
from typing import Any

import prison
from flask import Blueprint, Flask, abort, jsonify, request
from flask_babel import gettext
from sqlalchemy import bindparam, exists, func, literal, select, union_all

DEFAULT_ORDER = ("expiry_date", "asc")
MAX_PAGE = 1_000_000


def create_blueprint(app: Flask) -> Blueprint:
    """Build the /bench/policy/ endpoint for this app (its models are imported lazily)."""
    from flask_jwt_extended import get_current_user, verify_jwt_in_request

    from app.api.resources import PolicyApi
    from app.extensions import db
    from app.models import Policy, PolicyStatus
    from app.services.scope import NO_ORGANISATION, SUPERADMIN

    policy = Policy.__table__
    page_size_default = PolicyApi.page_size
    page_size_max = PolicyApi.max_page_size
    order_columns = {name: policy.c[name] for name in PolicyApi.order_columns}
    # The list's labels and titles, looked up once; translated per request like FAB's.
    api = _metadata_source(app)
    authorisation = _authorisation_query()

    blueprint = Blueprint("bench_handwritten", __name__, url_prefix="/bench")

    @blueprint.get("/policy/")
    def policy_list() -> Any:
        verify_jwt_in_request()
        user = get_current_user()
        if user is None:
            abort(401)
        allowed, superadmin = db.session.execute(
            authorisation, {"user_id": user.id, "superadmin": SUPERADMIN}
        ).one()
        if not allowed:
            abort(403)
        args = _parse_q(request.args.get("q"))
        conditions = []
        if not superadmin:
            conditions.append(policy.c.organisation_id == (user.organisation_id or NO_ORGANISATION))
        for column, value in args["filters"]:
            try:
                parsed = PolicyStatus(value) if column == "status" else value
            except ValueError:
                abort(400, f"unknown {column}")
            conditions.append(policy.c[column] == parsed)
        order_column = order_columns.get(args["order_column"])
        page_size = args["page_size"] or page_size_default
        if order_column is None:
            abort(400, "order_column")
        if not 1 <= page_size <= page_size_max or not 0 <= args["page"] <= MAX_PAGE:
            abort(400, "page")
        # The id breaks ties in the same direction, as FAB does, so pages never overlap.
        descending = args["order_direction"] == "desc"
        ordering = [
            column.desc() if descending else column.asc() for column in (order_column, policy.c.id)
        ]

        count = db.session.execute(
            select(func.count()).select_from(policy).where(*conditions)
        ).scalar()
        query = page_query(conditions, ordering, page_size, args["page"] * page_size)
        rows = db.session.execute(query).all()
        result = [_row_json(row) for row in rows]
        return jsonify(
            count=count, ids=[row["id"] for row in result], result=result, **_response_metadata(api)
        )

    return blueprint


@functools.cache  # built once, like the rest of a hand-written endpoint's SQL
def page_columns() -> tuple[list[Any], Any]:
    """The columns of PolicyApi.list_columns, and policy LEFT JOIN client LEFT JOIN company."""
    from app.models import Client, Company, Policy

    policy, client, company = Policy.__table__, Client.__table__, Company.__table__
    columns = [
        policy.c.id,
        policy.c.number,
        policy.c.client_id,
        client.c.first_name,
        client.c.last_name,
        client.c.company_name,
        policy.c.company_id,
        company.c.name.label("company_name_"),
        policy.c.line_of_business,
        policy.c.status,
        policy.c.effective_date,
        policy.c.expiry_date,
        policy.c.premium,
        policy.c.currency,
    ]
    joined = policy.outerjoin(client, policy.c.client_id == client.c.id).outerjoin(
        company, policy.c.company_id == company.c.id
    )
    return columns, joined


def page_query(
    conditions: list[Any],
    ordering: list[Any],
    page_size: int,
    offset: int,
    *,
    deferred: bool = True,
) -> Any:
    """The page: plain LIMIT/OFFSET on the first page, a deferred join after it.

    With ``deferred`` (and an offset), the ids are paged on the policy table
    alone, then only those rows are joined to client and company; the outer
    query has no WHERE, so the database starts from the 20 ids.
    """
    from app.models import Policy

    policy = Policy.__table__
    columns, joined = page_columns()
    if not (deferred and offset):
        return (
            select(*columns)
            .select_from(joined)
            .where(*conditions)
            .order_by(*ordering)
            .limit(page_size)
            .offset(offset)
        )
    page_ids = (
        select(policy.c.id)
        .where(*conditions)
        .order_by(*ordering)
        .limit(page_size)
        .offset(offset)
        .subquery("page_ids")
    )
    return (
        select(*columns)
        .select_from(joined.join(page_ids, page_ids.c.id == policy.c.id))
        .order_by(*ordering)
    )


def list_permission() -> tuple[str, str]:
    """The (permission, view) FAB checks for GET /api/v1/policy/, as PolicyApi names them."""
    from app.api.resources import PolicyApi

    method = (PolicyApi.method_permission_name or {}).get("get_list", "get")
    return f"can_{method}", PolicyApi.class_permission_name or PolicyApi.__name__


def _authorisation_query() -> Any:
    """Does the user hold the list permission, and is the user SUPERADMIN? One round trip."""
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

    permission_name, view_name = list_permission()
    pv, pvr = PermissionView.__table__, assoc_permissionview_role
    permission, view_menu, role = Permission.__table__, ViewMenu.__table__, Role.__table__
    # The user's roles, given directly or through groups, as FAB counts them.
    role_ids = union_all(
        select(assoc_user_role.c.role_id).where(assoc_user_role.c.user_id == bindparam("user_id")),
        select(assoc_group_role.c.role_id)
        .join(assoc_user_group, assoc_user_group.c.group_id == assoc_group_role.c.group_id)
        .where(assoc_user_group.c.user_id == bindparam("user_id")),
    ).subquery()
    allowed = exists(
        select(literal(1))
        .select_from(
            pvr.join(pv, pv.c.id == pvr.c.permission_view_id)
            .join(permission, permission.c.id == pv.c.permission_id)
            .join(view_menu, view_menu.c.id == pv.c.view_menu_id)
        )
        .where(
            pvr.c.role_id.in_(select(role_ids.c.role_id)),
            permission.c.name == permission_name,
            view_menu.c.name == view_name,
        )
    )
    superadmin = exists(
        select(literal(1)).where(
            role.c.id.in_(select(role_ids.c.role_id)), role.c.name == bindparam("superadmin")
        )
    )
    return select(allowed.label("allowed"), superadmin.label("superadmin"))


def _parse_q(raw: str | None) -> dict[str, Any]:
    """The `q` keys the benchmark sends, checked by hand instead of by JSON schema."""
    args: dict[str, Any] = {
        "order_column": DEFAULT_ORDER[0],
        "order_direction": DEFAULT_ORDER[1],
        "page": 0,
        "page_size": None,
        "filters": [],
    }
    if not raw:
        return args
    try:
        parsed = prison.loads(raw)
    except Exception:  # prison raises several types on bad input
        abort(400, "q is not rison")
    if not isinstance(parsed, dict):
        abort(400, "q must be an object")
    for key in ("order_column", "order_direction"):
        if key in parsed:
            if not isinstance(parsed[key], str):
                abort(400, key)
            args[key] = parsed[key]
    if args["order_direction"] not in ("asc", "desc"):
        abort(400, "order_direction")
    for key in ("page", "page_size"):
        if key in parsed:
            value = parsed[key]
            if not isinstance(value, int) or isinstance(value, bool):
                abort(400, key)
            args[key] = value
    for item in parsed.get("filters", []):
        if not isinstance(item, dict) or item.get("opr") != "eq" or item.get("col") != "status":
            abort(400, "only (col:status,opr:eq) filters are supported here")
        args["filters"].append(("status", item.get("value")))
    return args


def _row_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "number": row.number,
        "client_id": row.client_id,
        "client": {
            "first_name": row.first_name,
            "last_name": row.last_name,
            "company_name": row.company_name,
        },
        "company_id": row.company_id,
        "company": {"name": row.company_name_},
        "line_of_business": _plain(row.line_of_business),
        "status": _plain(row.status),
        "effective_date": _plain(row.effective_date),
        "expiry_date": _plain(row.expiry_date),
        "premium": _plain(row.premium),
        "currency": row.currency,
    }


def _plain(value: Any) -> Any:
    """JSON values as FAB's schema writes them: enum names, ISO dates, Decimal as text."""
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _metadata_source(app: Any) -> Any:
    """The registered PolicyApi: its labels are the translatable strings a hand-written app
    would also declare (FAB fills in defaults for the ones we did not name)."""
    from app.api.resources import PolicyApi

    for view in app.appbuilder.baseviews:
        if type(view) is PolicyApi:
            return view
    raise RuntimeError("PolicyApi is not registered")


def _response_metadata(api: Any) -> dict[str, Any]:
    """FAB's list metadata keys; only the labels' translation is done per request."""
    labels = {name: api.label_columns[name] for name in api.list_columns}
    return {
        "description_columns": {key: str(value) for key, value in api.description_columns.items()},
        # Labels go through the catalogue at request time, in the caller's language.
        "label_columns": {key: gettext(str(value)) for key, value in labels.items()},
        "list_columns": api.list_columns,
        "list_title": str(api.list_title),
        "order_columns": api.order_columns,
    }
