"""The "Tâches" screens: "Mes tâches" first on the home page (overdue first), the team view
and its bulk reassign for managers, the buttons, the rules' preview; another agency's
task is 404 on a button."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.extensions import db
from app.models import AppUser, Task, TaskStatus, Team
from app.services.tasks.defaults import install_defaults
from tests.conftest import csrf_token, user_organisation

TODAY = dt.date.today()


def add_task(app, org: int, title: str, due: dt.date, *, username=None, team=None) -> int:
    with app.app_context():
        assignee = (
            db.session.scalar(select(AppUser.id).where(AppUser.username == username))
            if username
            else None
        )
        task = Task(organisation_id=org, title=title, due_on=due, assignee_id=assignee, team=team)
        db.session.add(task)
        db.session.commit()
        return task.id


def test_my_tasks_come_first_on_the_home_page_overdue_first(app, http, make_user, login):
    user = make_user("USER")
    org = user_organisation(app, user)
    add_task(app, org, "Plus tard", TODAY + dt.timedelta(days=3), username=user)
    add_task(app, org, "En retard", TODAY - dt.timedelta(days=2), username=user)
    add_task(app, org, "Équipe", TODAY + dt.timedelta(days=1), team=Team.USER)
    add_task(app, org, "Pour les responsables", TODAY, team=Team.MANAGER)
    login(user)
    page = http.get("/").get_data(as_text=True)
    block = page.index('id="home-tasks"')
    assert block < page.index('id="count-clients"')  # the first block
    order = [page.index(title, block) for title in ("En retard", "Équipe", "Plus tard")]
    assert order == sorted(order)
    assert "Pour les responsables" not in page
    assert "Mes tâches" in page and "En retard" in page


def test_buttons_move_a_task_and_refuse_another_agencys(
    app, http, make_user, make_organisation, login
):
    user = make_user("USER")
    org = user_organisation(app, user)
    mine = add_task(app, org, "Appeler", TODAY, username=user)
    foreign = add_task(app, make_organisation(), "Pas ici", TODAY, team=Team.USER)
    login(user)
    token = csrf_token(http, "/tasks/")
    started = http.post(f"/tasks/{mine}/start", data={"csrf_token": token}, follow_redirects=True)
    assert started.status_code == 200
    done = http.post(
        f"/tasks/{mine}/complete",
        data={"csrf_token": token, "result_note": "Fait"},
        follow_redirects=True,
    )
    assert done.status_code == 200
    with app.app_context():
        task = db.session.get(Task, mine)
        assert (task.status, task.result_note) == (TaskStatus.done, "Fait")
    assert http.post(f"/tasks/{foreign}/start", data={"csrf_token": token}).status_code == 404
    # Closed: the refusal is flashed, nothing changes.
    again = http.post(f"/tasks/{mine}/cancel", data={"csrf_token": token}, follow_redirects=True)
    assert "Cette tâche est déjà close." in again.get_data(as_text=True)


def test_a_manager_reassigns_from_the_team_view(app, http, make_user, login):
    manager = make_user("MANAGER")
    org = user_organisation(app, manager)
    staff = make_user("USER", org)
    ids = [add_task(app, org, f"Tâche {n}", TODAY, team=Team.MANAGER) for n in range(3)]
    login(manager)
    page = http.get("/tasks/?view=team").get_data(as_text=True)
    assert all(f"Tâche {n}" in page for n in range(3)) and 'id="reassign-form"' in page
    with app.app_context():
        staff_id = db.session.scalar(select(AppUser.id).where(AppUser.username == staff))
    token = csrf_token(http, "/tasks/?view=team")
    answer = http.post(
        "/tasks/reassign",
        data={"csrf_token": token, "ids": [str(i) for i in ids[:2]], "target": f"user:{staff_id}"},
        follow_redirects=True,
    )
    assert "2 tâche(s) réattribuée(s)." in answer.get_data(as_text=True)
    with app.app_context():
        owners = {t.id: t.assignee_id for t in db.session.scalars(select(Task))}
    assert owners == {ids[0]: staff_id, ids[1]: staff_id, ids[2]: None}


def test_staff_have_no_team_view_nor_rules(app, http, make_user, login):
    user = make_user("USER")
    org = user_organisation(app, user)
    add_task(app, org, "Aux responsables", TODAY, team=Team.MANAGER)
    login(user)
    assert "Aux responsables" not in http.get("/tasks/?view=team").get_data(as_text=True)
    assert http.get("/task-rules/").status_code in (302, 403)


def test_the_rules_preview_writes_nothing_then_creates(app, http, make_user, login, portfolio):
    manager = make_user("MANAGER")
    org = user_organisation(app, manager)
    portfolio(org)
    with app.app_context():
        install_defaults(db.session, org)
        db.session.commit()
    login(manager)
    assert "Revoir le renouvellement" in http.get("/task-rules/").get_data(as_text=True)
    preview = http.get("/task-rules/preview").get_data(as_text=True)
    assert "Revoir le renouvellement de POL-1" in preview
    with app.app_context():
        assert db.session.scalar(select(Task.id)) is None
    token = csrf_token(http, "/task-rules/preview")
    done = http.post("/task-rules/apply", data={"csrf_token": token}, follow_redirects=True)
    assert "Revoir le renouvellement de POL-1" in done.get_data(as_text=True)


def test_a_contracts_page_leads_to_its_tasks_and_a_new_one(
    app, http, make_user, make_organisation, login, portfolio
):
    user = make_user("USER")
    org = user_organisation(app, user)
    ids = portfolio(org)
    foreign = portfolio(make_organisation(), "F")["policy"]
    add_task(app, org, "Sur un autre dossier", TODAY, username=user)
    login(user)
    page = http.get(f"/policyview/show/{ids['policy']}").get_data(as_text=True)
    assert f'href="/tasks/?policy={ids["policy"]}"' in page and "Ses tâches" in page
    token = csrf_token(http, f"/tasks/new?policy={ids['policy']}")
    created = http.post(
        "/tasks/new",
        data={
            "csrf_token": token,
            "title": "Demander une attestation",
            "due_on": TODAY.isoformat(),
            "policy": str(ids["policy"]),
            "priority": "high",
        },
        follow_redirects=True,
    )
    listed = created.get_data(as_text=True)
    assert "Tâche créée." in listed and "Demander une attestation" in listed
    assert "Sur un autre dossier" not in listed  # the contract's tasks only
    with app.app_context():
        task = db.session.scalar(select(Task).where(Task.title == "Demander une attestation"))
        assert (task.policy_id, task.client_id) == (ids["policy"], ids["client"])
    refused = http.post(
        "/tasks/new",
        data={
            "csrf_token": token,
            "title": "x",
            "due_on": TODAY.isoformat(),
            "policy": str(foreign),
        },
        follow_redirects=True,
    )
    assert "Identifiant inconnu" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Task.id).where(Task.title == "x")) is None


def test_a_manager_writes_a_rule_on_screen_and_a_broken_title_is_refused(
    app, http, make_user, login
):
    from app.models import TaskRule

    manager = make_user("MANAGER")
    login(manager)
    token = csrf_token(http, "/task-rules/new")
    form = {
        "csrf_token": token,
        "name": "Relance impayé",
        "trigger": "notice_unpaid",
        "offset_days": "8",
        "due_days": "2",
        "title_template": "Relancer {{ client.name }}\n{{ notice.number | nosuch }}",
        "type": "action",
        "priority": "high",
        "assignee_rule": "team",
        "team": "USER",
        "active": "y",
        "creates_task": "y",
    }
    refused = http.post("/task-rules/new", data=form).get_data(as_text=True)
    assert "Ligne 2" in refused and 'value="Relance impayé"' in refused
    saved = http.post(
        "/task-rules/new",
        data={**form, "title_template": "Relancer {{ client.name }}"},
        follow_redirects=True,
    )
    assert "Règle enregistrée." in saved.get_data(as_text=True)
    with app.app_context():
        rule = db.session.scalar(select(TaskRule))
        assert (rule.offset_days, rule.team, rule.active) == (8, Team.USER, True)
        rule_id = rule.id
    switched = {**form, "title_template": "Relancer {{ client.name }}", "active": ""}
    http.post(f"/task-rules/{rule_id}/edit", data=switched)
    with app.app_context():
        assert db.session.get(TaskRule, rule_id).active is False


def test_the_demo_administrator_finds_the_renewals_to_review_first(app, http, make_user, login):
    from app.services import demo

    with app.app_context():
        organisation_id = demo.load_demo_data(db.session).organisation_id
    admin = make_user("ADMIN", organisation_id)
    login(admin)
    page = http.get("/").get_data(as_text=True)
    block = page[page.index('id="home-tasks"') :]
    # The demo's contracts have no manager: their tasks go to the managers, an ADMIN among them.
    assert "de CDC-" in block  # the demo's contracts, overdue first
    assert "Voir toutes mes tâches" in block  # more than the block's ten
    assert "Revoir le renouvellement de CDC-" in http.get("/tasks/").get_data(as_text=True)
