"""The baseline: the policy API written by hand with Flask and SQLAlchemy.

Registered on the benchmark's app only (never in app/), at /bench/policy/. The
list answers the same requests as GET /api/v1/policy/ (the same `q` rison
argument, for the subset the benchmarks use) with the same JSON body, and does
the same work a careful hand-written endpoint must do:

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

For the load benchmark (bench/load.py) the same blueprint also reads one policy
(GET /bench/policy/<id>: one SELECT with the two joins, FAB's body) and creates one
(POST /bench/policy/: the body checked by hand, then the same domain work as the
API: an ORM Policy, so the term and audit flush listeners run, the model's
invariants and the same-organisation reference checks of app/services/validation.py,
one commit), with the same permission question for READ and WRITE and, with
``rate_limited``, the API's shared rate-limit budget.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

import prison
from flask import Blueprint, Flask, abort, jsonify, request
from flask_babel import gettext
from sqlalchemy import bindparam, exists, func, literal, select, union_all

DEFAULT_ORDER = ("expiry_date", "asc")
MAX_PAGE = 1_000_000


def create_blueprint(app: Flask, *, rate_limited: bool = False) -> Blueprint:
    """Build the /bench/policy/ endpoints for this app (its models are imported lazily)."""
    from flask_jwt_extended import get_current_user, verify_jwt_in_request
    from sqlalchemy.exc import IntegrityError

    from app.api.resources import POLICY_FIELDS, PolicyApi
    from app.extensions import db
    from app.models import Policy, PolicyStatus
    from app.models.base import ModelValidationError
    from app.services.scope import NO_ORGANISATION, SUPERADMIN
    from app.services.validation import validate_item

    policy = Policy.__table__
    page_size_default = PolicyApi.page_size
    page_size_max = PolicyApi.max_page_size
    order_columns = {name: policy.c[name] for name in PolicyApi.order_columns}
    # The list's labels and titles, looked up once; translated per request like FAB's.
    api = _metadata_source(app)
    authorisation = _authorisation_query(*list_permission())
    authorisation_read = _authorisation_query(*permission_for("get"))
    authorisation_write = _authorisation_query(*permission_for("post"))
    show_query = _show_query()
    parsers = _policy_parsers()

    blueprint = Blueprint("bench_handwritten", __name__, url_prefix="/bench")
    # A Bearer-token API carries no cookie to forge: no CSRF token, as FAB's APIs.
    from app.extensions import csrf

    csrf.exempt(blueprint)
    if rate_limited:
        # The API's one budget per caller (app/api/limits.py), as a real door would have.
        from app.api.limits import API_SCOPE, api_limit, caller_key
        from app.extensions import limiter

        limiter.shared_limit(api_limit, scope=API_SCOPE, key_func=caller_key)(blueprint)

    def authorised(query: Any) -> tuple[Any, bool]:
        """The JWT's user and whether it is SUPERADMIN, or abort 401/403."""
        verify_jwt_in_request()
        user = get_current_user()
        if user is None:
            abort(401)
        allowed, superadmin = db.session.execute(
            query, {"user_id": user.id, "superadmin": SUPERADMIN}
        ).one()
        if not allowed:
            abort(403)
        return user, bool(superadmin)

    @blueprint.get("/policy/<int:pk>")
    def policy_show(pk: int) -> Any:
        user, superadmin = authorised(authorisation_read)
        query = show_query.where(policy.c.id == pk)
        if not superadmin:
            query = query.where(
                policy.c.organisation_id == (user.organisation_id or NO_ORGANISATION)
            )
        row = db.session.execute(query).one_or_none()
        if row is None:
            return jsonify(message="Not found"), 404
        return jsonify(id=pk, result=_show_json(row, POLICY_FIELDS), **_show_metadata(api))

    @blueprint.post("/policy/")
    def policy_create() -> Any:
        user, _superadmin = authorised(authorisation_write)
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return jsonify(message="The request body must be a JSON object."), 400
        values, errors = _parse_body(body, parsers)
        if errors:
            return jsonify(message=errors), 422
        if user.organisation_id is None:
            return jsonify(message="Your account belongs to no organisation."), 422
        try:
            # The model's own @validates hooks run here (number pattern, premium, bounds).
            item = Policy(**values, organisation_id=user.organisation_id)
            validate_item(db.session, item)
            db.session.add(item)
            db.session.commit()
        except ModelValidationError as error:
            db.session.rollback()
            return jsonify(message=error.errors), 422
        except IntegrityError:
            db.session.rollback()
            return jsonify(message="This record conflicts with an existing one."), 422
        result = {name: _plain(getattr(item, name)) for name in POLICY_FIELDS}
        return jsonify(id=item.id, result=result), 201

    @blueprint.get("/policy/")
    def policy_list() -> Any:
        user, superadmin = authorised(authorisation)
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
    return permission_for("get_list")


