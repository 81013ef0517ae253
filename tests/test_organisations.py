"""Organisations: /api/v1/organisation/ and the "Organisations" screen, SUPERADMIN only."""

from __future__ import annotations

import pytest

from tests.conftest import user_organisation
from tests.test_screens_support import csrf_token, flashes, page_text, post_form


def organisation(app, organisation_id):
    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        row = db.session.get(Organisation, organisation_id)
        return None if row is None else {"name": row.name, "orias_number": row.orias_number}


@pytest.fixture
def operator(app, make_user, auth_headers):
    username = make_user("SUPERADMIN")
    return {"username": username, "headers": auth_headers(username)}


# --- API -----------------------------------------------------------------------------------


def test_superadmin_creates_reads_updates_and_lists(app, http, operator):
    headers = operator["headers"]
    created = http.post(
        "/api/v1/organisation/",
        json={"name": "  Cabinet Dupont ", "orias_number": "12345678"},
        headers=headers,
    )
    assert created.status_code == 201, created.json
    pk = created.json["id"]
    assert created.json["result"]["name"] == "Cabinet Dupont"
    shown = http.get(f"/api/v1/organisation/{pk}", headers=headers)
    assert shown.status_code == 200
    assert shown.json["result"]["orias_number"] == "12345678"
    updated = http.put(
        f"/api/v1/organisation/{pk}", json={"name": "Dupont & Fils"}, headers=headers
    )
    assert updated.status_code == 200, updated.json
    assert organisation(app, pk)["name"] == "Dupont & Fils"
    listed = http.get("/api/v1/organisation/?q=(page_size:100)", headers=headers)
    assert "Dupont & Fils" in {row["name"] for row in listed.json["result"]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "A", "orias_number": "1234567"}, "orias_number"),
        ({"name": "A", "orias_number": "1234567a"}, "orias_number"),
        ({"name": "A", "orias_number": "１２３４５６７８"}, "orias_number"),
        ({"name": "", "orias_number": "12345678"}, "name"),
        ({"name": "   ", "orias_number": "12345678"}, "name"),
        ({"name": "x" * 201, "orias_number": "12345678"}, "name"),
        ({"orias_number": "12345678"}, "name"),
        ({"name": "A"}, "orias_number"),
        ({"name": ["A"], "orias_number": "12345678"}, "name"),
        ({"name": "A", "orias_number": "12345678", "id": 3}, "id"),
    ],
)
def test_invalid_organisation_answers_422(app, http, operator, body, field):
    response = http.post("/api/v1/organisation/", json=body, headers=operator["headers"])
    assert response.status_code == 422, response.json
    assert field in response.json["message"]


def test_duplicate_name_whatever_the_case_or_orias_answers_422(
    app, http, operator, make_organisation
):
    make_organisation("Cabinet Martin")
    headers = operator["headers"]
    response = http.post(
        "/api/v1/organisation/",
        json={"name": "CABINET MARTIN", "orias_number": "87654321"},
        headers=headers,
    )
    assert response.status_code == 422
    assert list(response.json["message"]) == ["name"]
    other = http.post(
        "/api/v1/organisation/", json={"name": "Autre", "orias_number": "87654321"}, headers=headers
    )
    assert other.status_code == 201
    response = http.post(
        "/api/v1/organisation/",
        json={"name": "Encore", "orias_number": "87654321"},
        headers=headers,
    )
    assert response.status_code == 422
    assert list(response.json["message"]) == ["orias_number"]
    response = http.put(
        f"/api/v1/organisation/{other.json['id']}", json={"name": "cabinet martin"}, headers=headers
    )
    assert response.status_code == 422
    assert list(response.json["message"]) == ["name"]


def test_delete_refused_while_users_or_data_remain(
    app, http, operator, make_organisation, make_user, portfolio
):
    headers = operator["headers"]
    with_user = make_organisation()
    make_user("USER", with_user)
    with_data = make_organisation()
    portfolio(with_data)
    empty = make_organisation()
    for pk in (with_user, with_data):
        response = http.delete(f"/api/v1/organisation/{pk}", headers=headers)
        assert response.status_code == 422
        assert isinstance(response.json["message"], str) and response.json["message"]
        assert organisation(app, pk) is not None
    assert http.delete(f"/api/v1/organisation/{empty}", headers=headers).status_code == 200
    assert organisation(app, empty) is None
    assert http.delete(f"/api/v1/organisation/{empty}", headers=headers).status_code == 404


