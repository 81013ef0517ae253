"""The reference of issue 19 goal 1: the policy list and create on a bare Flask + SQLAlchemy app.

Outside the product: no Flask-AppBuilder, no ``create_app``, no import from ``app/``.
Its own tiny Flask app, a SQLAlchemy engine and SQLAlchemy Core statements on
tables reflected from the database, answering ``GET /api/v1/policy/`` and
``POST /api/v1/policy/`` with the **same JSON bodies, byte for byte**, as the
product's API (bench/load.py compares them before measuring).

It does the same work per request as the product, and sends the same SQL:

- the rate-limit budget: the request is counted in Redis (one script call, the
  counter the product's limiter keeps) when ``REDIS_URL`` is set;
- authentication: the access token's signature, expiry and type, then the session
  check and the user with its roles in one statement (the product's
  ``tokens.live_session_user``), the session's ``last_used_on`` touched once a minute;
- authorisation: the user's permission set (roles direct or through groups), the
  statement the product sends; SUPERADMIN sees every organisation;
- the list: ``count(*)`` on the policy table in the caller's organisation, then the
  page (past the first, a deferred join), the product's list columns;
- the create: the body checked by hand, the client and the insurer checked in the
  caller's organisation, the organisation read, the policy, its first term, its
  renewal cycle and three audit entries inserted, one commit, the policy read back.

What it does not do is what the product does on top and cannot show in a body: the
Public role's permission question (FAB's ``protect``), marshmallow, FAB's response
assembly, the ORM, request ids, security headers, metrics and the log line.

The labels and descriptions of the list answer are fixed text to a hand-written app:
they are read once, at start, from ``BARE_LIST_METADATA`` (a JSON file the bench
writes from the product's own answer), as a hand-written app would declare them.

Environment: ``DATABASE_URL``, ``SECRET_KEY`` (the product's, so its tokens verify
here), ``REDIS_URL`` (optional), ``RATELIMIT_API`` ("1000000/minute"),
``BARE_LIST_METADATA``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal, InvalidOperation
from typing import Any

import jwt
import prison
from flask import Flask, abort, jsonify, request
from sqlalchemy import MetaData, Table, bindparam, create_engine, func, select, union_all

PAGE_SIZE, MAX_PAGE_SIZE, MAX_PAGE = 20, 100, 1_000_000
ORDER_COLUMNS = ("number", "status", "effective_date", "expiry_date", "premium")
SESSION_CLAIM = "sid"
TOUCH_EVERY = dt.timedelta(seconds=60)
READ, WRITE, VIEW = "can_read", "can_write", "Policy"
SUPERADMIN = "SUPERADMIN"
TABLES = [
    "policy",
    "client",
    "company",
    "organisation",
    "term",
    "renewal_cycle",
    "audit_log",
    "ab_user",
    "ab_role",
    "ab_user_role",
    "ab_user_group",
    "ab_group_role",
    "ab_permission",
    "ab_view_menu",
    "ab_permission_view",
    "ab_permission_view_role",
    "auth_session",
]
ENUMS = {
    "line_of_business": {"auto", "home", "health", "life", "liability", "professional", "travel"},
    "status": {"draft", "active", "suspended", "cancelled", "expired"},
    "payment_frequency": {"monthly", "quarterly", "semiannual", "annual"},
    "use": {"consumer", "professional"},
}
DEFAULTS = {
    "status": "draft",
    "currency": "EUR",
    "payment_frequency": "annual",
    "tacit_renewal": True,
    "notice_months": 2,
    "use": "consumer",
    "borrower": False,
    "group_contract": False,
}
RESULT_FIELDS = [
    "number",
    "client_id",
    "company_id",
    "line_of_business",
    "status",
    "effective_date",
    "expiry_date",
    "premium",
    "currency",
    "payment_frequency",
    "renewal_of_id",
    "mandate_id",
    "echeance_day",
    "echeance_month",
    "tacit_renewal",
    "notice_months",
    "use",
    "borrower",
    "group_contract",
    "product",
]
# limits' fixed-window script, answering the time to live too (app/ops/rate_window.py).
COUNT_SCRIPT = """
local amount = tonumber(ARGV[2])
local current = redis.call("incrby", KEYS[1], amount)
if tonumber(current) == amount then
    redis.call("expire", KEYS[1], ARGV[1])
