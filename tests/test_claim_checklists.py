"""Claim checklists: the documents each claim nature asks for, per agency and line.

The resolution's table (app/services/claims/checklist.py resolve), then the doors: a
manager configures an agency's list through /api/v1/claim_checklist_item/ and the
Administration screen, a claim recorded picks it up, another agency keeps the shipped
defaults and never sees the first one's items; staff read and cannot edit.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import AuditLog, ClaimChecklistItem, ClaimNature, LineOfBusiness, Policy
from app.services.claims.checklist import Item, check_item, load_defaults, resolve
from app.services.renewals.contracts import agency_today
from tests.conftest import csrf_token, user_organisation
from tests.test_api_premiums import make_policy

URL = "/api/v1/claim_checklist_item/"
CLAIMS = "/api/v1/claim/"
SCREEN = "/claim-checklists"
DECLARATION = "Déclaration écrite du client"
HOME, AUTO = LineOfBusiness.home, LineOfBusiness.auto


# --- resolution: a pure table ------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "items", "expected"),
    [
        # Nothing configured for the nature: the shipped defaults.
        (HOME, [], ["D", "def1", "def2"]),
        # Configured for another line only: this line keeps the defaults.
        (HOME, [Item(AUTO, "Carte grise")], ["D", "def1", "def2"]),
        # The line's items first (by position), then the nature-wide ones.
        (
            HOME,
            [
                Item(None, "RIB", position=0, id=1),
                Item(HOME, "Facture", position=2, id=2),
                Item(HOME, "Photos", position=1, id=3),
                Item(AUTO, "Carte grise", position=0, id=4),
            ],
            ["D", "Photos", "Facture", "RIB"],
        ),
        # Ties on position keep the order of addition.
        (HOME, [Item(HOME, "B", id=2), Item(HOME, "A", id=1)], ["D", "A", "B"]),
        # Switched off: not asked, yet the nature counts as configured (no defaults).
        (HOME, [Item(HOME, "Photos", active=False)], ["D"]),
        (HOME, [Item(None, "RIB", active=False), Item(HOME, "Photos")], ["D", "Photos"]),
        # A label met twice is asked once; the declaration stays first and single.
        (
            HOME,
            [Item(HOME, "RIB", id=1), Item(None, "RIB", id=2), Item(None, "D", id=3)],
            ["D", "RIB"],
        ),
        # A contract with no line (none today, but the rule holds): nature-wide items only.
        (None, [Item(None, "RIB"), Item(HOME, "Photos")], ["D", "RIB"]),
    ],
)
def test_resolution_table(line, items, expected):
    assert resolve(line, items, ["def1", "def2"], "D") == expected


def test_a_nature_without_defaults_asks_for_the_declaration_alone():
    assert resolve(HOME, [], [], "D") == ["D"]


# --- the service: loading the defaults, refusing duplicates -------------------------------
def test_loading_the_defaults_twice_adds_them_once_and_spares_a_switched_off_one(
    app, make_organisation
):
    org = make_organisation()
    with app.test_request_context():
        db.session.add(
            ClaimChecklistItem(
                organisation_id=org,
                nature=ClaimNature.water_damage,
                label="Constat amiable",
                position=0,
                active=False,
            )
        )
        first = load_defaults(db.session, org)
        db.session.commit()
        again = load_defaults(db.session, org)
        db.session.commit()
        rows = db.session.scalars(
            select(ClaimChecklistItem)
            .where(
                ClaimChecklistItem.organisation_id == org,
                ClaimChecklistItem.nature == ClaimNature.water_damage,
            )
            .order_by(ClaimChecklistItem.position)
        ).all()
    assert again == 0 and first > 20
    assert [(row.label, row.active, row.position) for row in rows] == [
        ("Constat amiable", False, 0),  # a manager's decision: left switched off
        ("Photos des dommages", True, 1),
        ("Devis de réparation ou factures", True, 2),
    ]


def test_an_item_for_every_line_cannot_be_added_twice(app, make_organisation):
    from app.models.base import ModelValidationError

    org = make_organisation()
    with app.app_context():
        kept = ClaimChecklistItem(
            organisation_id=org, nature=ClaimNature.theft, label="RIB", position=0
        )
        db.session.add(kept)
        db.session.commit()
        twin = ClaimChecklistItem(organisation_id=org, nature=ClaimNature.theft, label=" RIB ")
        with pytest.raises(ModelValidationError) as refused:
            check_item(db.session, twin)
        assert "label" in refused.value.errors
        # The same label on one line is another list; with no position it goes last there.
        home = ClaimChecklistItem(
            organisation_id=org, nature=ClaimNature.theft, line_of_business=HOME, label="RIB"
        )
        check_item(db.session, home)
        assert home.position == 0
        db.session.rollback()


# --- the doors ----------------------------------------------------------------------------
@pytest.fixture
def agency(app, make_user, auth_headers):
    manager = make_user("MANAGER")
    org = user_organisation(app, manager)
    user = make_user("USER", org)
    policy_id = make_policy(app, org, "POL-H")
    with app.app_context():
        db.session.execute(
            update(Policy).where(Policy.id == policy_id).values(line_of_business=HOME)
        )
        db.session.commit()
        today = agency_today(db.session, org)
    return {
        "org": org,
        "manager": manager,
        "user": user,
        "policy": policy_id,
        "today": today,
        "manager_headers": auth_headers(manager),
        "user_headers": auth_headers(user),
    }


def add_item(http, headers, **body):
    return http.post(URL, json={"nature": "water_damage", **body}, headers=headers)


def claim_documents(http, headers, policy_id, today, nature="water_damage") -> list[str]:
    occurred = (today - dt.timedelta(days=2)).isoformat()
    created = http.post(
        CLAIMS,
        json={"policy_id": policy_id, "nature": nature, "occurred_on": occurred},
        headers=headers,
    )
    assert created.status_code == 201, created.json
    listed = http.get(f"{CLAIMS}{created.json['id']}/documents", headers=headers)
    return [row["label"] for row in listed.json["result"]]


def test_a_home_water_damage_asks_the_agency_s_list_and_another_agency_the_defaults(
    app, http, agency, make_user, auth_headers
):
    headers = agency["manager_headers"]
    for body in (
        {"line_of_business": "home", "label": "Facture du plombier", "position": 1},
        {"line_of_business": "home", "label": "Photos des dégâts", "position": 0},
        {"line_of_business": None, "label": "RIB du client"},
        {"line_of_business": "home", "label": "Ancien formulaire", "active": False},
        {"line_of_business": "auto", "label": "Carte grise"},
        {"nature": "theft", "line_of_business": "home", "label": "Liste des biens volés"},
    ):
        response = add_item(http, headers, **body)
        assert response.status_code == 201, response.json
    asked = claim_documents(http, agency["user_headers"], agency["policy"], agency["today"])
    assert asked == [DECLARATION, "Photos des dégâts", "Facture du plombier", "RIB du client"]

    # Another agency configured nothing: its home water damage asks the shipped defaults.
    stranger = make_user("USER")
    other = user_organisation(app, stranger)
    other_policy = make_policy(app, other, "POL-O")
    with app.app_context():
        db.session.execute(
            update(Policy).where(Policy.id == other_policy).values(line_of_business=HOME)
        )
        db.session.commit()
        other_today = agency_today(db.session, other)
    shipped = claim_documents(http, auth_headers(stranger), other_policy, other_today)
    assert shipped == [
        DECLARATION,
        "Constat amiable",
        "Photos des dommages",
        "Devis de réparation ou factures",
    ]


def test_the_api_edits_deletes_audits_and_answers_422_on_bad_items(app, http, agency):
    headers = agency["manager_headers"]
    created = add_item(http, headers, line_of_business="home", label="  Photos   des dégâts ")
    assert created.status_code == 201, created.json
    pk = created.json["id"]
    assert created.json["result"]["label"] == "Photos des dégâts"
    assert created.json["result"]["position"] == 0
    for body, field in (
        ({"line_of_business": "home", "label": "Photos des dégâts"}, "label"),
        ({"label": ""}, "label"),
        ({"label": "x" * 201}, "label"),
        ({"nature": "meteor", "label": "X"}, "nature"),
        ({"line_of_business": "boat", "label": "X"}, "line_of_business"),
        ({"label": "X", "position": -1}, "position"),
    ):
        refused = add_item(http, headers, **body)
        assert refused.status_code == 422, (body, refused.json)
        assert field in str(refused.json), (body, refused.json)
    # Twice for every line: the database cannot see it (NULL), the service does.
    assert add_item(http, headers, label="RIB").status_code == 201
    assert add_item(http, headers, label="RIB").status_code == 422
    edited = http.put(f"{URL}{pk}", json={"position": 3, "active": False}, headers=headers)
    assert edited.status_code == 200, edited.json
    shown = http.get(f"{URL}{pk}", headers=headers).json["result"]
    assert (shown["position"], shown["active"], shown["line_of_business"]) == (3, False, "home")
    assert http.delete(f"{URL}{pk}", headers=headers).status_code == 200
    assert http.get(f"{URL}{pk}", headers=headers).status_code == 404
    with app.app_context():
        actions = db.session.scalars(
            select(AuditLog.action).where(
                AuditLog.object_type == "ClaimChecklistItem", AuditLog.object_id == str(pk)
            )
        ).all()
    assert len(actions) == 3


def test_another_agency_s_items_are_unknown_and_staff_only_read(
    app, http, agency, make_user, auth_headers
):
    foreign_manager = make_user("MANAGER")
    foreign = add_item(http, auth_headers(foreign_manager), label="Pièce d'ailleurs")
    assert foreign.status_code == 201
    foreign_id = foreign.json["id"]
    headers = agency["manager_headers"]
    assert http.get(f"{URL}{foreign_id}", headers=headers).status_code == 404
    assert http.put(f"{URL}{foreign_id}", json={"label": "Ici"}, headers=headers).status_code == 404
    assert http.delete(f"{URL}{foreign_id}", headers=headers).status_code == 404
    assert "ailleurs" not in str(http.get(URL, headers=headers).json)
    mine = add_item(http, headers, label="Pièce d'ici").json["id"]
    staff = agency["user_headers"]
    listed = http.get(URL, headers=staff)
    assert listed.status_code == 200
    assert [row["label"] for row in listed.json["result"]] == ["Pièce d'ici"]
    assert add_item(http, staff, label="X").status_code == 403
    assert http.put(f"{URL}{mine}", json={"label": "Y"}, headers=staff).status_code == 403
    assert http.delete(f"{URL}{mine}", headers=staff).status_code == 403


def test_the_screen_lists_adds_and_loads_the_defaults_once(
    app, http, agency, login, make_user, auth_headers
):
    add_item(http, auth_headers(make_user("MANAGER")), label="Pièce d'un autre cabinet")
    login(agency["manager"])
    home = http.get("/").get_data(as_text=True)
    assert f"{SCREEN}/list/" in home and "Pièces attendues des sinistres" in home
    token = csrf_token(http, f"{SCREEN}/add")
    form = {
        "nature": "water_damage",
        "line_of_business": "home",
        "label": "Facture du plombier",
        "position": "",
        "active": "y",
        "csrf_token": token,
    }
    added = http.post(f"{SCREEN}/add", data=form, follow_redirects=True)
    assert added.status_code == 200
    duplicate = http.post(f"{SCREEN}/add", data=form).get_data(as_text=True)
    assert "Ce document figure déjà sur cette liste." in duplicate
    listed = http.get(f"{SCREEN}/list/").get_data(as_text=True)
    assert "Facture du plombier" in listed and "autre cabinet" not in listed
    assert "Charger les listes par défaut" in listed and "Dégât des eaux" in listed
    loaded = http.post(
        f"{SCREEN}/load-defaults", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Documents ajoutés depuis les listes par défaut" in loaded
    again = http.post(
        f"{SCREEN}/load-defaults", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Vos listes contiennent déjà toutes les pièces par défaut." in again
    assert http.post(f"{SCREEN}/load-defaults", data={}).status_code == 400  # no CSRF token
    with app.app_context():
        counts = db.session.execute(
            select(ClaimChecklistItem.label, func.count())
            .where(ClaimChecklistItem.organisation_id == agency["org"])
            .group_by(
                ClaimChecklistItem.nature,
                ClaimChecklistItem.line_of_business,
                ClaimChecklistItem.label,
            )
            .having(func.count() > 1)
        ).all()
        total = db.session.scalar(
            select(func.count()).where(ClaimChecklistItem.organisation_id == agency["org"])
        )
    assert counts == [] and total > 20
    # The claim now asks the home line's item, then the loaded nature-wide defaults.
    asked = claim_documents(http, agency["user_headers"], agency["policy"], agency["today"])
    assert asked == [
        DECLARATION,
        "Facture du plombier",
        "Constat amiable",
        "Photos des dommages",
        "Devis de réparation ou factures",
    ]


def test_staff_read_the_lists_but_cannot_change_them(app, http, agency, login):
    add_item(http, agency["manager_headers"], label="Pièce du cabinet")
    login(agency["user"])
    home = http.get("/").get_data(as_text=True)
    assert f"{SCREEN}/list/" in home
    listed = http.get(f"{SCREEN}/list/").get_data(as_text=True)
    assert "Pièce du cabinet" in listed and "Charger les listes par défaut" not in listed
    assert http.get(f"{SCREEN}/add").status_code in (302, 403)
    token = csrf_token(http, "/claims/add")  # the session's token, from a form staff may fill
    refused = http.post(f"{SCREEN}/load-defaults", data={"csrf_token": token})
    assert refused.status_code in (302, 403)
    with app.app_context():
        total = db.session.scalar(
            select(func.count()).where(ClaimChecklistItem.organisation_id == agency["org"])
        )
    assert total == 1