def permission_for(route: str) -> tuple[str, str]:
    """The (permission, view) FAB checks for one of PolicyApi's routes (get, post, ...)."""
    from app.api.resources import PolicyApi

    method = (PolicyApi.method_permission_name or {}).get(route, route)
    return f"can_{method}", PolicyApi.class_permission_name or PolicyApi.__name__


def _authorisation_query(permission_name: str, view_name: str) -> Any:
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
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        # Stored in UTC without a zone (app/models/base.py); FAB's schema writes the zone.
        return value.replace(tzinfo=dt.UTC).isoformat()
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


def _show_query() -> Any:
    """PolicyApi.show_columns in one SELECT: the policy, its client's and insurer's names."""
    from app.models import Client, Company, Policy

    policy, client, company = Policy.__table__, Client.__table__, Company.__table__
    joined = policy.outerjoin(client, policy.c.client_id == client.c.id).outerjoin(
        company, policy.c.company_id == company.c.id
    )
    return select(
        policy,
        client.c.last_name.label("client_last_name_"),
        company.c.name.label("company_name_"),
    ).select_from(joined)


def _show_json(row: Any, fields: list[str]) -> dict[str, Any]:
    result = {"id": row.id, **{name: _plain(getattr(row, name)) for name in fields}}
    result["client"] = {"last_name": row.client_last_name_}
    result["company"] = {"name": row.company_name_}
    for name in ("created_at", "updated_at"):
        result[name] = _plain(getattr(row, name))
    return result


def _show_metadata(api: Any) -> dict[str, Any]:
    """FAB's item metadata keys; labels and title translated per request, as FAB does."""
    return {
        "description_columns": {
            key: gettext(str(value)) for key, value in api.description_columns.items()
        },
        "label_columns": {key: gettext(str(api.label_columns[key])) for key in api.show_columns},
        "show_columns": api.show_columns,
        "show_title": gettext(str(api.show_title)),
    }


def _policy_parsers() -> dict[str, tuple[Callable[[Any], Any], bool]]:
    """Field -> (parser, required) for a new policy, written out from the model's columns."""
    from app.models import Policy, PolicyStatus
    from app.models.policy import ContractUse, LineOfBusiness, PaymentFrequency

    def text(limit: int) -> Callable[[Any], Any]:
        def parse(value: Any) -> str:
            if not isinstance(value, str) or not value.strip() or len(value) > limit:
                raise ValueError
            return value

        return parse

    def integer(value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**31:
            raise ValueError
        return value

    def small(low: int, high: int) -> Callable[[Any], Any]:
        def parse(value: Any) -> int:
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError
            return value

        return parse

    def date(value: Any) -> dt.date:
        if not isinstance(value, str):
            raise ValueError
        return dt.date.fromisoformat(value)

    def money(value: Any) -> Decimal:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError
        amount = Decimal(str(value))
        if not amount.is_finite() or amount < 0 or amount != round(amount, 2):
            raise ValueError
        return amount

    def enum(cls: type[Enum]) -> Callable[[Any], Any]:
        def parse(value: Any) -> Enum:
            if not isinstance(value, str) or value not in cls.__members__:
                raise ValueError
            return cls[value]

        return parse

    def boolean(value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValueError
        return value

    number_length = Policy.__table__.c.number.type.length
    return {
        "number": (text(number_length), True),
        "client_id": (integer, True),
        "company_id": (integer, True),
        "line_of_business": (enum(LineOfBusiness), True),
        "status": (enum(PolicyStatus), False),
        "effective_date": (date, True),
        "expiry_date": (date, True),
        "premium": (money, True),
        "currency": (text(3), False),
        "payment_frequency": (enum(PaymentFrequency), False),
        "renewal_of_id": (integer, False),
        "echeance_day": (small(1, 31), False),
        "echeance_month": (small(1, 12), False),
        "tacit_renewal": (boolean, False),
        "notice_months": (small(0, 12), False),
        "use": (enum(ContractUse), False),
        "borrower": (boolean, False),
        "group_contract": (boolean, False),
    }


def _parse_body(
    body: dict[str, Any], parsers: dict[str, tuple[Callable[[Any], Any], bool]]
) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in body.keys() - parsers.keys():
        errors[name] = "Unknown field."
    for name, (parse, required) in parsers.items():
        if name not in body or body[name] is None:
            if required:
                errors[name] = "Missing data for required field."
            continue
        try:
            values[name] = parse(body[name])
        except (ValueError, TypeError, InvalidOperation):
            errors[name] = "Not a valid value."
    return values, errors