end
return {current, redis.call("ttl", KEYS[1])}
"""


def create_bare_app() -> Flask:
    """The bare app, configured from the environment (module docstring)."""
    app = Flask("bare")
    engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
    meta = MetaData()
    meta.reflect(engine, only=TABLES)
    t = meta.tables
    secret = os.environ["SECRET_KEY"]
    with open(os.environ["BARE_LIST_METADATA"]) as handle:
        metadata = json.load(handle)
    counter = _counter(os.environ.get("REDIS_URL"), os.environ.get("RATELIMIT_API", "600/minute"))
    sql = _statements(t)

    def caller() -> tuple[dict[str, Any], set[tuple[str, str]], Any]:
        """(user, permission set, connection) for the request's token, or abort 401."""
        header = request.headers.get("Authorization", "")
        if header[:7].lower() != "bearer ":
            abort(401)
        try:
            claims = jwt.decode(header[7:].strip(), secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            abort(401)
        subject, session_id = claims.get("sub"), claims.get(SESSION_CLAIM)
        if claims.get("type") != "access" or not isinstance(session_id, int):
            abort(401)
        if not isinstance(subject, str) or not subject.isdecimal():
            abort(401)
        counter(f"user:{subject}")
        connection = engine.connect()
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        rows = connection.execute(
            sql["user"], {"sid": session_id, "uid": int(subject), "now": now}
        ).all()
        if not rows or not rows[0].active:
            connection.close()
            abort(401)
        if now - rows[0].last_used_on > TOUCH_EVERY:
            with engine.begin() as touch:
                touch.execute(
                    t["auth_session"]
                    .update()
                    .where(t["auth_session"].c.id == session_id)
                    .values(last_used_on=now, last_ip=request.remote_addr)
                )
        user = {
            "id": rows[0].id,
            "username": rows[0].username,
            "organisation_id": rows[0].organisation_id,
            "superadmin": any(row.role == SUPERADMIN for row in rows),
        }
        held = {
            (row[0], row[1]) for row in connection.execute(sql["held"], {"user_id": user["id"]})
        }
        return user, held, connection

    @app.get("/health")
    def health() -> Any:
        return jsonify(status="ok")

    @app.get("/api/v1/policy/")
    def policy_list() -> Any:
        user, held, connection = caller()
        try:
            if (READ, VIEW) not in held:
                return jsonify(message="Forbidden"), 403
            args = _parse_q(request.args.get("q"))
            policy = t["policy"]
            conditions = []
            if not user["superadmin"]:
                conditions.append(policy.c.organisation_id == (user["organisation_id"] or -1))
            column = policy.c[args["order_column"]]
            desc = args["order_direction"] == "desc"
            ordering = [c.desc() if desc else c.asc() for c in (column, policy.c.id)]
            size = args["page_size"]
            count = connection.execute(
                select(func.count()).select_from(policy).where(*conditions)
            ).scalar()
            rows = connection.execute(
                _page(t, sql["columns"], conditions, ordering, size, args["page"] * size)
            ).all()
            result = [_row_json(row) for row in rows]
            return jsonify(
                count=count, ids=[row["id"] for row in result], result=result, **metadata
            )
        finally:
            connection.close()

    @app.post("/api/v1/policy/")
    def policy_create() -> Any:
        user, held, connection = caller()
        try:
            if (WRITE, VIEW) not in held:
                return jsonify(message="Forbidden"), 403
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                return jsonify(message="Request is not JSON"), 400
            values, errors = _parse_body(body)
            if errors:
                return jsonify(message=errors), 422
            return _create(connection, t, user, values)
        finally:
            connection.close()

    return app


def _counter(redis_url: str | None, limit: str) -> Any:
    """Count one request against the caller's budget (429 past it); nothing without Redis."""
    if not redis_url:
        return lambda key: None
    import redis

    amount, _, per = limit.partition("/")
    seconds = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}[per.strip()]
    script = redis.Redis.from_url(redis_url).register_script(COUNT_SCRIPT)

    def count(key: str) -> None:
        current, _ttl = script([f"bare/{key}/{limit}"], [seconds, 1])
        if int(current) > int(amount):
            abort(429)

    return count


