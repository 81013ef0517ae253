"""/api/v1/user/ through the door scripts use: JWT from /api/v1/security/login.

Two organisations each time: an ADMIN manages their own organisation's accounts
only, a SUPERADMIN all of them; USER and MANAGER are refused by permission.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import PASSWORD, api_token, user_organisation

GOOD_PASSWORD = "un cheval, une batterie et une agrafe"


def new_user(**fields):
    body = {
        "username": "claire.martin",
        "first_name": "Claire",
        "last_name": "Martin",
        "email": "claire.martin@example.com",
        "password": GOOD_PASSWORD,
        "role": "USER",
    }
    body.update(fields)
    return body


def user_id(app, username):
    from app.extensions import db
    from app.models import AppUser

    with app.app_context():
        return db.session.query(AppUser).filter_by(username=username).one().id


def user_exists(app, username):
    from app.extensions import db
    from app.models import AppUser

    with app.app_context():
        return db.session.query(AppUser).filter_by(username=username).first() is not None


def assert_no_secret(response):
    text = response.get_data(as_text=True)
    assert "pbkdf2:" not in text and "scrypt:" not in text
    assert GOOD_PASSWORD not in text and PASSWORD not in text
    payload = response.json or {}
    rows = payload.get("result")
    rows = rows if isinstance(rows, list) else [rows] if isinstance(rows, dict) else []
    for row in rows:
        assert "password" not in row


@pytest.fixture
def agencies(app, make_user, make_organisation, auth_headers):
    """ADMIN of A (with a USER and a SUPERADMIN in A), ADMIN and USER of B."""
    own = make_organisation("Agence A")
    other = make_organisation("Agence B")
    admin = make_user("ADMIN", own)
    colleague = make_user("USER", own)
    operator = make_user("SUPERADMIN", own)
    foreign_admin = make_user("ADMIN", other)
    foreign_user = make_user("USER", other)
    return {
        "own": own,
        "other": other,
        "admin": admin,
        "headers": auth_headers(admin),
        "colleague": colleague,
        "operator": operator,
        "foreign_admin": foreign_admin,
        "foreign_user": foreign_user,
    }


# --- ADMIN: own organisation only -----------------------------------------------


def test_admin_creates_user_in_own_organisation_without_password_in_response(app, http, agencies):
    response = http.post("/api/v1/user/", json=new_user(), headers=agencies["headers"])
    assert response.status_code == 201, response.json
    assert_no_secret(response)
    result = response.json["result"]
    assert result["organisation_id"] == agencies["own"]
    assert result["role"] == "USER"
    assert result["active"] is True
    assert response.json["id"] == user_id(app, "claire.martin")
    # The new account logs in with the password it was given.
    assert api_token(http, "claire.martin", GOOD_PASSWORD)


def test_admin_list_shows_own_organisation_without_superadmin(app, http, agencies):
    response = http.get("/api/v1/user/?q=(page_size:100)", headers=agencies["headers"])
    assert response.status_code == 200
    assert_no_secret(response)
    names = {row["username"] for row in response.json["result"]}
    assert names == {agencies["admin"], agencies["colleague"]}
    assert response.json["count"] == 2
    assert {row["organisation_id"] for row in response.json["result"]} == {agencies["own"]}


def test_admin_gets_404_for_other_organisation_and_superadmin(app, http, agencies):
    headers = agencies["headers"]
    for name in ("foreign_user", "foreign_admin", "operator"):
        pk = user_id(app, agencies[name])
        assert http.get(f"/api/v1/user/{pk}", headers=headers).status_code == 404
        changed = http.put(f"/api/v1/user/{pk}", json={"first_name": "X"}, headers=headers)
        assert changed.status_code == 404
        assert http.delete(f"/api/v1/user/{pk}", headers=headers).status_code == 404
    assert user_exists(app, agencies["foreign_user"])
    # A filter on the other organisation finds nothing either.
    response = http.get(
        f"/api/v1/user/?q=(filters:!((col:organisation_id,opr:eq,value:{agencies['other']})))",
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json["count"] == 0


def test_admin_cannot_grant_superadmin(app, http, agencies):
    response = http.post(
        "/api/v1/user/", json=new_user(role="SUPERADMIN"), headers=agencies["headers"]
    )
    assert response.status_code == 422
    assert "role" in response.json["message"]
    assert not user_exists(app, "claire.martin")
    pk = user_id(app, agencies["colleague"])
    response = http.put(
        f"/api/v1/user/{pk}", json={"role": "SUPERADMIN"}, headers=agencies["headers"]
    )
    assert response.status_code == 422
    assert "role" in response.json["message"]


def test_admin_can_grant_admin_and_manager(app, http, agencies):
    pk = user_id(app, agencies["colleague"])
    for role in ("MANAGER", "ADMIN", "USER"):
        response = http.put(f"/api/v1/user/{pk}", json={"role": role}, headers=agencies["headers"])
        assert response.status_code == 200, response.json
        assert response.json["result"]["role"] == role


def test_admin_cannot_place_user_in_another_organisation(app, http, agencies):
    response = http.post(
        "/api/v1/user/",
        json=new_user(organisation_id=agencies["other"]),
        headers=agencies["headers"],
    )
    assert response.status_code == 422
    assert "organisation_id" in response.json["message"]
    assert not user_exists(app, "claire.martin")
    pk = user_id(app, agencies["colleague"])
    moved = http.put(
        f"/api/v1/user/{pk}",
        json={"organisation_id": agencies["other"]},
        headers=agencies["headers"],
    )
    assert moved.status_code == 422
    assert user_organisation(app, agencies["colleague"]) == agencies["own"]


def test_admin_giving_own_or_null_organisation_gets_own(app, http, agencies):
    headers = agencies["headers"]
    first = http.post(
        "/api/v1/user/", json=new_user(organisation_id=agencies["own"]), headers=headers
    )
    assert first.status_code == 201
    second = http.post(
        "/api/v1/user/",
        json=new_user(username="paul", email="paul@example.com", organisation_id=None),
        headers=headers,
    )
    assert second.status_code == 201
    assert second.json["result"]["organisation_id"] == agencies["own"]


def test_admin_cannot_change_own_role_deactivate_or_delete_self(app, http, agencies):
    headers = agencies["headers"]
    pk = user_id(app, agencies["admin"])
    for body in ({"role": "SUPERADMIN"}, {"role": "USER"}):
        response = http.put(f"/api/v1/user/{pk}", json=body, headers=headers)
        assert response.status_code == 422
        assert "role" in response.json["message"]
    response = http.put(f"/api/v1/user/{pk}", json={"active": False}, headers=headers)
    assert response.status_code == 422
    assert "active" in response.json["message"]
    response = http.delete(f"/api/v1/user/{pk}", headers=headers)
    assert response.status_code == 422
    assert isinstance(response.json["message"], str)
    # Their own name may change, the rest stays.
    response = http.put(f"/api/v1/user/{pk}", json={"first_name": "Anne"}, headers=headers)
    assert response.status_code == 200
    assert response.json["result"]["role"] == "ADMIN"
    assert response.json["result"]["active"] is True


def test_role_change_is_audited_with_before_and_after(app, http, agencies):
    pytest.importorskip("app.services.audit", reason="the audit listener is not installed")
    from app.extensions import db
    from app.models import AuditLog

    pk = user_id(app, agencies["colleague"])
    response = http.put(f"/api/v1/user/{pk}", json={"role": "MANAGER"}, headers=agencies["headers"])
    assert response.status_code == 200
    with app.app_context():
        rows = (
            db.session.query(AuditLog)
            .filter_by(object_type="User", object_id=str(pk), action="update")
            .all()
        )
    role_changes = [row.changes["roles"] for row in rows if "roles" in (row.changes or {})]
    assert role_changes == [[["USER"], ["MANAGER"]]]
    assert all("password" not in (row.changes or {}) for row in rows)


def test_deactivated_user_is_locked_out_at_once_and_reactivated(app, http, agencies):
    pk = user_id(app, agencies["colleague"])
    headers = agencies["headers"]
    colleague_headers = {"Authorization": f"Bearer {api_token(http, agencies['colleague'])}"}
    assert http.get("/api/v1/client/", headers=colleague_headers).status_code == 200
    response = http.put(f"/api/v1/user/{pk}", json={"active": False}, headers=headers)
    assert response.status_code == 200
    assert response.json["result"]["active"] is False
    # A token issued before stops working at once.
    assert http.get("/api/v1/client/", headers=colleague_headers).status_code == 401
    refused = http.post(
        "/api/v1/security/login",
        json={"username": agencies["colleague"], "password": PASSWORD, "provider": "db"},
    )
    assert refused.status_code == 401
    assert http.put(f"/api/v1/user/{pk}", json={"active": True}, headers=headers).status_code == 200
    assert api_token(http, agencies["colleague"])


def test_admin_deletes_user_of_own_organisation(app, http, agencies):
    headers = agencies["headers"]
    created = http.post("/api/v1/user/", json=new_user(), headers=headers)
    pk = created.json["id"]
    response = http.delete(f"/api/v1/user/{pk}", headers=headers)
    assert response.status_code == 200
    assert http.get(f"/api/v1/user/{pk}", headers=headers).status_code == 404
    assert not user_exists(app, "claire.martin")


def test_deleting_a_user_who_created_others_keeps_them(app, http, agencies, auth_headers):
    """FAB's created_by column must not block the delete nor take the other rows along."""
    pk = user_id(app, agencies["colleague"])
    http.put(f"/api/v1/user/{pk}", json={"role": "ADMIN"}, headers=agencies["headers"])
    second_admin = auth_headers(agencies["colleague"])
    created = http.post("/api/v1/user/", json=new_user(), headers=second_admin)
    assert created.status_code == 201
    assert http.delete(f"/api/v1/user/{pk}", headers=agencies["headers"]).status_code == 200
    assert user_exists(app, "claire.martin")


