"""Task categories: the agency's own list, read by everyone, edited by its managers through
/api/v1/task_category/ and the "Catégories de tâches" screen; scoped, audited, never deleted;
a category switched off takes no new task."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, TaskCategory
from tests.conftest import csrf_token, user_organisation

URL = "/api/v1/task_category/"


@pytest.fixture
def agency(app, make_user, auth_headers):
    manager = make_user("MANAGER")
    org = user_organisation(app, manager)
    user = make_user("USER", org)
    return {
        "organisation": org,
        "manager": manager,
        "manager_headers": auth_headers(manager),
        "user_headers": auth_headers(user),
    }


def category(app, org: int, name: str, active: bool = True) -> int:
    with app.app_context():
        row = TaskCategory(organisation_id=org, name=name, active=active)
        db.session.add(row)
        db.session.commit()
        return row.id


def test_a_manager_adds_renames_and_switches_off_a_category(http, app, agency):
    headers = agency["manager_headers"]
    created = http.post(URL, json={"name": "  Prospection "}, headers=headers)
    assert created.status_code == 201, created.json
    pk = created.json["id"]
    assert created.json["result"] == {
        **created.json["result"],
        "name": "Prospection",
        "active": True,
    }
    renamed = http.put(f"{URL}{pk}", json={"name": "Prospects", "active": False}, headers=headers)
    assert renamed.status_code == 200, renamed.json
    shown = http.get(f"{URL}{pk}", headers=headers).json["result"]
    assert (shown["name"], shown["active"]) == ("Prospects", False)
    assert http.delete(f"{URL}{pk}", headers=headers).status_code in (404, 405)
    with app.app_context():
        actions = db.session.scalars(
            select(AuditLog.action).where(
                AuditLog.object_type == "TaskCategory", AuditLog.object_id == str(pk)
            )
        ).all()
        assert len(actions) == 2 and db.session.get(TaskCategory, pk) is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [({"name": ""}, "name"), ({"name": "x" * 81}, "name"), ({"name": "Sinistre"}, "name")],
)
def test_a_bad_or_duplicate_name_answers_422(http, app, agency, body, field):
    category(app, agency["organisation"], "Sinistre")
    response = http.post(URL, json=body, headers=agency["manager_headers"])
    assert response.status_code == 422, response.json
    assert field in str(response.json)


def test_staff_read_the_list_but_do_not_edit_it(http, app, agency):
    category(app, agency["organisation"], "Relation client")
    listed = http.get(URL, headers=agency["user_headers"])
    assert listed.status_code == 200
    assert [row["name"] for row in listed.json["result"]] == ["Relation client"]
    assert http.post(URL, json={"name": "X"}, headers=agency["user_headers"]).status_code == 403


def test_another_agency_s_categories_are_unknown(http, app, agency, make_organisation):
    foreign = category(app, make_organisation(), "Ailleurs")
    headers = agency["manager_headers"]
    assert http.get(f"{URL}{foreign}", headers=headers).status_code == 404
    assert http.put(f"{URL}{foreign}", json={"name": "Ici"}, headers=headers).status_code == 404
    assert "Ailleurs" not in str(http.get(URL, headers=headers).json)
    assert http.get(f"{URL}{2**40}", headers=headers).status_code == 404


def test_a_switched_off_category_takes_no_new_task(http, app, agency):
    org = agency["organisation"]
    on, off = category(app, org, "Actif"), category(app, org, "Ancien", active=False)
    due = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    headers = agency["user_headers"]
    filed = http.post(
        "/api/v1/task/",
        json={"title": "Appeler", "due_on": due, "category_id": on},
        headers=headers,
    )
    assert filed.status_code == 201, filed.json
    refused = http.post(
        "/api/v1/task/",
        json={"title": "Relancer", "due_on": due, "category_id": off},
        headers=headers,
    )
    assert refused.status_code == 422 and "category_id" in str(refused.json)


def test_the_screen_lists_adds_and_edits_the_agency_s_categories(
    http, app, agency, login, make_organisation
):
    category(app, make_organisation(), "Autre cabinet")
    mine = category(app, agency["organisation"], "Renouvellement")
    login(agency["manager"])
    home = http.get("/").get_data(as_text=True)
    assert "/task-categories/list/" in home and "Catégories de tâches" in home
    listed = http.get("/task-categories/list/").get_data(as_text=True)
    assert "Renouvellement" in listed and "Autre cabinet" not in listed
    assert "Oui" in listed and "True" not in listed  # the box reads in French
    token = csrf_token(http, "/task-categories/add")
    added = http.post(
        "/task-categories/add",
        data={"name": "Prévoyance", "active": "y", "csrf_token": token},
        follow_redirects=True,
    )
    assert added.status_code == 200
    duplicate = http.post(
        "/task-categories/add",
        data={"name": "Prévoyance", "active": "y", "csrf_token": token},
    ).get_data(as_text=True)
    assert "Une catégorie de ce nom existe déjà." in duplicate
    token = csrf_token(http, f"/task-categories/edit/{mine}")
    edited = http.post(
        f"/task-categories/edit/{mine}",
        data={"name": "Renouvellements", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Ligne modifiée" in edited.get_data(as_text=True)
    with app.app_context():
        names = db.session.scalars(
            select(TaskCategory.name)
            .where(TaskCategory.organisation_id == agency["organisation"])
            .order_by(TaskCategory.name)
        ).all()
        assert names == ["Prévoyance", "Renouvellements"]
        assert db.session.get(TaskCategory, mine).active is False  # unchecked: switched off


def test_staff_read_the_categories_but_cannot_change_them(http, app, make_user, login):
    # Staff file their tasks under a category: they see the list (and its menu); managers edit it.
    login(make_user("USER"))
    assert "/task-categories/list/" in http.get("/").get_data(as_text=True)
    assert http.get("/task-categories/list/").status_code == 200
    response = http.get("/task-categories/add")
    assert response.status_code in (302, 403)


def test_the_task_and_rule_forms_file_under_an_active_category(http, app, agency, login):
    from app.models import Task, TaskRule

    org = agency["organisation"]
    on, off = category(app, org, "Relation client"), category(app, org, "Ancienne", False)
    login(agency["manager"])
    form = http.get("/tasks/new").get_data(as_text=True)
    assert f'<option value="{on}"' in form and f'<option value="{off}"' not in form
    token = csrf_token(http, "/tasks/new")
    due = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    http.post(
        "/tasks/new",
        data={"title": "Rappeler", "due_on": due, "category_id": str(on), "csrf_token": token},
        follow_redirects=True,
    )
    refused = http.post(
        "/tasks/new",
        data={"title": "Non", "due_on": due, "category_id": str(off), "csrf_token": token},
    ).get_data(as_text=True)
    assert "Cette catégorie est désactivée." in refused
    rule_form = {
        "csrf_token": csrf_token(http, "/task-rules/new"),
        "name": "Appel de courtoisie",
        "trigger": "renewal_cycle_opened",
        "offset_days": "0",
        "due_days": "3",
        "title_template": "Appeler {{ client.name }}",
        "type": "action",
        "priority": "normal",
        "assignee_rule": "contract_manager",
        "category_id": str(on),
        "creates_task": "y",
        "active": "y",
    }
    saved = http.post("/task-rules/new", data=rule_form, follow_redirects=True)
    assert "Règle enregistrée." in saved.get_data(as_text=True)
    with app.app_context():
        [task] = db.session.scalars(select(Task).where(Task.organisation_id == org)).all()
        assert (task.title, task.category_id) == ("Rappeler", on)
        rule = db.session.scalar(select(TaskRule).where(TaskRule.organisation_id == org))
        assert rule.category_id == on