def _statements(t: dict[str, Table]) -> dict[str, Any]:
    """The statements built once: the session and user, the permission set, the list columns."""
    user, session, role, user_role = (
        t["ab_user"],
        t["auth_session"],
        t["ab_role"],
        t["ab_user_role"],
    )
    joined_roles = user_role.join(role, role.c.id == user_role.c.role_id)
    user_query = (
        select(
            user.c.id,
            user.c.username,
            user.c.active,
            user.c.organisation_id,
            session.c.last_used_on,
            role.c.name.label("role"),
        )
        .select_from(
            user.join(session, session.c.user_id == user.c.id).outerjoin(
                joined_roles, user.c.id == user_role.c.user_id
            )
        )
        .where(
            session.c.id == bindparam("sid"),
            user.c.id == bindparam("uid"),
            session.c.revoked_on.is_(None),
            session.c.expires_on > bindparam("now"),
        )
    )
    roles = union_all(
        select(user_role.c.role_id).where(user_role.c.user_id == bindparam("user_id")),
        select(t["ab_group_role"].c.role_id)
        .join(t["ab_user_group"], t["ab_user_group"].c.group_id == t["ab_group_role"].c.group_id)
        .where(t["ab_user_group"].c.user_id == bindparam("user_id")),
    ).subquery("user_roles")
    pv, pvr = t["ab_permission_view"], t["ab_permission_view_role"]
    permission, view = t["ab_permission"], t["ab_view_menu"]
    held = (
        select(permission.c.name, view.c.name)
        .select_from(
            pvr.join(pv, pv.c.id == pvr.c.permission_view_id)
            .join(permission, permission.c.id == pv.c.permission_id)
            .join(view, view.c.id == pv.c.view_menu_id)
        )
        .where(pvr.c.role_id.in_(select(roles.c.role_id)))
    )
    policy, client, company = t["policy"], t["client"], t["company"]
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
    return {"user": user_query, "held": held, "columns": columns}


def _page(
    t: dict[str, Table],
    columns: list[Any],
    conditions: list[Any],
    ordering: list[Any],
    size: int,
    offset: int,
) -> Any:
    """The page; past the first, its ids chosen on the policy table, then joined (as ours)."""
    policy, client, company = t["policy"], t["client"], t["company"]
    joined = policy.outerjoin(client, policy.c.client_id == client.c.id).outerjoin(
        company, policy.c.company_id == company.c.id
    )
    if not offset:
        return (
            select(*columns).select_from(joined).where(*conditions).order_by(*ordering).limit(size)
        )
    ids = (
        select(policy.c.id).where(*conditions).order_by(*ordering).limit(size).offset(offset)
    ).subquery("page_ids")
    return (
        select(*columns).select_from(joined.join(ids, ids.c.id == policy.c.id)).order_by(*ordering)
    )


def _parse_q(raw: str | None) -> dict[str, Any]:
    """Page, page size and order of ``q`` (rison), checked by hand; 400 otherwise."""
    args: dict[str, Any] = {
        "order_column": "expiry_date",
        "order_direction": "asc",
        "page": 0,
        "page_size": PAGE_SIZE,
    }
    if raw:
        try:
            parsed = prison.loads(raw)
        except Exception:  # noqa: BLE001 (prison raises several types)
            abort(400)
        if not isinstance(parsed, dict) or set(parsed) - set(args):
            abort(400)
        args.update(parsed)
    if args["order_column"] not in ORDER_COLUMNS or args["order_direction"] not in ("asc", "desc"):
        abort(400)
    for key, top in (("page", MAX_PAGE), ("page_size", MAX_PAGE_SIZE)):
        value = args[key]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top:
            abort(400)
    args["page_size"] = args["page_size"] or PAGE_SIZE
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
        "line_of_business": row.line_of_business,
        "status": row.status,
        "effective_date": row.effective_date.isoformat(),
        "expiry_date": row.expiry_date.isoformat(),
        "premium": str(row.premium),
        "currency": row.currency,
    }


