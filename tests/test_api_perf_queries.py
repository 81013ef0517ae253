"""The API's list path stays cheap and its permission checks stay fresh (docs/benchmarks.md).

- Statement budget: GET /api/v1/policy/ with a JWT sends at most five SQL
  statements (FAB's defaults sent ten): one permission question for the
  Public role, the user with its roles, one for the user's roles, the count on
  the policy table alone, the page.
- Same answers: the base-table count, the deferred join of deep pages and the
  shared joins return what FAB's own code returns, in the same order.
- Fresh permissions: nothing about roles, permissions or accounts is cached
  beyond one request, so a change counts from the very next request.
- Bearer first: a request with a Bearer header is authenticated by its token
  (a bad token answers 401 even beside a valid session cookie).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_appbuilder.api.schemas import get_list_schema
from flask_appbuilder.models.filters import Filters
from flask_appbuilder.models.sqla.filters import FilterEqual, SQLAFilterConverter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.sqla.models import assoc_user_group
from sqlalchemy import delete, event, insert

from app.api.base import OrganisationModelRestApi
from app.api.interface import ListQueryInterface
from app.extensions import db
from app.models import AppUser, Client, Company, LineOfBusiness, Policy, PolicyStatus

LIST = "/api/v1/policy/"
LIST_STATEMENT_BUDGET = 5  # FAB's defaults: 10
TEST_ROLE = "PERF_TEST_ROLE"
TEST_GROUP = "perf-test-group"


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement sent while the block runs."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def list_permission(app: Flask) -> tuple[str, str]:
    """The (permission, view) FAB checks for GET /api/v1/policy/, however PolicyApi names them."""
    api = next(view for view in app.appbuilder.baseviews if type(view).__name__ == "PolicyApi")
    method = api.method_permission_name.get("get_list", "get")
    return f"can_{method}", api.class_permission_name


def add_policies(organisation_id: int, count: int, start: int = 0) -> list[int]:
    """Policies sharing expiry dates and premiums, so ordering needs the id tie-break."""
    company = Company(organisation_id=organisation_id, name=f"Assureur {start}", code=f"P{start}")
    client = Client(organisation_id=organisation_id, first_name="Anne", last_name=f"Roy{start}")
    db.session.add_all([company, client])
    db.session.flush()
    policies = [
        Policy(
            organisation_id=organisation_id,
            number=f"PERF-{start + index}",
            client_id=client.id,
            company_id=company.id,
            line_of_business=LineOfBusiness.auto,
            status=PolicyStatus.active if index % 3 else PolicyStatus.draft,
            effective_date=dt.date(2026, 1, 1),
            expiry_date=dt.date(2027, 1, 1 + index % 2),
            premium=Decimal("100.00") + index % 2,
        )
        for index in range(count)
    ]
    db.session.add_all(policies)
    db.session.commit()
    return [policy.id for policy in policies]


@pytest.fixture
def agency(app: Flask, make_organisation: Any, make_user: Any, auth_headers: Any) -> dict[str, Any]:
    """An agency of 7 policies, a neighbour of 3, and a USER of the first with a JWT."""
    own, neighbour = make_organisation(), make_organisation()
    with app.app_context():
        own_ids = add_policies(own, 7)
        neighbour_ids = add_policies(neighbour, 3, start=100)
    username = make_user("USER", own)
    return {
        "username": username,
        "headers": auth_headers(username),
        "own_ids": own_ids,
        "neighbour_ids": neighbour_ids,
    }


@pytest.fixture
def test_role(app: Flask) -> Iterator[Any]:
    """A role holding only the policy list permission; removed (with any group) afterwards."""
    sm = app.appbuilder.sm
    with app.app_context():
        role = sm.add_role(TEST_ROLE)
        sm.add_permission_role(role, sm.find_permission_view_menu(*list_permission(app)))
        role_id = role.id
    yield role_id
    with app.app_context():
        group = sm.find_group(TEST_GROUP)
        if group is not None:
            db.session.execute(delete(assoc_user_group).filter_by(group_id=group.id))
            group.roles = []
            db.session.delete(group)
        role = db.session.get(sm.role_model, role_id)
        role.permissions, role.user = [], []
        db.session.delete(role)
        db.session.commit()


def set_roles(app: Flask, username: str, *role_names: str) -> None:
    sm = app.appbuilder.sm
    with app.app_context():
        user = sm.find_user(username=username)
        user.roles = [sm.find_role(name) for name in role_names]
        db.session.commit()


# --- statement budget ---------------------------------------------------------------------


def test_the_list_with_a_jwt_sends_at_most_five_statements(app, http, agency):
    with statements(app) as sent:
        response = http.get(LIST, headers=agency["headers"])
    assert response.status_code == 200
    assert response.json["count"] == 7
    assert len(sent) <= LIST_STATEMENT_BUDGET, "\n".join(sent)
    counts = [sql for sql in sent if sql.lower().startswith("select count")]
    assert len(counts) == 1
    # The count reads the policy table alone, not the joined page wrapped in a subquery.
    assert " join " not in counts[0].lower() and "from policy" in counts[0].lower()


@pytest.mark.parametrize(
    "q",
    [
        "(filters:!((col:status,opr:eq,value:active)))",
        "(page:2,page_size:2)",
        "(order_column:premium,order_direction:desc,page:1,page_size:3)",
    ],
)
def test_filtered_and_deep_pages_keep_the_budget(app, http, agency, q):
    with statements(app) as sent:
        response = http.get(f"{LIST}?q={q}", headers=agency["headers"])
    assert response.status_code == 200
    assert len(sent) <= LIST_STATEMENT_BUDGET, "\n".join(sent)


def test_reading_one_policy_sends_at_most_four_statements(app, http, agency):
    with statements(app) as sent:
        response = http.get(f"{LIST}{agency['own_ids'][0]}", headers=agency["headers"])
    assert response.status_code == 200
    assert len(sent) <= 4, "\n".join(sent)


# --- same answers as FAB's own code ---------------------------------------------------------


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("column", ["expiry_date", "premium", "status"])
def test_pages_in_a_row_give_the_whole_list_in_order(http, agency, column, direction):
    def page(number: int, size: int) -> dict[str, Any]:
        q = f"(order_column:{column},order_direction:{direction},page:{number},page_size:{size})"
        response = http.get(f"{LIST}?q={q}", headers=agency["headers"])
        assert response.status_code == 200
        return response.json

    whole = page(0, 100)
    assert sorted(whole["ids"]) == sorted(agency["own_ids"])
    paged = [pk for number in range(4) for pk in page(number, 2)["ids"]]
    assert paged == whole["ids"]
    assert page(3, 2)["count"] == 7
    assert page(4, 2)["ids"] == []  # past the end: empty, never another agency's rows


def test_a_superadmin_deep_page_spans_every_agency(http, agency, make_user, auth_headers):
    headers = auth_headers(make_user("SUPERADMIN"))
    q = "(order_column:expiry_date,order_direction:asc,page:1,page_size:5)"
    response = http.get(f"{LIST}?q={q}", headers=headers)
    assert response.status_code == 200
    assert response.json["count"] == 10
    assert len(response.json["ids"]) == 5


def _fab_and_ours(filters: list[tuple[str, Any]], **arguments: Any) -> list[Any]:
    """[(count, ids) from FAB's SQLAInterface, (count, ids) from ours] for one query."""
    answers = []
    for interface in (SQLAInterface(Policy), ListQueryInterface(Policy)):
        active = Filters(SQLAFilterConverter, interface)
        for column, value in filters:
            active.add_filter(column, FilterEqual, value)
        count, rows = interface.query(active, **arguments)
        answers.append((count, [row.id for row in rows]))
    return answers


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"filters": [("status", PolicyStatus.active)]},
        # A filter on a related column goes to FAB's code (which cannot also join it for
        # the selected columns: "ambiguous column name", hence none here).
        {"filters": [("client.last_name", "Roy100")], "select_columns": ["id", "number"]},
        {"order_column": "expiry_date", "order_direction": "desc", "page": 1, "page_size": 3},
        {"order_column": "premium", "order_direction": "asc", "page": 2, "page_size": 4},
        {
            "filters": [("status", PolicyStatus.active)],
            "order_column": "id",
            "order_direction": "desc",
            "page": 1,
            "page_size": 2,
        },
    ],
)
def test_our_interface_answers_like_fabs(app, agency, query):
    query.setdefault("select_columns", ["id", "number", "client.last_name", "company.name"])
    filters = query.pop("filters", [])
    with app.test_request_context():
        fab, ours = _fab_and_ours(filters, **query)
    assert ours == fab
    assert fab[0] > 0 and fab[1]