def test_password_can_be_changed_and_is_never_returned(app, http, agencies):
    pk = user_id(app, agencies["colleague"])
    response = http.put(
        f"/api/v1/user/{pk}", json={"password": GOOD_PASSWORD}, headers=agencies["headers"]
    )
    assert response.status_code == 200
    assert_no_secret(response)
    assert api_token(http, agencies["colleague"], GOOD_PASSWORD)
    shown = http.get(f"/api/v1/user/{pk}", headers=agencies["headers"])
    assert_no_secret(shown)
    assert set(shown.json["result"]) == {
        "id",
        "username",
        "first_name",
        "last_name",
        "email",
        "role",
        "organisation_id",
        "active",
    }


def test_info_describes_password_as_write_only_without_value(app, http, agencies, auth_headers):
    response = http.get("/api/v1/user/_info", headers=agencies["headers"])
    assert response.status_code == 200
    assert_no_secret(response)
    fields = {field["name"]: field for field in response.json["add_columns"]}
    assert set(fields) == {
        "username",
        "first_name",
        "last_name",
        "email",
        "password",
        "role",
        "organisation_id",
        "active",
    }
    assert "default" not in fields["password"]
    assert [f["operator"] for f in response.json["filters"]["role"]] == ["eq"]
    assert [f["operator"] for f in response.json["filters"]["active"]] == ["eq"]
    assert "password" not in response.json["filters"]
    spec = http.get("/api/v1/_openapi", headers=auth_headers(agencies["operator"])).json
    schemas = spec["components"]["schemas"]
    assert schemas["UserApi.post"]["properties"]["password"]["writeOnly"] is True
    assert "password" not in schemas["UserApi.get"]["properties"]