def _parse_body(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The new policy's fields, checked by hand (types, lengths, enums, money, dates)."""
    values: dict[str, Any] = dict(DEFAULTS)
    errors: dict[str, str] = {}
    required = {
        "number",
        "client_id",
        "company_id",
        "line_of_business",
        "effective_date",
        "expiry_date",
        "premium",
    }
    for name in body.keys() - set(RESULT_FIELDS):
        errors[name] = "Unknown field."
    for name in RESULT_FIELDS:
        value = body.get(name)
        if value is None:
            if name in required:
                errors[name] = "Missing data for required field."
            continue
        try:
            values[name] = _parse_value(name, value)
        except (ValueError, TypeError, InvalidOperation):
            errors[name] = "Not a valid value."
    if not errors and values["expiry_date"] <= values["effective_date"]:
        errors["expiry_date"] = "The expiry date must follow the effective date."
    return values, errors


def _parse_value(name: str, value: Any) -> Any:
    if name in ENUMS:
        if value not in ENUMS[name]:
            raise ValueError
        return value
    if name in ("number", "currency", "product"):
        limit = {"number": 40, "currency": 3, "product": 100}[name]
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            raise ValueError
        return value
    if name in ("effective_date", "expiry_date"):
        return dt.date.fromisoformat(value)
    if name == "premium":
        amount = Decimal(str(value))
        if not amount.is_finite() or amount < 0 or amount != round(amount, 2):
            raise ValueError
        return amount
    if name in ("tacit_renewal", "borrower", "group_contract"):
        if not isinstance(value, bool):
            raise ValueError
        return value
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**31:
        raise ValueError
    return value


def _create(
    connection: Any, t: dict[str, Table], user: dict[str, Any], values: dict[str, Any]
) -> Any:
    """The same writes as the product's create: references, policy, term, cycle, audit."""
    org = user["organisation_id"]
    if org is None:
        return jsonify(message={"": "Your account belongs to no organisation."}), 422
    for name, table in (("client_id", t["client"]), ("company_id", t["company"])):
        found = connection.execute(
            select(table.c.id).where(table.c.id == values[name], table.c.organisation_id == org)
        ).first()
        if found is None:
            return jsonify(message={name: "Not found."}), 422
    connection.execute(select(t["organisation"]).where(t["organisation"].c.id == org)).one()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    stamps = {"organisation_id": org, "created_at": now, "updated_at": now}
    policy = t["policy"]
    policy_id = connection.execute(
        policy.insert().values(**values, **stamps).returning(policy.c.id)
    ).scalar_one()
    term = {
        "policy_id": policy_id,
        "sequence": 1,
        "start_date": values["effective_date"],
        "end_date": values["expiry_date"],
        "premium": values["premium"],
        "status": "open",
    }
    term_id = connection.execute(
        t["term"].insert().values(**term, **stamps).returning(t["term"].c.id)
    ).scalar_one()
    expiry = values["expiry_date"]
    cycle = {
        "policy_id": policy_id,
        "echeance": expiry,
        "last_day_to_refuse": _months_before(expiry, values["notice_months"]),
        "previous_premium": values["premium"],
        "status": "open",
    }
    cycle_id = connection.execute(
        t["renewal_cycle"].insert().values(**cycle, **stamps).returning(t["renewal_cycle"].c.id)
    ).scalar_one()
    entries = [
        ("Policy", policy_id, {"id": policy_id, **values}),
        ("Term", term_id, {"id": term_id, **term}),
        ("RenewalCycle", cycle_id, {"id": cycle_id, **cycle}),
    ]
    connection.execute(
        t["audit_log"].insert(),
        [
            {
                "created_at": now,
                "user_id": user["id"],
                "username": user["username"],
                "organisation_id": org,
                "action": "create",
                "object_type": kind,
                "object_id": str(key),
                "changes": {k: [None, _plain(v)] for k, v in data.items()},
                "request_id": None,
                "ip": request.remote_addr,
                "user_agent": request.headers.get("User-Agent"),
            }
            for kind, key, data in entries
        ],
    )
    connection.commit()
    row = connection.execute(select(policy).where(policy.c.id == policy_id)).one()
    result = {name: _plain(getattr(row, name)) for name in RESULT_FIELDS}
    return jsonify(id=policy_id, result=result), 201


def _months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` earlier, or the month's last day when it has fewer."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for candidate in range(day.day, 27, -1):
        try:
            return dt.date(year, month + 1, candidate)
        except ValueError:
            continue
    return dt.date(year, month + 1, min(day.day, 28))


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
