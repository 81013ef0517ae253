"""Related values never name another agency's rows: API `_info`, screen selects, lookups.

FAB's `_info` and its relation selects ignore base filters (design.md §5): each door
below is walked as USER, MANAGER and ADMIN of agency A while agency B owns a row of
every model, and no id or name of B may show.
"""

from __future__ import annotations

import pytest
from flask import Flask, g
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.baseviews import BaseModelView
from flask_appbuilder.fields import QuerySelectField
from flask_login import login_user

from app.api.related import ScopedRelatedValues
from app.extensions import db
from app.models import (
    Allocation,
    AppUser,
    Client,
    Document,
    Organisation,
    Policy,
    PurgeRun,
    SigningKey,
    Template,
)
from app.services.scope import visible_rows_clause
from app.views import lookup_sources
from app.views.related import ScopedRelatedFields
from tests.conftest import login_screen
from tests.related_support import MARK, STAFF, Agency, build_agency, select_options, shared_template
from tests.test_screens_support import page_text

INFO_KEYS = "(keys:!(add_columns,edit_columns,filters,permissions,add_title,edit_title))"
INFO_PAGE = 25
# Routes of a screen that show a form or rows (delete, download, action change things).
SCREEN_ROUTES = ("list", "add", "edit", "show", "chart", "userinfo")


@pytest.fixture
def world(app, make_user, make_organisation, portfolio):
    a = build_agency(app, make_user, portfolio, make_organisation("Cabinet Alpha"), "Alpha")
    b = build_agency(app, make_user, portfolio, make_organisation(f"Cabinet {MARK}"), MARK)
    return {"a": a, "b": b, "shared": shared_template(app)}


def _clean(text: str, where: str) -> None:
    assert MARK not in text, f"{where} names a row of agency B"


def _no_b_ids(b: Agency, model: type, ids: set[int], where: str) -> None:
    leaked = ids & b.rows.get(model, set())
    assert not leaked, f"{where} offers {model.__name__} {sorted(leaked)} of agency B"


def _rest_apis(app: Flask) -> list[ModelRestApi]:
    return [view for view in app.appbuilder.baseviews if isinstance(view, ModelRestApi)]


def _screens(app: Flask) -> list[BaseModelView]:
    return [view for view in app.appbuilder.baseviews if isinstance(view, BaseModelView)]


def test_every_api_and_screen_takes_its_related_values_through_the_scope(app):
    """A resource or screen registered later without the shared bases fails here first."""
    for api in _rest_apis(app):
        assert isinstance(api, ScopedRelatedValues), type(api).__name__
    for view in _screens(app):
        assert isinstance(view, ScopedRelatedFields), type(view).__name__


def test_a_model_with_no_scope_rule_is_offered_to_superadmin_only(app):
    with app.app_context():
        assert str(visible_rows_clause(SigningKey, 7)) == "false"
        assert visible_rows_clause(SigningKey, None) is None


# --- the API: every registered `_info`, every related field, every page --------------


