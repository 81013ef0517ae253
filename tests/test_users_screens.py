"""The "Users" screen and FAB's password forms, as a browser uses them (CSRF included).

Two organisations each time; the same rules as /api/v1/user/ (tests/test_users_api.py).
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD, api_token, user_organisation
from tests.test_screens_support import csrf_token, flashes, page_text, post_form

GOOD_PASSWORD = "un cheval, une batterie et une agrafe"
NO_CHOICE = "__None"  # WTForms' value for the blank option of an optional select


def user_row(app, username):
    from app.extensions import db
    from app.models import AppUser
    from app.services.users import role_of

    with app.app_context():
        user = db.session.query(AppUser).filter_by(username=username).one_or_none()
        if user is None:
            return None
        return {
            "id": user.id,
            "organisation_id": user.organisation_id,
            "role": role_of(user),
            "active": user.active,
            "first_name": user.first_name,
        }


def french(app, message):
    """The message as the screens show it (French catalogue)."""
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale("fr"):
        return gettext(message)


def user_form(organisation_id=None, **overrides):
    data = {
        "first_name": "Claire",
        "last_name": "Martin",
        "username": "claire.martin",
        "email": "claire.martin@example.com",
        "role": "USER",
        "organisation": NO_CHOICE if organisation_id is None else str(organisation_id),
        "active": "y",
        "password": GOOD_PASSWORD,
        "conf_password": GOOD_PASSWORD,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def edit_form(app, username, **overrides):
    row = user_row(app, username)
    data = {
        "first_name": row["first_name"],
        "last_name": "Test",
        "username": username,
        "email": f"{username}@example.com",
        "role": row["role"],
        "organisation": str(row["organisation_id"] or NO_CHOICE),
        "active": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def role_options(page):
    select = re.search(r'<select[^>]*name="role"[^>]*>(.*?)</select>', page, re.S)
    assert select, "no role select"
    return re.findall(r'<option[^>]*value="([^"]*)"', select.group(1))


def organisation_options(page):
    select = re.search(r'<select[^>]*name="organisation"[^>]*>(.*?)</select>', page, re.S)
    assert select, "no organisation select"
    values = re.findall(r'<option[^>]*value="([^"]*)"', select.group(1))
    return [value for value in values if value != NO_CHOICE]


@pytest.fixture
def agencies(app, make_user, make_organisation):
    own = make_organisation("Agence A")
    other = make_organisation("Agence B")
    return {
        "own": own,
        "other": other,
        "admin": make_user("ADMIN", own),
        "colleague": make_user("USER", own),
        "operator": make_user("SUPERADMIN", own),
        "foreign_user": make_user("USER", other),
    }


# --- ADMIN -------------------------------------------------------------------------------


def test_admin_lists_own_organisation_without_superadmin(app, http, login, agencies):
    login(agencies["admin"])
    page = page_text(http.get("/users/list/?psize_OrganisationUserView=100"))
    assert agencies["colleague"] in page and agencies["admin"] in page
    assert agencies["foreign_user"] not in page
    assert agencies["operator"] not in page
    assert "Agence B" not in page


def test_admin_menu_has_users_under_administration_not_security(app, http, login, agencies):
    login(agencies["admin"])
    home = page_text(http.get("/"))
    assert "/users/list/" in home
    assert "/roles/list/" not in home and "/permissions/list/" not in home


def test_admin_role_choices_exclude_superadmin_and_organisations_are_own(
    app, http, login, agencies
):
    login(agencies["admin"])
    page = page_text(http.get("/users/add"))
    assert role_options(page) == ["USER", "MANAGER", "ADMIN"]
    assert organisation_options(page) == [str(agencies["own"])]
    assert "Agence B" not in page


def test_admin_adds_user_in_own_organisation(app, http, login, agencies):
    login(agencies["admin"])
    response = post_form(http, "/users/add", user_form(role="MANAGER"))
    assert ("success", "Ligne ajoutée") in flashes(response), flashes(response)
    row = user_row(app, "claire.martin")
    assert row["organisation_id"] == agencies["own"]
    assert row["role"] == "MANAGER"
    assert api_token(http, "claire.martin", GOOD_PASSWORD)


def test_admin_forged_superadmin_role_or_foreign_organisation_is_refused(
    app, http, login, agencies
):
    login(agencies["admin"])
    response = post_form(http, "/users/add", user_form(role="SUPERADMIN"))
    assert response.status_code == 200
    assert user_row(app, "claire.martin") is None
    response = post_form(http, "/users/add", user_form(organisation_id=agencies["other"]))
    assert response.status_code == 200
    assert user_row(app, "claire.martin") is None
    # Editing: neither a forged role nor another organisation goes through.
    colleague = agencies["colleague"]
    path = f"/users/edit/{user_row(app, colleague)['id']}"
    post_form(http, path, edit_form(app, colleague, role="SUPERADMIN"))
    post_form(http, path, edit_form(app, colleague, organisation=str(agencies["other"])))
    row = user_row(app, colleague)
    assert row["role"] == "USER" and row["organisation_id"] == agencies["own"]


def test_admin_edits_role_of_colleague(app, http, login, agencies):
    login(agencies["admin"])
    colleague = agencies["colleague"]
    path = f"/users/edit/{user_row(app, colleague)['id']}"
    page = page_text(http.get(path))
    assert role_options(page) == ["USER", "MANAGER", "ADMIN"]
    assert re.search(
        r'<option[^>]*selected[^>]*value="USER"|<option[^>]*value="USER"[^>]*selected', page
    )
    response = post_form(http, path, edit_form(app, colleague, role="MANAGER"))
    assert ("success", "Ligne modifiée") in flashes(response), flashes(response)
    assert user_row(app, colleague)["role"] == "MANAGER"


def test_admin_cannot_change_own_role_or_deactivate_self(app, http, login, agencies):
    login(agencies["admin"])
    admin = agencies["admin"]
    path = f"/users/edit/{user_row(app, admin)['id']}"
    response = post_form(http, path, edit_form(app, admin, role="USER"))
    assert french(app, "You cannot change your own role.") in page_text(response)
    response = post_form(http, path, edit_form(app, admin, active=None))
    assert french(app, "You cannot deactivate your own account.") in page_text(response)
    assert user_row(app, admin)["role"] == "ADMIN"
    assert user_row(app, admin)["active"] is True


def test_admin_gets_404_on_other_organisation_rows(app, http, login, agencies):
    login(agencies["admin"])
    for name in ("foreign_user", "operator"):
        pk = user_row(app, agencies[name])["id"]
        assert http.get(f"/users/show/{pk}").status_code == 404
        assert http.get(f"/users/edit/{pk}").status_code == 404
        token = csrf_token(http, "/users/list/")
        assert http.post(f"/users/delete/{pk}", data={"csrf_token": token}).status_code == 404
        assert http.get(f"/resetpassword/form?pk={pk}").status_code == 404
    assert user_row(app, agencies["foreign_user"]) is not None
    for bad in ("abc", "0", str(2**70)):
        assert http.get(f"/users/show/{bad}").status_code == 404


def test_admin_deletes_colleague_but_not_self(app, http, login, agencies):
    login(agencies["admin"])
    token = csrf_token(http, "/users/list/")
    own_id = user_row(app, agencies["admin"])["id"]
    response = http.post(
        f"/users/delete/{own_id}", data={"csrf_token": token}, follow_redirects=True
    )
    assert any(category == "danger" for category, _text in flashes(response))
    assert user_row(app, agencies["admin"]) is not None
    colleague_id = user_row(app, agencies["colleague"])["id"]
    http.post(f"/users/delete/{colleague_id}", data={"csrf_token": token}, follow_redirects=True)
    assert user_row(app, agencies["colleague"]) is None


def test_admin_resets_colleague_password_with_policy(app, http, login, agencies):
    login(agencies["admin"])
    pk = user_row(app, agencies["colleague"])["id"]
    path = f"/resetpassword/form?pk={pk}"
    weak = post_form(http, path, {"password": "azerty123456", "conf_password": "azerty123456"})
    assert weak.status_code == 200
    assert api_token(http, agencies["colleague"])  # unchanged
    done = post_form(http, path, {"password": GOOD_PASSWORD, "conf_password": GOOD_PASSWORD})
    assert done.status_code == 200
    assert api_token(http, agencies["colleague"], GOOD_PASSWORD)


def test_reset_action_on_show_page_leads_to_scoped_form(app, http, login, agencies):
    login(agencies["admin"])
    pk = user_row(app, agencies["colleague"])["id"]
    token = csrf_token(http, f"/users/show/{pk}")
    response = http.post(f"/users/action/resetpasswords/{pk}", data={"csrf_token": token})
    assert response.status_code == 302
    assert f"/resetpassword/form?pk={pk}" in response.headers["Location"]
    foreign = user_row(app, agencies["foreign_user"])["id"]
    response = http.post(f"/users/action/resetpasswords/{foreign}", data={"csrf_token": token})
    assert response.status_code == 404


# --- every user: own profile and password ------------------------------------------------


@pytest.mark.parametrize("role", ["USER", "MANAGER", "ADMIN"])
def test_everyone_sees_own_profile_and_changes_own_password(
    app, http, login, make_user, agencies, role
):
    username = make_user(role, agencies["own"])
    login(username)
    assert username in page_text(http.get("/users/userinfo/"))
    path = "/resetmypassword/form"
    weak = post_form(http, path, {"password": "motdepasse2026", "conf_password": "motdepasse2026"})
    assert weak.status_code == 200
    assert api_token(http, username, PASSWORD)
    done = post_form(http, path, {"password": GOOD_PASSWORD, "conf_password": GOOD_PASSWORD})
    assert done.status_code == 200
    assert api_token(http, username, GOOD_PASSWORD)


@pytest.mark.parametrize("role", ["USER", "MANAGER"])
def test_user_and_manager_cannot_open_users_screen(app, http, login, make_user, agencies, role):
    login(make_user(role, agencies["own"]))
    colleague = user_row(app, agencies["colleague"])["id"]
    for path in (
        "/users/list/",
        "/users/add",
        f"/users/show/{colleague}",
        f"/users/edit/{colleague}",
    ):
        response = http.get(path)
        assert response.status_code in (302, 403), path
        assert agencies["colleague"] not in page_text(response)
    assert http.get(f"/resetpassword/form?pk={colleague}").status_code in (302, 403)
    assert "/users/list/" not in page_text(http.get("/"))


# --- SUPERADMIN and FAB's own security screens ---------------------------------------------


FAB_SECURITY_SCREENS = [
    "/roles/list/",
    "/permissions/list/",
    "/viewmenus/list/",
    "/permissionviews/list/",
    "/groups/list/",
]


@pytest.mark.parametrize("role", ["USER", "MANAGER", "ADMIN"])
def test_fab_security_screens_are_superadmin_only(app, http, login, make_user, role):
    login(make_user(role))
    for path in FAB_SECURITY_SCREENS:
        response = http.get(path)
        assert response.status_code in (302, 403), path
        if response.status_code == 302:
            assert "/roles/" not in response.headers["Location"]


def test_superadmin_sees_fab_security_screens_and_all_users(app, http, login, agencies):
    login(agencies["operator"])
    for path in FAB_SECURITY_SCREENS:
        assert http.get(path).status_code == 200, path
    page = page_text(http.get("/users/list/?psize_OrganisationUserView=100"))
    assert agencies["foreign_user"] in page and agencies["colleague"] in page
    add = page_text(http.get("/users/add"))
    assert role_options(add) == ["USER", "MANAGER", "ADMIN", "SUPERADMIN"]
    assert set(organisation_options(add)) == {str(agencies["own"]), str(agencies["other"])}


def test_superadmin_adds_user_to_another_organisation(app, http, login, agencies):
    login(agencies["operator"])
    response = post_form(
        http, "/users/add", user_form(organisation_id=agencies["other"], role="ADMIN")
    )
    assert ("success", "Ligne ajoutée") in flashes(response), flashes(response)
    assert user_row(app, "claire.martin")["organisation_id"] == agencies["other"]
    # Any role but SUPERADMIN needs an organisation.
    response = post_form(
        http,
        "/users/add",
        user_form(username="paul", email="paul@example.com", organisation_id=None),
    )
    assert user_row(app, "paul") is None
    assert response.status_code == 200


def test_add_form_shows_password_policy_errors_beside_the_field(app, http, login, agencies):
    login(agencies["admin"])
    response = post_form(http, "/users/add", user_form(password="soleil", conf_password="soleil"))
    assert user_row(app, "claire.martin") is None
    assert "12" in page_text(response)
    response = post_form(
        http, "/users/add", user_form(password="Password2026!", conf_password="Password2026!")
    )
    assert user_row(app, "claire.martin") is None


def test_no_self_registration(app, http):
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    # The complaints register (ACPR) is a register, not a sign-up form.
    registering = [r for r in rules if "register" in r and not r.startswith("/api/v1/complaint/")]
    assert registering == []
    assert http.get("/register/form").status_code == 404
    assert user_organisation  # imported helper stays in use for readers


def test_profile_actions_post_to_own_forms(app, http, login, make_user, agencies):
    username = make_user("USER", agencies["own"])
    login(username)
    pk = user_row(app, username)["id"]
    token = csrf_token(http, "/users/userinfo/")
    for action_name, target in (
        ("resetmypassword", "/resetmypassword/form"),
        ("userinfoedit", "/userinfoeditview/form"),
    ):
        response = http.post(f"/users/action/{action_name}/{pk}", data={"csrf_token": token})
        assert response.status_code == 302, action_name
        assert response.headers["Location"].endswith(target)
    # Resetting someone else's password is not a USER's action.
    colleague = user_row(app, agencies["colleague"])["id"]
    response = http.post(f"/users/action/resetpasswords/{colleague}", data={"csrf_token": token})
    assert "/resetpassword/form" not in response.headers.get("Location", "")
