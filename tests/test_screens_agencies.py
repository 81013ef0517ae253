"""The agencies screen (SUPERADMIN): add, edit, delete, and ORIAS/duplicate checks."""

from __future__ import annotations

import pytest

from app.models import Organisation
from tests.conftest import user_organisation
from tests.test_screens_support import count_rows, csrf_token, flashes, load, page_text, post_form

FORM_HAS_ERRORS = "Le formulaire contient des erreurs : corrigez les champs signalés ci-dessous."


def _only_id(app, **equal):
    from sqlalchemy import select

    from app.extensions import db

    with app.app_context():
        query = select(Organisation.id)
        for column, value in equal.items():
            query = query.where(getattr(Organisation, column) == value)
        return db.session.execute(query).scalar_one()


def _delete(http, path, form_path):
    token = csrf_token(http, form_path)
    return http.post(path, data={"csrf_token": token}, follow_redirects=True)


def _refused(response, message: str) -> str:
    assert response.status_code == 200
    page = page_text(response)
    assert message in page, flashes(response)
    assert ("danger", FORM_HAS_ERRORS) in flashes(response)
    return page


def test_superadmin_manages_agencies(app, http, make_user, login):
    login(make_user("SUPERADMIN"))
    added = post_form(
        http, "/organisationview/add", {"name": "Cabinet Lumière", "orias_number": "07001234"}
    )
    assert ("success", "Ligne ajoutée") in flashes(added)
    organisation_id = _only_id(app, name="Cabinet Lumière")
    assert "07001234" in page_text(http.get("/organisationview/list/"))
    post_form(
        http,
        f"/organisationview/edit/{organisation_id}",
        {"name": "Cabinet Lumière & Fils", "orias_number": "07001234"},
    )
    assert load(app, Organisation, organisation_id).name == "Cabinet Lumière & Fils"
    _delete(http, f"/organisationview/delete/{organisation_id}", "/organisationview/list/")
    assert load(app, Organisation, organisation_id) is None


def test_agencies_screen_is_for_the_platform_operator_only(app, http, make_user, login):
    login(make_user("ADMIN"))
    assert http.get("/organisationview/list/").status_code == 403


@pytest.mark.parametrize(
    ("orias", "message"),
    [
        ("1234", "Un numéro ORIAS comporte 8 chiffres."),
        ("ABCDEFGH", "Un numéro ORIAS comporte 8 chiffres."),
        ("EXISTING", "Un cabinet avec ce numéro ORIAS existe déjà."),
    ],
)
def test_agency_with_bad_or_duplicate_orias_is_refused(app, http, make_user, login, orias, message):
    admin = make_user("SUPERADMIN")
    existing = load(app, Organisation, user_organisation(app, admin)).orias_number
    login(admin)
    orias = existing if orias == "EXISTING" else orias
    before = count_rows(app, Organisation)
    page = _refused(
        post_form(http, "/organisationview/add", {"name": "Cabinet Neuf", "orias_number": orias}),
        message,
    )
    assert 'value="Cabinet Neuf"' in page
    assert count_rows(app, Organisation) == before