def _related_values(http, headers, api, key, name, count):
    """Every (id, value) FAB offers for one related field, page by page."""
    values, page = [], 0
    while len(values) < count:
        q = f"(keys:!({key}),{key}:({name}:(page:{page},page_size:{INFO_PAGE})))"
        response = http.get(
            f"/api/v1/{api.resource_name}/_info", query_string={"q": q}, headers=headers
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        (column,) = [c for c in response.json[key] if c["name"] == name]
        if not column["values"]:
            break
        values += column["values"]
        page += 1
    return values


def _walk_info(http, headers, api, b: Agency) -> dict[tuple[str, str], set[int]]:
    response = http.get(
        f"/api/v1/{api.resource_name}/_info", query_string={"q": INFO_KEYS}, headers=headers
    )
    if response.status_code in (401, 403):
        return {}
    assert response.status_code == 200, (api.resource_name, response.get_data(as_text=True))
    _clean(response.get_data(as_text=True), f"{api.resource_name} _info")
    seen = {}
    for key in ("add_columns", "edit_columns"):
        for column in response.json.get(key, []):
            if "count" not in column:
                continue
            name = column["name"]
            where = f"/api/v1/{api.resource_name}/_info {key}.{name}"
            values = _related_values(http, headers, api, key, name, column["count"])
            assert len(values) == column["count"], where
            for value in values:
                _clean(str(value["value"]), where)
            ids = {value["id"] for value in values}
            _no_b_ids(b, api.datamodel.get_related_model(name), ids, where)
            seen[(key, name)] = ids
    return seen


@pytest.mark.parametrize("role", STAFF)
def test_every_api_info_offers_only_the_agencys_related_rows(app, http, auth_headers, world, role):
    a, b = world["a"], world["b"]
    headers = auth_headers(a.users[role])
    seen = {}
    for api in _rest_apis(app):
        if api.include_route_methods is None or "info" in api.include_route_methods:
            for (key, name), ids in _walk_info(http, headers, api, b).items():
                seen[(api.resource_name, key, name)] = ids
    # Guard the walk: the document resource offers A's own rows (and shared templates).
    assert seen[("document", "add_columns", "policy")] == a.rows[Policy]
    assert seen[("document", "edit_columns", "created_by")] == a.rows[AppUser]
    assert seen[("document", "add_columns", "template")] == a.rows[Template] | {world["shared"]}
    # And the premium resources theirs: notices name policies, payments their allocations.
    assert seen[("premium_notice", "add_columns", "policy")] == a.rows[Policy]
    assert seen[("payment", "add_columns", "allocations")] == a.rows[Allocation]


def test_superadmin_info_still_offers_every_agency(app, http, make_user, auth_headers, world):
    headers = auth_headers(make_user("SUPERADMIN"))
    response = http.get(
        "/api/v1/document/_info",
        query_string={"q": f"(keys:!(add_columns),add_columns:(policy:(page_size:{INFO_PAGE})))"},
        headers=headers,
    )
    (policy,) = [c for c in response.json["add_columns"] if c["name"] == "policy"]
    assert {value["id"] for value in policy["values"]} == (
        world["a"].rows[Policy] | world["b"].rows[Policy]
    )


@pytest.mark.parametrize(
    "paging",
    ["page:-1", "page:1000000000000000000", "page_size:-1", "page_size:0", "page_size:100000"],
)
def test_related_values_paging_out_of_bounds_answers_400(app, http, auth_headers, world, paging):
    """FAB would pass these on as an OFFSET PostgreSQL refuses (500), or read every row."""
    headers = auth_headers(world["a"].users["USER"])
    for key in ("add_columns", "edit_columns"):
        response = http.get(
            "/api/v1/document/_info",
            query_string={"q": f"(keys:!({key}),{key}:(policy:({paging})))"},
            headers=headers,
        )
        assert response.status_code == 400, response.get_data(as_text=True)
        assert "page" in response.json["message"]


# --- screens: every relation select of every form, evaluated and rendered ------------


@pytest.mark.parametrize("role", STAFF)
def test_every_relation_select_of_every_screen_offers_only_the_agencys_rows(app, world, role):
    """Each add, edit and search form's relation field, asked as the user (routes or not)."""
    a, b = world["a"], world["b"]
    offered: dict[tuple[str, str, str], set[int]] = {}
    with app.test_request_context():
        user = db.session.query(AppUser).filter_by(username=a.users[role]).one()
        login_user(user)
        g.user = user
        for view in _screens(app):
            for form_name in ("add_form", "edit_form", "search_form"):
                form_class = getattr(view, form_name, None)
                if form_class is None:
                    continue
                for name, field in form_class()._fields.items():
                    if not isinstance(field, QuerySelectField):
                        continue
                    where = f"{type(view).__name__}.{form_name}.{name}"
                    rows = list(field.query_func())
                    for row in rows:
                        _clean(str(row), where)
                    model = view.datamodel.get_related_model(name)
                    ids = {row.id for row in rows}
                    _no_b_ids(b, model, ids, where)
                    offered[(type(view).__name__, form_name, name)] = ids
    # Guard the walk: these selects exist and offer the agency's own rows.
    assert offered[("DocumentView", "add_form", "policy")] == a.rows[Policy]
    assert offered[("JobView", "edit_form", "owner")] == a.rows[AppUser]
    assert offered[("PolicyView", "search_form", "organisation")] == a.rows[Organisation]


def _screen_paths(app: Flask, view: BaseModelView, a: Agency) -> list[str]:
    prefix = f"{type(view).__name__}."
    model = view.datamodel.obj
    pk = str(a.first(model)) if model in a.rows else "1"
    paths = []
    for rule in app.url_map.iter_rules():
        method = rule.endpoint.removeprefix(prefix)
        if rule.endpoint.startswith(prefix) and method in SCREEN_ROUTES and "GET" in rule.methods:
            if rule.arguments - {"pk"}:
                continue
            paths.append(rule.rule.replace("<pk>", pk))
    return paths


def _other_pages(a: Agency) -> list[str]:
    policy, template = a.first(Policy), a.first(Template)
    return [
        "/",
        "/dashboard/",
        f"/documentview/generate/{policy}",
        f"/templateview/versions/{template}",
        f"/templateview/new_version/{template}",
        f"/templateview/diff/{template}",
        f"/history/policy/{policy}",
        f"/history/client/{a.first(Client)}",
        f"/links/{a.first(Document)}",
        "/import/clients/",
        "/import/policies/",
        "/purge/",
        f"/purge/{a.first(PurgeRun)}",
        "/signing-keys/",
        "/userinfoeditview/form",
        "/resetmypassword/form",
    ]


def _check_page(response, path: str, view: BaseModelView | None, b: Agency) -> None:
    text = page_text(response)
    _clean(text, path)
    for name, values in select_options(text).items():
        if view is not None and view.datamodel.is_relation(name):
            ids = {int(value) for value in values if value.isdigit()}
            _no_b_ids(b, view.datamodel.get_related_model(name), ids, f"{path} <select {name}>")


@pytest.mark.parametrize("role", STAFF)
def test_every_screen_page_shows_only_the_agencys_rows(app, world, role):
    """List (search filters), add, edit and show (related views) of every screen, and more."""
    a, b = world["a"], world["b"]
    client = app.test_client()
    assert login_screen(client, a.users[role]).status_code == 200
    shown = []
    pages = [(path, view) for view in _screens(app) for path in _screen_paths(app, view, a)]
    pages += [(path, None) for path in _other_pages(a)]
    for path, view in pages:
        response = client.get(path)
        assert response.status_code < 500, path
        if response.status_code == 200:
            _check_page(response, path, view, b)
            shown.append(path)
    # Guard the walk: the pages every role may open were really read.
    for path in (f"/policyview/edit/{a.first(Policy)}", "/documentview/list/", "/jobview/list/"):
        assert path in shown, path


@pytest.mark.parametrize("role", STAFF)
def test_every_lookup_offers_only_the_agencys_rows(app, world, role):
    a, b = world["a"], world["b"]
    client = app.test_client()
    login_screen(client, a.users[role])
    for kind, source in lookup_sources.SOURCES.items():
        ids, page = set(), 1
        while True:
            response = client.get(f"/lookup/{kind}", query_string={"q": "", "page": page})
            assert response.status_code == 200, kind
            _clean(response.get_data(as_text=True), f"/lookup/{kind}")
            ids |= {row["id"] for row in response.json["results"]}
            if not response.json["pagination"]["more"]:
                break
            page += 1
        _no_b_ids(b, source.model, ids, f"/lookup/{kind}")
        assert ids == a.rows[source.model], kind