# --- uniqueness and bad input ---------------------------------------------------------


def test_username_and_email_are_unique_whatever_the_case(app, http, agencies):
    headers = agencies["headers"]
    # The foreign user is in another organisation: names are unique across all of them.
    taken = agencies["foreign_user"].upper()
    response = http.post("/api/v1/user/", json=new_user(username=taken), headers=headers)
    assert response.status_code == 422
    assert list(response.json["message"]) == ["username"]
    email = f"{agencies['foreign_user']}@EXAMPLE.com".upper()
    response = http.post("/api/v1/user/", json=new_user(email=email), headers=headers)
    assert response.status_code == 422
    assert list(response.json["message"]) == ["email"]
    pk = user_id(app, agencies["colleague"])
    response = http.put(f"/api/v1/user/{pk}", json={"username": agencies["admin"]}, headers=headers)
    assert response.status_code == 422
    assert list(response.json["message"]) == ["username"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "ROOT"}, "role"),
        ({"role": 3}, "role"),
        ({"active": "yes"}, "active"),
        ({"organisation_id": "1"}, "organisation_id"),
        ({"organisation_id": 2**40}, "organisation_id"),
        ({"organisation_id": True}, "organisation_id"),
        ({"email": "not-an-address"}, "email"),
        ({"username": "two words"}, "username"),
        ({"username": ""}, "username"),
        ({"first_name": ["x"]}, "first_name"),
        ({"last_name": "x" * 65}, "last_name"),
        ({"is_admin": True}, "is_admin"),
        ({"id": 5}, "id"),
    ],
)
def test_invalid_fields_answer_422_naming_the_field(app, http, agencies, body, field):
    response = http.post("/api/v1/user/", json=new_user(**body), headers=agencies["headers"])
    assert response.status_code == 422, response.json
    assert field in response.json["message"]
    assert not user_exists(app, "claire.martin")


