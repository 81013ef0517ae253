"""API lists read with SQLAlchemy Core answer what FAB's own code answers (app/api/core_list.py).

Every list the Core path takes is compared with the same request answered by FAB's
code (the API's ``core_list`` set aside): the whole JSON body, on pages, orders with
ties in both directions, the base order, a SUPERADMIN across agencies. Requests the
path does not answer (filters, chosen columns) still answer as before, and the
checks made on every request (the permission set, the organisation scope) still
hold on the next request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from marshmallow import Schema, fields

from app.api.core_list import CoreList, _write, _writers
from app.extensions import db
from tests.test_api_perf_queries import add_policies, statements

LISTS = ["/api/v1/policy/", "/api/v1/client/", "/api/v1/company/"]
QUERIES = [
    "",
    "?q=(page:1,page_size:2)",
    "?q=(page:0,page_size:3,order_column:premium,order_direction:desc)",
    "?q=(page:2,page_size:2,order_column:expiry_date,order_direction:asc)",
    "?q=(order_column:status,order_direction:desc)",
    "?q=(page:5,page_size:20)",  # past the end: an empty page with the count
]


def api_named(app: Flask, name: str) -> Any:
    return next(view for view in app.appbuilder.baseviews if type(view).__name__ == name)


@contextmanager
def fab_only(app: Flask) -> Iterator[None]:
    """Every API answers its lists with FAB's own code while the block runs."""
    saved = {}
    for view in app.appbuilder.baseviews:
        if getattr(view, "core_list", None) is not None:
            saved[view] = view.core_list
            view.core_list = None
    try:
        yield
    finally:
        for view, plan in saved.items():
            view.core_list = plan


@pytest.fixture
def agencies(app: Flask, make_organisation: Any, make_user: Any, auth_headers: Any) -> Any:
    own, neighbour = make_organisation(), make_organisation()
    with app.app_context():
        add_policies(own, 7)
        add_policies(neighbour, 3, start=100)
    return {
        "user": auth_headers(make_user("USER", own)),
        "superadmin": auth_headers(make_user("SUPERADMIN", None)),
    }


def both_answers(app: Flask, http: FlaskClient, path: str, headers: dict[str, str]) -> Any:
    core = http.get(path, headers=headers)
    with fab_only(app):
        fab = http.get(path, headers=headers)
    return core, fab


def test_the_policy_client_and_company_lists_take_the_core_path(app):
    for name in ("PolicyApi", "ClientApi", "CompanyApi"):
        assert api_named(app, name).core_list is not None, name


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("who", ["user", "superadmin"])
def test_core_lists_answer_fabs_body_byte_for_byte(app, http, agencies, path, query, who):
    if "premium" in query and path != "/api/v1/policy/":
        query = query.replace("premium", "id")
    if "expiry_date" in query and path != "/api/v1/policy/":
        query = query.replace("expiry_date", "id")
    if "status" in query and path != "/api/v1/policy/":
        query = query.replace("status", "id")
    core, fab = both_answers(app, http, path + query, agencies[who])
    assert core.status_code == fab.status_code == 200
    assert core.data == fab.data
    assert core.headers["Content-Type"] == fab.headers["Content-Type"]


def test_the_user_sees_its_agency_only_and_superadmin_every_agency(app, http, agencies):
    mine = http.get("/api/v1/policy/?q=(page_size:100)", headers=agencies["user"]).json
    every = http.get("/api/v1/policy/?q=(page_size:100)", headers=agencies["superadmin"]).json
    assert mine["count"] == 7 and len(mine["result"]) == 7
    assert every["count"] >= 10 and set(mine["ids"]) < set(every["ids"])


@pytest.mark.parametrize(
    "query",
    [
        "?q=(filters:!((col:status,opr:eq,value:active)))",
        "?q=(columns:!(id,number))",
        "?q=(keys:!(list_columns))",
        "?q=(order_column:client.last_name,order_direction:asc)",
    ],
)
def test_requests_the_core_path_leaves_to_fab_answer_as_before(app, http, agencies, query):
    core, fab = both_answers(app, http, "/api/v1/policy/" + query, agencies["user"])
    assert core.status_code == fab.status_code
    assert core.data == fab.data