@pytest.mark.parametrize("role", ["USER", "MANAGER", "ADMIN"])
def test_other_roles_are_refused_by_permission(app, http, make_user, auth_headers, role):
    username = make_user(role)
    own = user_organisation(app, username)
    headers = auth_headers(username)
    assert http.get("/api/v1/organisation/", headers=headers).status_code == 403
    assert http.get(f"/api/v1/organisation/{own}", headers=headers).status_code == 403
    assert http.get("/api/v1/organisation/_info", headers=headers).status_code == 403
    body = {"name": "Pirate", "orias_number": "11112222"}
    assert http.post("/api/v1/organisation/", json=body, headers=headers).status_code == 403
    assert http.put(f"/api/v1/organisation/{own}", json=body, headers=headers).status_code == 403
    assert http.delete(f"/api/v1/organisation/{own}", headers=headers).status_code == 403
    assert organisation(app, own)["name"] != "Pirate"


def test_anonymous_is_refused(app, http):
    assert http.get("/api/v1/organisation/").status_code == 401


# --- screens -------------------------------------------------------------------------------


def test_superadmin_screen_add_edit_and_delete(app, http, login, operator, make_organisation):
    login(operator["username"])
    assert "/organisationview/list/" in page_text(http.get("/"))
    added = post_form(
        http, "/organisationview/add", {"name": "Cabinet Leroy", "orias_number": "13572468"}
    )
    assert ("success", "Ligne ajoutée") in flashes(added), flashes(added)
    assert "Cabinet Leroy" in page_text(http.get("/organisationview/list/"))
    refused = post_form(
        http, "/organisationview/add", {"name": "cabinet leroy", "orias_number": "12"}
    )
    text = page_text(refused)
    assert "8" in text  # the ORIAS message sits beside its field
    existing = make_organisation("Cabinet Roux")
    edited = post_form(
        http,
        f"/organisationview/edit/{existing}",
        {
            "name": "Cabinet Roux & Associés",
            "orias_number": organisation(app, existing)["orias_number"],
        },
    )
    assert ("success", "Ligne modifiée") in flashes(edited), flashes(edited)
    token = csrf_token(http, "/organisationview/list/")
    deleted = http.post(
        f"/organisationview/delete/{existing}", data={"csrf_token": token}, follow_redirects=True
    )
    assert ("success", "Ligne supprimée") in flashes(deleted)
    assert organisation(app, existing) is None


def test_screen_delete_refused_while_users_remain(app, http, login, operator, make_user):
    login(operator["username"])
    busy = user_organisation(app, make_user("USER"))
    token = csrf_token(http, "/organisationview/list/")
    response = http.post(
        f"/organisationview/delete/{busy}", data={"csrf_token": token}, follow_redirects=True
    )
    assert any(category == "danger" for category, _text in flashes(response))
    assert organisation(app, busy) is not None


def test_superadmin_sees_an_organisation_users_on_its_page(app, http, login, operator, make_user):
    login(operator["username"])
    member = make_user("USER")
    page = page_text(http.get(f"/organisationview/show/{user_organisation(app, member)}"))
    assert member in page


@pytest.mark.parametrize("role", ["USER", "MANAGER", "ADMIN"])
def test_screen_refused_to_other_roles(app, http, login, make_user, role):
    username = make_user(role)
    login(username)
    own = user_organisation(app, username)
    for path in (
        "/organisationview/list/",
        "/organisationview/add",
        f"/organisationview/show/{own}",
    ):
        assert http.get(path).status_code in (302, 403), path
    assert "/organisationview/list/" not in page_text(http.get("/"))


# --- time zone ------------------------------------------------------------------------------


