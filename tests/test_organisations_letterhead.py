"""The agency's letterhead (address, phone, e-mail, complaints, mediator): optional, validated,
written through /api/v1/organisation/ and the "Agencies" screen."""

from __future__ import annotations

import pytest

from tests.test_screens_support import flashes, page_text, post_form

LETTERHEAD = {
    "address": " 18 rue de la République ",
    "postal_code": "69002",
    "city": "Lyon",
    "phone": "04 72 41 08 30",
    "email": "Contact@Durand-Courtage.example.com",
    "complaints_contact": "Service réclamations\n18 rue de la République, 69002 Lyon",
    "mediator": "La Médiation de l'Assurance\nTSA 50110\n75441 Paris Cedex 09",
}


def letterhead(app, organisation_id):
    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        row = db.session.get(Organisation, organisation_id)
        return {field: getattr(row, field) for field in LETTERHEAD}


@pytest.fixture
def operator(app, make_user, auth_headers):
    username = make_user("SUPERADMIN")
    return {"username": username, "headers": auth_headers(username)}


def test_api_creates_and_shows_the_letterhead_cleaned(app, http, operator):
    created = http.post(
        "/api/v1/organisation/",
        json={"name": "Cabinet Durand", "orias_number": "07023456", **LETTERHEAD},
        headers=operator["headers"],
    )
    assert created.status_code == 201, created.json
    shown = http.get(f"/api/v1/organisation/{created.json['id']}", headers=operator["headers"])
    result = shown.json["result"]
    assert result["address"] == "18 rue de la République"  # trimmed
    assert result["email"] == "Contact@durand-courtage.example.com"  # domain normalised
    assert result["mediator"].startswith("La Médiation de l'Assurance\nTSA 50110")
    # The list keeps its columns: the letterhead is read one agency at a time.
    listed = http.get("/api/v1/organisation/", headers=operator["headers"])
    assert "address" not in listed.json["result"][0]


def test_api_letterhead_is_optional(app, http, operator):
    created = http.post(
        "/api/v1/organisation/",
        json={"name": "Cabinet Sobre", "orias_number": "12345678"},
        headers=operator["headers"],
    )
    assert created.status_code == 201, created.json
    assert set(letterhead(app, created.json["id"]).values()) == {None}


def test_api_reports_every_invalid_letterhead_field_at_once(app, http, operator):
    response = http.post(
        "/api/v1/organisation/",
        json={
            "name": "Cabinet Faux",
            "orias_number": "12345678",
            "email": "not an address",
            "phone": "call me",
            "complaints_contact": "x" * 1001,
        },
        headers=operator["headers"],
    )
    assert response.status_code == 422, response.json
    assert set(response.json["message"]) == {"email", "phone", "complaints_contact"}


def test_api_too_long_address_answers_422(app, http, operator):
    response = http.post(
        "/api/v1/organisation/",
        json={"name": "Cabinet Long", "orias_number": "12345678", "address": "r" * 251},
        headers=operator["headers"],
    )
    assert response.status_code == 422
    assert "address" in response.json["message"]


def test_api_partial_update_keeps_the_letterhead_and_blank_clears_a_field(
    app, http, operator, make_organisation
):
    pk = make_organisation("Cabinet Roux")
    headers = operator["headers"]
    assert (
        http.put(f"/api/v1/organisation/{pk}", json=LETTERHEAD, headers=headers).status_code == 200
    )
    renamed = http.put(f"/api/v1/organisation/{pk}", json={"name": "Roux"}, headers=headers)
    assert renamed.status_code == 200, renamed.json
    assert letterhead(app, pk)["city"] == "Lyon"
    cleared = http.put(f"/api/v1/organisation/{pk}", json={"phone": "  "}, headers=headers)
    assert cleared.status_code == 200, cleared.json
    assert letterhead(app, pk)["phone"] is None
    assert letterhead(app, pk)["email"] == "Contact@durand-courtage.example.com"


def test_screen_adds_an_agency_with_its_letterhead(app, http, login, operator):
    login(operator["username"])
    form = http.get("/organisationview/add").get_data(as_text=True)
    for field in LETTERHEAD:
        assert f'name="{field}"' in form
    added = post_form(
        http,
        "/organisationview/add",
        {"name": "Cabinet Leroy", "orias_number": "13572468", **LETTERHEAD},
    )
    assert ("success", "Ligne ajoutée") in flashes(added), flashes(added)
    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        pk = db.session.query(Organisation.id).filter_by(name="Cabinet Leroy").scalar()
    assert letterhead(app, pk)["city"] == "Lyon"
    assert "18 rue de la République" in page_text(http.get(f"/organisationview/show/{pk}"))


def test_screen_refuses_an_invalid_email_beside_its_field(app, http, login, operator):
    login(operator["username"])
    refused = post_form(
        http,
        "/organisationview/add",
        {"name": "Cabinet Leroy", "orias_number": "13572468", "email": "nowhere"},
    )
    assert ("success", "Ligne ajoutée") not in flashes(refused)
    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        assert db.session.query(Organisation).filter_by(name="Cabinet Leroy").count() == 0
    text = page_text(refused)
    assert 'name="email"' in text and "nowhere" in text  # the form comes back with the value
    assert "Adresse e-mail invalide." in text
