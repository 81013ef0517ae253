"""Hostile bodies and bytes the database refuses: every door answers 4xx, checked at the door.

- A deeply nested JSON body (well under the size cap) answered 500 (RecursionError)
  on every POST/PUT; the login and the API-key doors read bodies of any size.
- A NUL byte in a login name, a ``q`` filter value or a lookup search answered 500 on
  PostgreSQL, which refuses NUL in text; a lone surrogate cannot be encoded at all.
"""

from __future__ import annotations

import io
import re

import pytest
from werkzeug.routing import Rule

from app.api.json_guard import MAX_BODY_BYTES, MAX_BODY_DEPTH, nesting_exceeds
from app.models import Client
from tests.conftest import PASSWORD, user_organisation
from tests.test_screens_support import client_form, count_rows, flashes, post_form

NESTED = "[" * 100_000 + "]" * 100_000
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def superadmin(make_user):
    return make_user("SUPERADMIN")


@pytest.fixture
def jwt(superadmin, auth_headers):
    return auth_headers(superadmin)


def _json_doors(app) -> list[tuple[str, str]]:
    """(method, path) of every POST/PUT under /api/, path arguments filled with 1."""
    doors = []
    rule: Rule
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "1", rule.rule)
        doors += [(method, path) for method in sorted(rule.methods & {"POST", "PUT"})]
    return doors


def assert_refused(response, status: int) -> str:
    text = response.get_data(as_text=True)
    where = f"{response.request.method} {response.request.path} -> {response.status_code} {text}"
    assert response.status_code == status, where
    assert response.is_json and isinstance(response.json.get("message"), str), where
    return response.json["message"]


# --- class 3: hostile JSON -------------------------------------------------------


def test_every_json_door_refuses_a_deeply_nested_body_with_400(app, http, jwt):
    assert len(NESTED) < MAX_BODY_BYTES
    doors = _json_doors(app)
    assert ("POST", "/api/v1/security/login") in doors and ("PUT", "/api/v1/policy/1") in doors
    for method, path in doors:
        response = http.open(path, method=method, data=NESTED, headers={**jwt, **JSON})
        assert "imbriqué" in assert_refused(response, 400)


def test_nesting_within_the_cap_reaches_the_door(http, jwt):
    # One level short of the cap: the door reads it and refuses the value, not the shape.
    value = "[" * (MAX_BODY_DEPTH - 1) + "]" * (MAX_BODY_DEPTH - 1)
    body = '{"last_name": ' + value + "}"
    response = http.post("/api/v1/client/", data=body, headers={**jwt, **JSON})
    assert response.status_code == 422, response.get_data(as_text=True)
    too_deep = '{"last_name": ' + "[" * MAX_BODY_DEPTH + "]" * MAX_BODY_DEPTH + "}"
    assert_refused(http.post("/api/v1/client/", data=too_deep, headers={**jwt, **JSON}), 400)


def test_brackets_inside_strings_do_not_count_as_nesting(http, jwt):
    name = "[{" * 200
    response = http.post("/api/v1/client/", json={"last_name": name[:64]}, headers=jwt)
    assert response.status_code == 201, response.get_data(as_text=True)
    quoted = '{"last_name": "\\"' + "[" * 300 + '", "city": "x"}'
    response = http.post("/api/v1/client/", data=quoted, headers={**jwt, **JSON})
    assert response.status_code == 422, response.get_data(as_text=True)  # too long, not too deep


@pytest.mark.parametrize(
    ("text", "limit", "exceeds"),
    [
        ("[]", 1, False),
        ("[[]]", 1, True),
        ('{"a": {"b": [1, {"c": []}]}}', 5, False),
        ('{"a": {"b": [1, {"c": []}]}}', 4, True),
        ('["[[[[", "{{{{"]', 1, False),
        ('["\\"[[[[", "x"]', 1, False),  # an escaped quote does not end the string
        ('["\\\\", [[]]]', 2, True),  # an escaped backslash does
        ("[]" * 1000, 1, False),
        ("[" * 100_000, 32, True),  # unterminated: counted all the same
    ],
)
def test_nesting_is_counted_outside_strings(text, limit, exceeds):
    assert nesting_exceeds(text, limit) is exceeds