def test_missing_fields_are_reported_together(app, http, agencies):
    response = http.post("/api/v1/user/", json={"username": "x.y"}, headers=agencies["headers"])
    assert response.status_code == 422
    assert {"first_name", "last_name", "email", "password", "role"} <= set(response.json["message"])


@pytest.mark.parametrize("body", ["[]", '"text"', "null", "{", "42"])
def test_bodies_that_are_not_objects_answer_400(app, http, agencies, body):
    headers = {**agencies["headers"], "Content-Type": "application/json"}
    assert http.post("/api/v1/user/", data=body, headers=headers).status_code == 400
    pk = user_id(app, agencies["colleague"])
    assert http.put(f"/api/v1/user/{pk}", data=body, headers=headers).status_code == 400


@pytest.mark.parametrize("pk", ["0", "-1", "abc", "²", str(2**70), "1.5"])
def test_malformed_ids_answer_404(app, http, agencies, pk):
    headers = agencies["headers"]
    assert http.get(f"/api/v1/user/{pk}", headers=headers).status_code == 404
    assert http.put(f"/api/v1/user/{pk}", json={}, headers=headers).status_code == 404
    assert http.delete(f"/api/v1/user/{pk}", headers=headers).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "(filters:!((col:role,opr:ct,value:ADMIN)))",
        "(filters:!((col:role,opr:eq,value:ROOT)))",
        "(filters:!((col:active,opr:eq,value:yes)))",
        "(filters:!((col:password,opr:eq,value:x)))",
        "(columns:!(username,password))",
        "(select_columns:!(password))",
        "(order_column:password)",
        "(page:-1)",
        "(page_size:1000)",
    ],
)
def test_bad_list_queries_answer_400(app, http, agencies, query):
    response = http.get(f"/api/v1/user/?q={query}", headers=agencies["headers"])
    assert response.status_code == 400, response.get_data(as_text=True)


# --- password policy through the API ---------------------------------------------------


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("court", False),
        ("onze-chars!", False),
        ("Password2024!", False),
        ("azertyuiop123", False),
        ("motdepassemotdepasse", False),
        ("claire.martin is me", False),  # contains the user name
        ("une phrase facile à retenir", True),
        ("x" * 7 + "une phrase de soixante-quatre caractères pour le test, ok?" + "y", True),
    ],
)
def test_password_policy_on_create(app, http, agencies, password, accepted):
    response = http.post(
        "/api/v1/user/", json=new_user(password=password), headers=agencies["headers"]
    )
    assert response.status_code == (201 if accepted else 422), response.json
    if not accepted:
        assert list(response.json["message"]) == ["password"]


@pytest.mark.parametrize(("length", "accepted"), [(64, True), (128, True), (129, False)])
def test_long_passwords_accepted_up_to_128(app, http, agencies, length, accepted):
    password = ("Le chat de Zoé dort sur 3 coussins bleus; " * 4)[:length]
    assert len(password) == length
    response = http.post(
        "/api/v1/user/", json=new_user(password=password), headers=agencies["headers"]
    )
    assert response.status_code == (201 if accepted else 422), response.json
    if accepted:
        assert api_token(http, "claire.martin", password)


def test_weak_password_refused_on_update(app, http, agencies):
    pk = user_id(app, agencies["colleague"])
    response = http.put(
        f"/api/v1/user/{pk}", json={"password": "soleil2026!!"}, headers=agencies["headers"]
    )
    assert response.status_code == 422
    assert list(response.json["message"]) == ["password"]
    assert api_token(http, agencies["colleague"])  # the old one still works


# --- permissions -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["USER", "MANAGER"])
def test_user_and_manager_are_refused_by_permission(
    app, http, agencies, make_user, auth_headers, role
):
    headers = auth_headers(make_user(role, agencies["own"]))
    pk = user_id(app, agencies["colleague"])
    assert http.get("/api/v1/user/", headers=headers).status_code == 403
    assert http.get("/api/v1/user/_info", headers=headers).status_code == 403
    assert http.get(f"/api/v1/user/{pk}", headers=headers).status_code == 403
    assert http.post("/api/v1/user/", json=new_user(), headers=headers).status_code == 403
    assert (
        http.put(f"/api/v1/user/{pk}", json={"role": "ADMIN"}, headers=headers).status_code == 403
    )
    assert http.delete(f"/api/v1/user/{pk}", headers=headers).status_code == 403
    assert not user_exists(app, "claire.martin")