def test_the_base_table_is_used_only_when_joins_cannot_change_the_rows(app):
    with app.app_context():
        policies, clients = ListQueryInterface(Policy), ListQueryInterface(Client)
        assert policies._base_table_suffices(None, ["id", "client.last_name", "company.name"])
        # One client has many policies: joining them would repeat the client.
        assert not clients._base_table_suffices(None, ["id", "policies.number"])
        dotted = Filters(SQLAFilterConverter, policies).add_filter(
            "client.last_name", FilterEqual, "x"
        )
        assert not policies._base_table_suffices(dotted, ["id"])


def test_every_resource_lists_through_our_interface(app):
    apis = [view for view in app.appbuilder.baseviews if isinstance(view, OrganisationModelRestApi)]
    assert len(apis) >= 3
    for api in apis:
        assert isinstance(api.datamodel, ListQueryInterface), api.resource_name


# --- q is checked without re-validating FAB's schema --------------------------------------


def test_q_is_checked_without_jsonschema_validate(http, agency, monkeypatch):
    def per_request_validation(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("jsonschema.validate re-checks the schema on every request")

    bad = {"order_direction": "sideways"}
    try:
        jsonschema.validate(instance=bad, schema=get_list_schema)
    except jsonschema.ValidationError as error:
        fab_message = "Not a valid rison schema " + str(error).split("\n", 1)[0]
    monkeypatch.setattr(jsonschema, "validate", per_request_validation)
    headers = agency["headers"]
    assert http.get(f"{LIST}?q=(page:0,page_size:2)", headers=headers).status_code == 200
    assert http.get(f"{LIST}{agency['own_ids'][0]}", headers=headers).status_code == 200
    assert http.get(f"{LIST}_info", headers=headers).status_code == 200
    refused = http.get(f"{LIST}?q=(order_direction:sideways)", headers=headers)
    assert refused.status_code == 400
    assert refused.json["message"] == fab_message


# --- changes count from the next request ------------------------------------------------------


def test_a_permission_removed_from_a_role_is_refused_on_the_next_request(
    app, http, agency, test_role, auth_headers
):
    set_roles(app, agency["username"], TEST_ROLE)
    # A role change ends the user's sessions (app/services/tokens.py): log in again.
    agency["headers"] = auth_headers(agency["username"])
    assert http.get(LIST, headers=agency["headers"]).status_code == 200
    sm = app.appbuilder.sm
    with app.app_context():
        role = db.session.get(sm.role_model, test_role)
        sm.del_permission_role(role, sm.find_permission_view_menu(*list_permission(app)))
    assert http.get(LIST, headers=agency["headers"]).status_code == 403
    with app.app_context():
        role = db.session.get(sm.role_model, test_role)
        sm.add_permission_role(role, sm.find_permission_view_menu(*list_permission(app)))
    assert http.get(LIST, headers=agency["headers"]).status_code == 200


def test_a_role_change_counts_from_the_next_request(app, http, make_user, auth_headers):
    username = make_user("MANAGER")
    headers = auth_headers(username)
    audit = "/api/v1/audit/"  # MANAGER reads the audit trail, USER does not
    assert http.get(audit, headers=headers).status_code == 200
    set_roles(app, username, "USER")
    # The role change ended the session: the old token stops; a new login has the new role.
    assert http.get(audit, headers=headers).status_code == 401
    headers = auth_headers(username)
    assert http.get(audit, headers=headers).status_code == 403
    set_roles(app, username, "MANAGER")
    headers = auth_headers(username)
    assert http.get(audit, headers=headers).status_code == 200


def test_a_role_given_through_a_group_counts_and_its_removal_too(
    app, http, agency, test_role, auth_headers
):
    sm = app.appbuilder.sm
    set_roles(app, agency["username"])  # no direct role left
    agency["headers"] = auth_headers(agency["username"])  # the role change ended the session
    assert http.get(LIST, headers=agency["headers"]).status_code == 403
    with app.app_context():
        role = db.session.get(sm.role_model, test_role)
        group_id = sm.add_group(TEST_GROUP, "Perf", "test group", roles=[role]).id
        user_id = sm.find_user(username=agency["username"]).id
        # Group.users refuses our AppUser subclass in the ORM: write the link itself.
        membership = {"user_id": user_id, "group_id": group_id}
        db.session.execute(insert(assoc_user_group).values(**membership))
        db.session.commit()
    assert http.get(LIST, headers=agency["headers"]).status_code == 200
    with app.app_context():
        db.session.execute(delete(assoc_user_group).filter_by(**membership))
        db.session.commit()
    assert http.get(LIST, headers=agency["headers"]).status_code == 403


def test_a_deactivated_user_is_refused_on_the_next_request(app, http, agency):
    assert http.get(LIST, headers=agency["headers"]).status_code == 200
    with app.app_context():
        db.session.query(AppUser).filter_by(username=agency["username"]).update({"active": False})
        db.session.commit()
    assert http.get(LIST, headers=agency["headers"]).status_code == 401


def test_the_public_role_is_read_on_every_request(app, http, agency):
    sm = app.appbuilder.sm
    permission_view = None
    assert http.get(LIST).status_code == 401
    try:
        with app.app_context():
            permission_view = sm.find_permission_view_menu(*list_permission(app))
            sm.add_permission_role(sm.find_role(sm.auth_role_public), permission_view)
        anonymous = http.get(LIST)
        assert anonymous.status_code == 200
        assert anonymous.json["count"] == 0  # public, but an anonymous caller sees no agency
    finally:
        with app.app_context():
            permission_view = sm.find_permission_view_menu(*list_permission(app))
            sm.del_permission_role(sm.find_role(sm.auth_role_public), permission_view)
    assert http.get(LIST).status_code == 401


# --- the Bearer token comes first ------------------------------------------------------------


def test_a_bad_bearer_token_is_refused_even_with_a_session(http: FlaskClient, agency, login):
    login(agency["username"])
    assert http.get(LIST).status_code == 200  # the browser session still reads the API
    refused = http.get(LIST, headers={"Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401
    assert http.get(LIST, headers=agency["headers"]).status_code == 200