@pytest.mark.parametrize("path", ["/api/v1/security/login", "/api/v1/auth/api-keys"])
def test_login_and_api_keys_refuse_an_oversize_body_with_413(http, jwt, path):
    body = '{"username": "' + "x" * MAX_BODY_BYTES + '", "password": "y", "name": "k"}'
    response = http.post(path, data=body, headers={**jwt, **JSON})
    assert_refused(response, 413)


def test_a_chunked_body_without_length_is_capped_too(http, jwt):
    def chunked(body: str):
        return http.post(
            "/api/v1/auth/api-keys",
            input_stream=io.BytesIO(body.encode()),
            headers={**jwt, **JSON, "Transfer-Encoding": "chunked"},
            environ_overrides={"wsgi.input_terminated": True},  # as gunicorn sets it
        )

    assert_refused(chunked('{"name": "' + "x" * MAX_BODY_BYTES + '"}'), 413)
    assert chunked('{"name": "script"}').status_code == 201


# --- class 4: bytes PostgreSQL refuses ---------------------------------------------


def test_nul_in_the_api_login_name_answers_400(http, superadmin):
    body = {"username": f"{superadmin}\x00", "password": PASSWORD, "provider": "db"}
    assert "NUL" in assert_refused(http.post("/api/v1/security/login", json=body), 400)


@pytest.mark.parametrize(
    "q",
    [
        "(filters:!((col:last_name,opr:ct,value:'a\x00b')))",
        "(filters:!((col:last_name,opr:eq,value:'\x00')))",
        "(order_column:'last_name\x00')",
    ],
)
def test_nul_in_a_q_filter_answers_400(http, jwt, q):
    response = http.get("/api/v1/client/", query_string={"q": q}, headers=jwt)
    assert_refused(response, 400)


@pytest.mark.parametrize(
    "body",
    [
        '{"last_name": "a\\u0000b"}',
        '{"last_name": "\\ud800"}',
        '{"last_name": "x", "notes": ["\\udfff"]}',
        '{"last\\u0000name": "x"}',
    ],
)
def test_nul_or_a_lone_surrogate_in_a_json_string_answers_400(app, http, jwt, body):
    response = http.post("/api/v1/client/", data=body, headers={**jwt, **JSON})
    assert_refused(response, 400)
    assert count_rows(app, Client) == 0


def test_nul_in_a_lookup_search_answers_400(app, http, make_user, login):
    user = make_user("USER")
    login(user)
    assert http.get("/lookup/client?q=ab").status_code == 200
    assert http.get("/lookup/client?q=a%00b").status_code == 400


def test_nul_in_a_screen_list_filter_answers_400(http, make_user, login):
    login(make_user("USER"))
    assert http.get("/clientview/list/?_flt_0_last_name=a%00b").status_code == 400


def test_nul_in_a_screen_path_answers_404(http, make_user, login):
    login(make_user("USER"))
    assert http.get("/clientview/show/%00").status_code == 404


def test_nul_in_the_login_form_shows_a_message(http, make_user):
    user = make_user("USER")
    response = post_form(http, "/login/", {"username": f"{user}\x00", "password": PASSWORD})
    assert response.status_code == 200
    assert response.request.path == "/login/"
    assert [category for category, _ in flashes(response)] == ["danger"]


def test_nul_in_a_screen_form_shows_a_message_and_writes_nothing(app, http, make_user, login):
    user = make_user("USER")
    login(user)
    response = post_form(http, "/clientview/add", client_form(last_name="Du\x00rand"))
    assert response.status_code == 200
    assert [category for category, _ in flashes(response)] == ["danger"]
    organisation_id = user_organisation(app, user)
    assert count_rows(app, Client, organisation_id=organisation_id) == 0
