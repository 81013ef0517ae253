"""CRUD on /api/v1/company|client|policy/ with a JWT, list queries, login and session cookies."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, csrf_token, user_organisation

POLICY = {
    "number": "POL-100",
    "line_of_business": "home",
    "effective_date": "2026-03-01",
    "expiry_date": "2027-03-01",
    "premium": "1234.56",
}


@pytest.fixture
def user(make_user):
    return make_user("USER")


@pytest.fixture
def jwt(user, auth_headers):
    return auth_headers(user)


def create(http, resource, body, headers):
    response = http.post(f"/api/v1/{resource}/", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json["id"]


def test_company_crud_by_an_admin(http, app, make_user, auth_headers):
    admin = make_user("ADMIN")
    headers = auth_headers(admin)
    company_id = create(http, "company", {"name": "Mutuelle Ouest", "code": "MO"}, headers)
    assert isinstance(company_id, int)

    shown = http.get(f"/api/v1/company/{company_id}", headers=headers)
    assert shown.status_code == 200
    assert shown.json["id"] == company_id
    assert shown.json["result"]["name"] == "Mutuelle Ouest"
    assert shown.json["result"]["created_at"].endswith("+00:00")

    changed = http.put(
        f"/api/v1/company/{company_id}", json={"contact_name": "Anne Roy"}, headers=headers
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    # PUT changes only the fields sent: the name is kept.
    assert changed.json["result"] == {
        "name": "Mutuelle Ouest",
        "code": "MO",
        "contact_name": "Anne Roy",
        "email": None,
        "phone": None,
        "iban": None,
        "bic": None,
    }

    listed = http.get("/api/v1/company/", headers=headers)
    assert listed.json["count"] == 1 and listed.json["ids"] == [company_id]

    assert http.delete(f"/api/v1/company/{company_id}", headers=headers).status_code == 200
    assert http.get(f"/api/v1/company/{company_id}", headers=headers).status_code == 404


def test_a_user_reads_insurers_but_cannot_write_them(http, user, jwt, portfolio, app):
    ids = portfolio(user_organisation(app, user))
    assert http.get(f"/api/v1/company/{ids['company']}", headers=jwt).status_code == 200
    refused = http.post("/api/v1/company/", json={"name": "X", "code": "X"}, headers=jwt)
    assert refused.status_code == 403
    assert "message" in refused.json


def test_client_crud_with_defaults(http, jwt):
    client_id = create(http, "client", {"last_name": "Lefèvre", "first_name": "Paul"}, jwt)
    shown = http.get(f"/api/v1/client/{client_id}", headers=jwt).json["result"]
    assert shown["kind"] == "person"  # the column default, not a required field
    assert shown["last_name"] == "Lefèvre"

    changed = http.put(
        f"/api/v1/client/{client_id}",
        json={"kind": "business", "company_name": "Lefèvre SARL", "siren": "123456789"},
        headers=jwt,
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.json["result"]["first_name"] == "Paul"
    assert changed.json["result"]["siren"] == "123456789"

    assert http.delete(f"/api/v1/client/{client_id}", headers=jwt).status_code == 200
    assert http.get("/api/v1/client/", headers=jwt).json["count"] == 0


def test_policy_crud_keeps_the_premium_exact(http, app, user, jwt, portfolio):
    ids = portfolio(user_organisation(app, user))
    body = {**POLICY, "client_id": ids["client"], "company_id": ids["company"]}
    policy_id = create(http, "policy", body, jwt)

    shown = http.get(f"/api/v1/policy/{policy_id}", headers=jwt).json["result"]
    assert shown["premium"] == "1234.56"  # a string: no float rounding on the way
    assert shown["status"] == "draft" and shown["payment_frequency"] == "annual"
    assert shown["currency"] == "EUR"
    assert shown["client_id"] == ids["client"] and shown["company"]["name"] == "Assureur 1"

    # A JSON number is read through its decimal text: 0.1 + 0.2 style drift cannot happen.
    changed = http.put(
        f"/api/v1/policy/{policy_id}", json={"premium": 99.9, "status": "active"}, headers=jwt
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.json["result"]["premium"] == "99.90"
    assert changed.json["result"]["number"] == "POL-100"

    renewal = create(http, "policy", {**body, "number": "POL-101", "renewal_of_id": policy_id}, jwt)
    assert http.get(f"/api/v1/policy/{renewal}", headers=jwt).json["result"]["renewal_of_id"] == (
        policy_id
    )

    assert http.delete(f"/api/v1/policy/{renewal}", headers=jwt).status_code == 200
    assert http.delete(f"/api/v1/policy/{policy_id}", headers=jwt).status_code == 200
    assert http.get(f"/api/v1/policy/{policy_id}", headers=jwt).status_code == 404


def test_deleting_a_client_with_policies_is_refused(http, app, user, jwt, portfolio):
    ids = portfolio(user_organisation(app, user))
    response = http.delete(f"/api/v1/client/{ids['client']}", headers=jwt)
    assert response.status_code == 422
    assert isinstance(response.json["message"], str)
    assert http.get(f"/api/v1/client/{ids['client']}", headers=jwt).status_code == 200


@pytest.fixture
def five_policies(http, app, user, jwt, portfolio):
    ids = portfolio(user_organisation(app, user), "F")
    made = []
    for index, (status, premium) in enumerate(
        [("active", "100.00"), ("active", "250.00"), ("draft", "75.50"), ("expired", "900.00")]
    ):
        body = {
            **POLICY,
            "number": f"LIST-{index}",
            "status": status,
            "premium": premium,
            "client_id": ids["client"],
            "company_id": ids["company"],
        }
        made.append(create(http, "policy", body, jwt))
    return [ids["policy"], *made]


def query(http, headers, q):
    response = http.get("/api/v1/policy/", query_string={"q": q}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def test_list_filters(http, jwt, five_policies):
    active = query(http, jwt, "(filters:!((col:status,opr:eq,value:active)))")
    assert active["count"] == 3  # POL-F from the fixture is active too
    expensive = query(http, jwt, "(filters:!((col:premium,opr:gt,value:'200')))")
    assert sorted(row["premium"] for row in expensive["result"]) == ["250.00", "420.50", "900.00"]
    both = query(
        http,
        jwt,
        "(filters:!((col:status,opr:eq,value:active),(col:number,opr:sw,value:LIST)))",
    )
    assert both["count"] == 2
    listed = query(http, jwt, "(filters:!((col:number,opr:in,value:!(LIST-2,LIST-3))))")
    assert {row["status"] for row in listed["result"]} == {"draft", "expired"}
    not_draft = query(http, jwt, "(filters:!((col:status,opr:neq,value:draft)))")
    assert not_draft["count"] == 4
    by_date = query(http, jwt, "(filters:!((col:effective_date,opr:gt,value:'2026-02-01')))")
    assert by_date["count"] == 4


def test_list_ordering_and_paging(http, jwt, five_policies):
    ordered = query(http, jwt, "(order_column:premium,order_direction:desc,page:0,page_size:2)")
    assert [row["premium"] for row in ordered["result"]] == ["900.00", "420.50"]
    assert ordered["count"] == 5
    second = query(http, jwt, "(order_column:premium,order_direction:desc,page:1,page_size:2)")
    assert [row["premium"] for row in second["result"]] == ["250.00", "100.00"]
    beyond = query(http, jwt, "(page:10,page_size:2)")
    assert beyond["result"] == [] and beyond["count"] == 5
    assert len(query(http, jwt, "(page_size:100)")["result"]) == 5


@pytest.mark.parametrize("page_size", [101, 1000, 0, -1])
def test_page_size_outside_1_to_100_is_refused(http, jwt, page_size):
    response = http.get(
        "/api/v1/policy/", query_string={"q": f"(page_size:{page_size})"}, headers=jwt
    )
    assert response.status_code == 400
    assert "100" in response.json["message"]


def test_list_rows_carry_client_and_insurer_names(http, jwt, five_policies):
    row = query(http, jwt, "(filters:!((col:number,opr:eq,value:LIST-0)))")["result"][0]
    assert row["client"]["last_name"] == "MartinF"
    assert row["company"]["name"] == "Assureur F"


# --- login ---------------------------------------------------------------------


def test_login_without_provider_defaults_to_the_database(http, user):
    response = http.post("/api/v1/security/login", json={"username": user, "password": PASSWORD})
    assert response.status_code == 200
    assert response.json["access_token"]


def test_login_with_refresh_returns_a_refresh_token(http, user):
    response = http.post(
        "/api/v1/security/login",
        json={"username": user, "password": PASSWORD, "provider": "db", "refresh": True},
    )
    assert response.status_code == 200
    refreshed = http.post(
        "/api/v1/security/refresh",
        headers={"Authorization": f"Bearer {response.json['refresh_token']}"},
    )
    assert refreshed.status_code == 200 and refreshed.json["access_token"]


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"json": ["user", "password"]}, 400),
        ({"json": "user"}, 400),
        ({"json": 5}, 400),
        ({"data": "{not json", "content_type": "application/json"}, 400),
        ({"data": "username=a&password=b"}, 400),
        ({"json": {"username": "nobody", "password": "wrong", "provider": "db"}}, 401),
        ({"json": {"username": ["a"], "password": {"b": 1}}}, 400),
        ({"json": {"username": "a", "password": "b", "provider": "oauth"}}, 400),
    ],
)
def test_login_refuses_bad_bodies_with_a_json_message(http, kwargs, status):
    response = http.post("/api/v1/security/login", **kwargs)
    assert response.status_code == status
    assert "message" in response.json


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer garbage", "Bearer a.b.c", "Basic dXNlcjpwYXNz", "Token x"],
)
def test_bad_or_missing_tokens_answer_401_with_a_message(http, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = http.get("/api/v1/policy/", headers=headers)
    assert response.status_code == 401
    assert set(response.json) == {"message"}


def test_a_refresh_token_is_not_an_access_token(http, user):
    tokens = http.post(
        "/api/v1/security/login",
        json={"username": user, "password": PASSWORD, "provider": "db", "refresh": True},
    ).json
    response = http.get(
        "/api/v1/policy/", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}
    )
    assert response.status_code == 401


# --- browser session and CSRF --------------------------------------------------


def test_session_cookie_reads_without_a_csrf_token(http, user, login):
    login(user)
    assert http.get("/api/v1/client/").status_code == 200


def test_session_cookie_writes_need_the_csrf_token(http, app, user, login):
    login(user)
    missing = http.post("/api/v1/client/", json={"last_name": "Forged"})
    assert missing.status_code == 400 and "X-CSRFToken" in missing.json["message"]
    wrong = http.post(
        "/api/v1/client/", json={"last_name": "Forged"}, headers={"X-CSRFToken": "forged"}
    )
    assert wrong.status_code == 400
    assert http.get("/api/v1/client/").json["count"] == 0

    token = csrf_token(http, "/clientview/add")
    made = http.post("/api/v1/client/", json={"last_name": "Real"}, headers={"X-CSRFToken": token})
    assert made.status_code == 201
    client_id = made.json["id"]
    unsafe = http.delete(f"/api/v1/client/{client_id}")
    assert unsafe.status_code == 400
    put = http.put(f"/api/v1/client/{client_id}", json={"city": "Brest"})
    assert put.status_code == 400
    deleted = http.delete(f"/api/v1/client/{client_id}", headers={"X-CSRFToken": token})
    assert deleted.status_code == 200


def test_jwt_writes_need_no_csrf_token_even_beside_a_session(http, user, login, auth_headers):
    headers = auth_headers(user)
    login(user)
    response = http.post("/api/v1/client/", json={"last_name": "Script"}, headers=headers)
    assert response.status_code == 201