def test_the_core_list_keeps_five_statements_and_reads_permissions_each_time(app, http, agencies):
    for _ in range(2):
        with statements(app) as sent:
            response = http.get("/api/v1/policy/", headers=agencies["user"])
        assert response.status_code == 200
        assert len(sent) <= 5, "\n".join(sent)
        # The Public role's set and the user's set are read on every request.
        assert sum("ab_permission_view_role" in sql for sql in sent) == 2


def test_a_list_permission_taken_away_is_refused_by_the_core_path_next_request(
    app, http, make_organisation, make_user, auth_headers
):
    from tests.test_api_perf_queries import TEST_ROLE, list_permission, set_roles

    sm = app.appbuilder.sm
    username = make_user("USER", make_organisation())
    with app.app_context():
        role = sm.add_role(TEST_ROLE)
        sm.add_permission_role(role, sm.find_permission_view_menu(*list_permission(app)))
    try:
        set_roles(app, username, TEST_ROLE)  # ends the user's sessions: log in after it
        headers = auth_headers(username)
        assert http.get("/api/v1/policy/", headers=headers).status_code == 200
        with app.app_context():
            role = sm.find_role(TEST_ROLE)
            sm.del_permission_role(role, sm.find_permission_view_menu(*list_permission(app)))
        assert http.get("/api/v1/policy/", headers=headers).status_code == 403
    finally:
        set_roles(app, username, "USER")
        with app.app_context():
            role = sm.find_role(TEST_ROLE)
            role.permissions = []
            db.session.delete(role)
            db.session.commit()


def test_labels_follow_the_callers_language(app, http, agencies):
    french = http.get("/api/v1/policy/", headers={**agencies["user"], "Accept-Language": "fr"})
    english = http.get("/api/v1/policy/", headers={**agencies["user"], "Accept-Language": "en"})
    with fab_only(app):
        fab_english = http.get(
            "/api/v1/policy/", headers={**agencies["user"], "Accept-Language": "en"}
        )
    assert english.data == fab_english.data
    assert french.json["result"] == english.json["result"]


def test_an_api_the_core_path_cannot_answer_keeps_fabs_code(app):
    # Users: their own scope filter and schema; templates: chosen select columns.
    assert api_named(app, "UserApi").core_list is None
    assert api_named(app, "TemplateApi").core_list is None
    assert CoreList.for_api(api_named(app, "UserApi")) is None


class _Related(Schema):
    name = fields.String()


class _Row(Schema):
    id = fields.Integer()
    when = fields.Date()
    related = fields.Nested(_Related)


class _Hooked(_Row):
    from marshmallow import post_dump

    @post_dump
    def _touch(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        return data


def test_the_writers_answer_what_marshmallow_dumps_an_empty_relation_included():
    import datetime as dt

    items = [
        {"id": 1, "when": dt.date(2026, 1, 2), "related": {"name": "A"}},
        {"id": 2, "when": None, "related": None},
    ]
    writers = _writers(_Row(), {"id", "when", "related"})
    assert writers is not None
    assert [_write(writers, item) for item in items] == _Row().dump(items, many=True)
    # A schema with dump hooks, or whose fields are not the list's, is dumped by marshmallow.
    assert _writers(_Hooked()) is None
    assert _writers(_Row(), {"id"}) is None


def test_every_list_the_core_path_takes_answers_fabs_body(
    app, http, make_organisation, make_user, auth_headers, portfolio
):
    """Each API whose list qualifies, with rows its neighbours leave (a policy brings its
    term, renewal cycle and audit entries): the same bytes as FAB's code, for a USER
    and a SUPERADMIN."""
    own = make_organisation()
    portfolio(own, "core1")
    portfolio(make_organisation(), "core2")
    callers = [auth_headers(make_user("ADMIN", own)), auth_headers(make_user("SUPERADMIN", None))]
    taken = [view for view in app.appbuilder.baseviews if getattr(view, "core_list", None)]
    assert len(taken) >= 3
    for view in taken:
        path = f"/api/v1/{view.resource_name}/?q=(page_size:100)"
        for headers in callers:
            core, fab = both_answers(app, http, path, headers)
            assert core.status_code == fab.status_code, path
            assert core.data == fab.data, path