def test_anonymous_is_refused(app, http):
    assert http.get("/api/v1/user/").status_code == 401
    assert http.post("/api/v1/user/", json=new_user()).status_code == 401


# --- SUPERADMIN: every organisation ------------------------------------------------------


def test_superadmin_lists_everyone_and_filters(app, http, agencies, auth_headers):
    headers = auth_headers(agencies["operator"])
    response = http.get("/api/v1/user/?q=(page_size:100)", headers=headers)
    assert response.status_code == 200
    assert_no_secret(response)
    assert response.json["count"] == 5

    def names(query):
        result = http.get(f"/api/v1/user/?q={query}", headers=headers)
        assert result.status_code == 200, result.json
        return {row["username"] for row in result.json["result"]}

    assert names("(filters:!((col:role,opr:eq,value:ADMIN)))") == {
        agencies["admin"],
        agencies["foreign_admin"],
    }
    assert names(f"(filters:!((col:organisation_id,opr:eq,value:{agencies['other']})))") == {
        agencies["foreign_admin"],
        agencies["foreign_user"],
    }
    pk = user_id(app, agencies["foreign_user"])
    http.put(f"/api/v1/user/{pk}", json={"active": False}, headers=headers)
    assert names("(filters:!((col:active,opr:eq,value:!f)))") == {agencies["foreign_user"]}
    assert agencies["foreign_user"] not in names("(filters:!((col:active,opr:eq,value:!t)))")


def test_superadmin_creates_superadmin_without_organisation(app, http, agencies, auth_headers):
    headers = auth_headers(agencies["operator"])
    response = http.post(
        "/api/v1/user/", json=new_user(role="SUPERADMIN", organisation_id=None), headers=headers
    )
    assert response.status_code == 201, response.json
    assert response.json["result"]["organisation_id"] is None
    # Any other role needs an organisation.
    response = http.post(
        "/api/v1/user/",
        json=new_user(username="x.y", email="x.y@example.com", role="ADMIN"),
        headers=headers,
    )
    assert response.status_code == 422
    assert list(response.json["message"]) == ["organisation_id"]


def test_superadmin_moves_user_between_organisations(app, http, agencies, auth_headers):
    headers = auth_headers(agencies["operator"])
    pk = user_id(app, agencies["foreign_user"])
    response = http.put(
        f"/api/v1/user/{pk}", json={"organisation_id": agencies["own"]}, headers=headers
    )
    assert response.status_code == 200
    assert user_organisation(app, agencies["foreign_user"]) == agencies["own"]
    unknown = http.put(f"/api/v1/user/{pk}", json={"organisation_id": 999999}, headers=headers)
    assert unknown.status_code == 422
    assert list(unknown.json["message"]) == ["organisation_id"]
    # Now in A, the ADMIN of A sees the user.
    assert http.get(f"/api/v1/user/{pk}", headers=agencies["headers"]).status_code == 200


def test_superadmin_cannot_demote_or_deactivate_self(app, http, agencies, auth_headers):
    headers = auth_headers(agencies["operator"])
    pk = user_id(app, agencies["operator"])
    assert (
        http.put(f"/api/v1/user/{pk}", json={"role": "ADMIN"}, headers=headers).status_code == 422
    )
    assert (
        http.put(f"/api/v1/user/{pk}", json={"active": False}, headers=headers).status_code == 422
    )
    assert http.delete(f"/api/v1/user/{pk}", headers=headers).status_code == 422


def test_responses_are_json_objects(app, http, agencies):
    response = http.get("/api/v1/user/", headers=agencies["headers"])
    assert isinstance(json.loads(response.get_data(as_text=True)), dict)


def test_empty_update_writes_no_audit_row(app, http, agencies):
    pytest.importorskip("app.services.audit", reason="the audit listener is not installed")
    from app.extensions import db
    from app.models import AuditLog

    def updates():
        with app.app_context():
            query = db.session.query(AuditLog).filter_by(object_type="User", action="update")
            return query.count()

    pk = user_id(app, agencies["colleague"])
    before = updates()
    response = http.put(f"/api/v1/user/{pk}", json={}, headers=agencies["headers"])
    assert response.status_code == 200
    assert updates() == before
    response = http.put(
        f"/api/v1/user/{pk}", json={"last_name": "Autre"}, headers=agencies["headers"]
    )
    assert updates() == before + 1
