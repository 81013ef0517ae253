"""Bad input on the REST API answers 4xx with a JSON message: never a 500, never SQL text.

Each case comes from design.md §6 (FAB traps that answered 500) or from the
brief of issue 2; a small hypothesis fuzz then throws random ids, queries and
bodies at the same doors.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import user_organisation
from tests.fuzz_support import fuzz_settings

RESOURCES = ("company", "client", "policy")
SQL_WORDS = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE FROM|psycopg|sqlite3?|constraint|Traceback)\b", re.I
)


@pytest.fixture
def user(make_user):
    return make_user("USER")


@pytest.fixture
def admin(make_user, user, app):
    return make_user("ADMIN", organisation_id=user_organisation(app, user))


@pytest.fixture
def jwt(user, auth_headers):
    return auth_headers(user)


@pytest.fixture
def admin_jwt(admin, auth_headers):
    return auth_headers(admin)


@pytest.fixture
def ids(app, user, portfolio):
    return portfolio(user_organisation(app, user))


def assert_clean_error(response, status: int | tuple[int, ...]) -> dict:
    """A 4xx answer of ours: the expected status, JSON with a message, no SQL."""
    statuses = status if isinstance(status, tuple) else (status,)
    text = response.get_data(as_text=True)
    where = f"{response.request.method} {response.request.url} -> {response.status_code} {text}"
    assert response.status_code in statuses, where
    assert response.is_json, where
    assert "message" in response.json, where
    assert not SQL_WORDS.search(text), where
    return response.json


def field_message(response, field: str) -> None:
    """A 422 naming ``field`` in a field -> messages object."""
    message = assert_clean_error(response, 422)["message"]
    assert isinstance(message, dict), message
    assert field in message and all(isinstance(text, str) for text in message[field]), message


def policy_body(ids: dict[str, int], **changes) -> dict:
    body = {
        "number": "ERR-1",
        "client_id": ids["client"],
        "company_id": ids["company"],
        "line_of_business": "auto",
        "effective_date": "2026-01-01",
        "expiry_date": "2027-01-01",
        "premium": "10.00",
    }
    body.update(changes)
    return body


def count(http, headers, resource: str) -> int:
    return http.get(f"/api/v1/{resource}/", headers=headers).json["count"]


# --- ids in paths ----------------------------------------------------------------

BAD_IDS = [
    "99999999999999999999999",
    "9223372036854775807",
    "9223372036854775808",
    "2147483648",  # one past PostgreSQL's integer
    "²",
    "-1",
    "0",
    "1e3",
    "1.0",
    "0x10",
    "01",
    " 1",
    "abc",
    "%00",
]


@pytest.mark.parametrize("resource", RESOURCES)
def test_ids_that_name_no_row_answer_404_on_every_method(http, jwt, admin_jwt, resource):
    headers = admin_jwt if resource == "company" else jwt
    for pk in BAD_IDS:
        for method in ("get", "put", "delete"):
            kwargs = {"json": {"city": "Nantes"}} if method == "put" else {}
            response = getattr(http, method)(f"/api/v1/{resource}/{pk}", headers=headers, **kwargs)
            assert_clean_error(response, 404)


def test_unknown_api_paths_and_methods_answer_json(http, jwt):
    assert_clean_error(http.get("/api/v1/policy/1/extra", headers=jwt), 404)
    assert_clean_error(http.get("/api/v1/nothing-here", headers=jwt), 404)
    patch = http.patch("/api/v1/policy/1", json={}, headers=jwt)
    assert_clean_error(patch, 405)
    assert "PUT" in patch.headers["Allow"]
    # The trailing-slash redirect is routing too: it must stay a redirect.
    redirect = http.get("/api/v1/policy", headers=jwt)
    assert redirect.status_code == 308
    assert redirect.headers["Location"].endswith("/api/v1/policy/")


# --- q (rison) -------------------------------------------------------------------

BAD_QUERIES = [
    "(page:1e+16)",
    "(page:1e16)",
    "(page:-1)",
    "(page:99999999999999999999)",
    "(page:1.5)",
    "(page:'1')",
    "(page:!t)",
    "(page_size:101)",
    "(page_size:-1)",
    "(page_size:0)",
    "(filters:!((col:number,opr:xx,value:1)))",
    "(filters:!((col:organisation_id,opr:eq,value:1)))",
    "(filters:!((col:premium,opr:gt,value:abc)))",
    "(filters:!((col:premium,opr:eq,value:1e400)))",
    "(filters:!((col:premium,opr:ct,value:1)))",
    "(filters:!((col:effective_date,opr:gt,value:notadate)))",
    "(filters:!((col:effective_date,opr:gt,value:'2026-13-45')))",
    "(filters:!((col:client_id,opr:eq,value:99999999999999999999999)))",
    "(filters:!((col:client_id,opr:eq,value:'1e3')))",
    "(filters:!((col:client_id,opr:eq,value:!t)))",
    "(filters:!((col:client_id,opr:in,value:x)))",
    "(filters:!((col:status,opr:eq,value:zzz)))",
    "(filters:!((col:status,opr:in,value:!(active))))",
    "(filters:!((col:number,opr:ct,value:(a:1))))",
    "(filters:!((col:number,opr:ct)))",
    "(filters:!((col:number,opr:ct,value:'" + "x" * 300 + "')))",
    "(filters:x)",
    "(order_column:xx)",
    "(order_column:number,order_direction:sideways)",
    "garbage((",
    "(" * 600 + ")" * 600,
    "(a:" * 50 + "1" + ")" * 50,
    "!(1,2)",
    "1",
    "'s'",
    "%ff",
    '{"page": -1}',
    "(" + "x" * 9000 + ":1)",
]


def test_bad_list_queries_answer_400(http, jwt):
    for q in BAD_QUERIES:
        response = http.get("/api/v1/policy/", query_string={"q": q}, headers=jwt)
        assert_clean_error(response, 400)


@pytest.mark.parametrize("q", ["(page:1e+16)", "garbage((", "(" * 600 + ")" * 600, "1"])
def test_bad_queries_on_info_and_item_answer_400(http, jwt, ids, q):
    for path in ("/api/v1/policy/_info", f"/api/v1/policy/{ids['policy']}"):
        assert_clean_error(http.get(path, query_string={"q": q}, headers=jwt), 400)


def test_json_queries_are_accepted_like_rison(http, jwt, ids):
    q = json.dumps({"filters": [{"col": "number", "opr": "eq", "value": "POL-1"}]})
    response = http.get("/api/v1/policy/", query_string={"q": q}, headers=jwt)
    assert response.status_code == 200 and response.json["count"] == 1


def test_info_describes_fields_without_the_catalogue_header(http, jwt):
    response = http.get("/api/v1/policy/_info", headers=jwt)
    assert response.status_code == 200
    fields = {field["name"]: field for field in response.json["add_columns"]}
    assert set(fields) >= {"number", "client_id", "premium"}
    assert all("Project-Id-Version" not in field["description"] for field in fields.values())
    assert all("values" not in field for field in fields.values())  # no related rows listed
    assert {f["operator"] for f in response.json["filters"]["status"]} == {"eq", "neq"}


# --- POST bodies ------------------------------------------------------------------

BAD_POLICY_FIELDS = [
    ("premium", "abc"),
    ("premium", -1),
    ("premium", "-0.01"),
    ("premium", "1e400"),
    ("premium", 1e308),
    ("premium", "12.345"),
    ("premium", "NaN"),
    ("premium", "Infinity"),
    ("premium", True),
    ("premium", ""),
    ("premium", None),
    ("premium", "99999999999"),
    ("premium", 10**30),
    ("premium", [1]),
    ("effective_date", "2026-13-45"),
    ("effective_date", "01/02/2026"),
    ("effective_date", 20260101),
    ("expiry_date", "2025-12-31"),
    ("expiry_date", "2026-01-01"),
    ("client_id", {"id": 1}),
    ("client_id", [1]),
    ("client_id", "1"),
    ("client_id", True),
    ("client_id", 1.5),
    ("client_id", None),
    ("client_id", 0),
    ("client_id", -5),
    ("client_id", 2**31),
    ("client_id", 2**70),
    ("company_id", 987654),
    ("renewal_of_id", 987654),
    ("renewal_of_id", {"id": 1}),
    ("status", "zzz"),
    ("status", None),
    ("line_of_business", ["auto"]),
    ("payment_frequency", "weekly"),
    ("number", "x" * 300),
    ("number", "has space"),
    ("number", ""),
    ("number", 42),
    ("currency", "euro"),
    ("currency", "12"),
    ("organisation_id", 1),
    ("id", 7),
    ("created_at", "2026-01-01T00:00:00"),
]


@pytest.mark.parametrize(("field", "value"), BAD_POLICY_FIELDS)
def test_bad_policy_fields_answer_422_and_create_nothing(http, jwt, ids, field, value):
    before = count(http, jwt, "policy")
    response = http.post("/api/v1/policy/", json=policy_body(ids, **{field: value}), headers=jwt)
    field_message(response, field)
    assert count(http, jwt, "policy") == before


@pytest.mark.parametrize("missing", ["number", "client_id", "company_id", "premium"])
def test_missing_required_fields_answer_422(http, jwt, ids, missing):
    body = policy_body(ids)
    del body[missing]
    response = http.post("/api/v1/policy/", json=body, headers=jwt)
    field_message(response, missing)


BAD_CLIENT_FIELDS = [
    ("last_name", "x" * 101),
    ("last_name", ""),
    ("last_name", 5),
    ("first_name", "x" * 300),
    ("company_name", "x" * 201),
    ("address", "x" * 251),
    ("postal_code", "x" * 11),
    ("city", "x" * 101),
    ("notes", "x" * 10_001),
    ("email", "not-an-address"),
    ("email", "x" * 250 + "@example.com"),
    ("phone", "call me"),
    ("phone", "+33 1 23 45 67 89 00 00 00"),
    ("siren", "12"),
    ("kind", "alien"),
    ("birth_date", "2999-01-01"),
    ("birth_date", "yesterday"),
    ("organisation_id", 1),
]


@pytest.mark.parametrize(("field", "value"), BAD_CLIENT_FIELDS)
def test_bad_client_fields_answer_422(http, jwt, field, value):
    body = {"last_name": "Durand", field: value}
    response = http.post("/api/v1/client/", json=body, headers=jwt)
    field_message(response, field)
    assert count(http, jwt, "client") == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"json": [1, 2]},
        {"json": "text"},
        {"json": None},
        {"json": 3},
        {"data": "{broken", "content_type": "application/json"},
        {"data": "last_name=Durand", "content_type": "application/x-www-form-urlencoded"},
        {"data": "last_name=Durand", "content_type": "text/plain"},
    ],
)
def test_bodies_that_are_not_json_objects_answer_400(http, jwt, ids, kwargs):
    assert_clean_error(http.post("/api/v1/client/", headers=jwt, **kwargs), 400)
    path = f"/api/v1/client/{ids['client']}"
    assert_clean_error(http.put(path, headers=jwt, **kwargs), 400)


def test_large_bodies_are_refused_before_parsing(http, jwt):
    body = {"last_name": "Durand", "notes": "x" * 300_000}
    assert_clean_error(http.post("/api/v1/client/", json=body, headers=jwt), 413)


def test_duplicates_answer_422_on_post_and_put(http, jwt, admin_jwt, ids):
    again = http.post("/api/v1/policy/", json=policy_body(ids, number="POL-1"), headers=jwt)
    field_message(again, "number")

    other = http.post("/api/v1/policy/", json=policy_body(ids, number="ERR-2"), headers=jwt)
    moved = http.put(f"/api/v1/policy/{other.json['id']}", json={"number": "POL-1"}, headers=jwt)
    field_message(moved, "number")
    assert http.get(f"/api/v1/policy/{other.json['id']}", headers=jwt).json["result"]["number"] == (
        "ERR-2"
    )

    company = http.post("/api/v1/company/", json={"name": "Dup", "code": "A1"}, headers=admin_jwt)
    field_message(company, "code")
    second = http.post("/api/v1/company/", json={"name": "Dup", "code": "B2"}, headers=admin_jwt)
    renamed = http.put(
        f"/api/v1/company/{second.json['id']}", json={"code": "A1"}, headers=admin_jwt
    )
    field_message(renamed, "code")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("premium", "abc"),
        ("premium", -3),
        ("expiry_date", "2020-01-01"),
        ("client_id", {"id": 1}),
        ("client_id", 2**40),
        ("renewal_of_id", "self"),
        ("number", "x" * 41),
        ("organisation_id", 2),
        ("id", 99),
    ],
)
def test_bad_put_fields_answer_422_and_change_nothing(http, jwt, ids, field, value):
    path = f"/api/v1/policy/{ids['policy']}"
    before = http.get(path, headers=jwt).json["result"]
    value = ids["policy"] if value == "self" else value
    response = http.put(path, json={field: value}, headers=jwt)
    field_message(response, field)
    assert http.get(path, headers=jwt).json["result"] == before


# --- fuzz -------------------------------------------------------------------------

FUZZ = fuzz_settings(60)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
rison_atoms = (
    st.sampled_from(
        [
            "number",
            "premium",
            "status",
            "client_id",
            "effective_date",
            "eq",
            "gt",
            "in",
            "ct",
            "!t",
            "!n",
        ]
    )
    | st.integers().map(str)
    | st.text(alphabet="()!,:'-.e+0123456789abcxyz", max_size=12)
)


def _rison_query(parts: list[str]) -> str:
    col, opr, value, page, size = (parts + ["x"] * 5)[:5]
    return f"(filters:!((col:{col},opr:{opr},value:{value})),page:{page},page_size:{size})"


def assert_no_server_error(response) -> None:
    text = response.get_data(as_text=True)
    assert response.status_code < 500, text
    if response.status_code >= 400:
        assert response.is_json and "message" in response.json, text
        assert not SQL_WORDS.search(text), text


@FUZZ
@given(pk=st.text(max_size=25).filter(lambda s: "/" not in s and "?" not in s and "#" not in s))
def test_fuzz_ids(http, jwt, pk):
    for method in ("get", "put", "delete"):
        kwargs = {"json": {"city": "x"}} if method == "put" else {}
        assert_no_server_error(getattr(http, method)(f"/api/v1/client/{pk}", headers=jwt, **kwargs))


@FUZZ
@given(q=st.text(max_size=60) | st.lists(rison_atoms, min_size=1, max_size=5).map(_rison_query))
def test_fuzz_queries(http, jwt, q):
    assert_no_server_error(http.get("/api/v1/policy/", query_string={"q": q}, headers=jwt))


@FUZZ
@given(
    body=st.fixed_dictionaries(
        {},
        optional={
            name: json_values
            for name in (
                "number",
                "client_id",
                "company_id",
                "premium",
                "effective_date",
                "expiry_date",
                "status",
                "renewal_of_id",
            )
        },
    )
)
def test_fuzz_policy_bodies(http, jwt, ids, body):
    assert_no_server_error(http.post("/api/v1/policy/", json=body, headers=jwt))
    assert_no_server_error(http.put(f"/api/v1/policy/{ids['policy']}", json=body, headers=jwt))