def test_a_new_organisation_reads_paris_time_and_the_api_changes_it(app, http, operator):
    headers = operator["headers"]
    created = http.post(
        "/api/v1/organisation/",
        json={"name": "Cabinet Nord", "orias_number": "24681357"},
        headers=headers,
    )
    assert created.status_code == 201, created.json
    assert created.json["result"]["timezone"] == "Europe/Paris"
    pk = created.json["id"]
    changed = http.put(
        f"/api/v1/organisation/{pk}", json={"timezone": "Indian/Reunion"}, headers=headers
    )
    assert changed.status_code == 200, changed.json
    assert (
        http.get(f"/api/v1/organisation/{pk}", headers=headers).json["result"]["timezone"]
        == "Indian/Reunion"
    )


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus", "../../etc/passwd", "europe/paris", "", None, 3, "UTC+1"]
)
def test_an_unknown_time_zone_answers_422_and_changes_nothing(
    app, http, operator, make_organisation, zone
):
    pk = make_organisation()
    response = http.put(
        f"/api/v1/organisation/{pk}", json={"timezone": zone}, headers=operator["headers"]
    )
    assert response.status_code == 422, response.json
    assert "timezone" in str(response.json["message"])
    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        assert db.session.get(Organisation, pk).timezone == "Europe/Paris"


def test_the_screen_offers_the_zones_and_saves_the_one_chosen(
    app, http, login, operator, make_organisation
):
    login(operator["username"])
    pk = make_organisation("Cabinet Océan")
    form = page_text(http.get(f"/organisationview/edit/{pk}"))
    assert '<option selected value="Europe/Paris">Europe/Paris</option>' in form
    assert 'value="America/Guadeloupe"' in form
    edited = post_form(
        http,
        f"/organisationview/edit/{pk}",
        {
            "name": "Cabinet Océan",
            "orias_number": organisation(app, pk)["orias_number"],
            "timezone": "America/Guadeloupe",
        },
    )
    assert ("success", "Ligne modifiée") in flashes(edited), flashes(edited)
    assert "America/Guadeloupe" in page_text(http.get(f"/organisationview/show/{pk}"))
    refused = post_form(
        http,
        f"/organisationview/edit/{pk}",
        {
            "name": "Cabinet Océan",
            "orias_number": organisation(app, pk)["orias_number"],
            "timezone": "Mars/Olympus",
        },
    )
    assert ("success", "Ligne modifiée") not in flashes(refused)
    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        assert db.session.get(Organisation, pk).timezone == "America/Guadeloupe"


# --- what a new agency starts with ---------------------------------------------------------


def defaults_of(app, organisation_id):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import TaskCategory, TaskRule

    with app.app_context():
        categories = db.session.scalars(
            select(TaskCategory.name).where(TaskCategory.organisation_id == organisation_id)
        ).all()
        rules = db.session.scalars(
            select(TaskRule.name).where(TaskRule.organisation_id == organisation_id)
        ).all()
        return sorted(categories), sorted(rules)


def test_a_new_agency_starts_with_the_default_task_categories_and_rules(app, http, login, operator):
    from app.services.tasks.defaults import CATEGORIES, RULES

    expected = (sorted(CATEGORIES), sorted(rule.name for rule in RULES))
    created = http.post(
        "/api/v1/organisation/",
        json={"name": "Cabinet Neuf", "orias_number": "24681357"},
        headers=operator["headers"],
    )
    assert created.status_code == 201, created.json
    assert defaults_of(app, created.json["id"]) == expected
    # Its settings do not make it "in use": an agency never used can still be deleted.
    deleted = http.delete(f"/api/v1/organisation/{created.json['id']}", headers=operator["headers"])
    assert deleted.status_code == 200, deleted.json
    assert defaults_of(app, created.json["id"]) == ([], [])

    login(operator["username"])
    added = post_form(
        http, "/organisationview/add", {"name": "Cabinet Écran", "orias_number": "11223344"}
    )
    assert ("success", "Ligne ajoutée") in flashes(added), flashes(added)
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        screen_id = db.session.scalar(
            select(Organisation.id).where(Organisation.name == "Cabinet Écran")
        )
    assert defaults_of(app, screen_id) == expected
    # A refused agency is refused whole (the defaults are written with it or not at all).
    refused = http.post(
        "/api/v1/organisation/",
        json={"name": "Cabinet Écran", "orias_number": "99887766"},
        headers=operator["headers"],
    )
    assert refused.status_code == 422
