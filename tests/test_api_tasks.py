"""/api/v1/task/ and /api/v1/task_rule/: a task's life through the doors, scoped to its agency.

A user posts a task on a contract, starts and completes it; a validation task is approved;
closed tasks refuse changes (409); another agency's task is 404, in a bulk reassign too;
only managers reassign in bulk and write rules; the rules' dry run writes nothing and a
broken title is refused with its line.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from app.extensions import db
from app.models import AppUser, AuditLog, Task, TaskRule
from app.services.tasks.defaults import install_defaults

TOMORROW = (dt.date.today() + dt.timedelta(days=1)).isoformat()
LAST_WEEK = (dt.date.today() - dt.timedelta(days=7)).isoformat()


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(AppUser.id).where(AppUser.username == username))


def post_task(http, headers, **body):
    return http.post(
        "/api/v1/task/",
        json={"title": "Appeler le client", "due_on": TOMORROW, **body},
        headers=headers,
    )


def test_a_task_on_a_contract_is_started_and_completed(
    http, app, make_organisation, make_user, auth_headers, portfolio
):
    org = make_organisation()
    ids = portfolio(org)
    staff = make_user("USER", org)
    headers = auth_headers(staff)
    created = post_task(http, headers, policy_id=ids["policy"], priority="high")
    assert created.status_code == 201, created.json
    task = created.json["result"]
    # Nobody named: the author's own; the contract brings its client.
    assert task["assignee_id"] == user_id(app, staff) and task["client_id"] == ids["client"]
    assert task["status"] == "todo" and task["source"] == "manual"
    task_id = created.json["id"]
    started = http.post(f"/api/v1/task/{task_id}/start", headers=headers)
    assert started.status_code == 200 and started.json["result"]["status"] == "in_progress"
    done = http.post(
        f"/api/v1/task/{task_id}/complete", json={"result_note": "Client rappelé"}, headers=headers
    )
    assert done.status_code == 200, done.json
    assert done.json["result"]["status"] == "done" and done.json["result"]["completed_at"]
    assert http.post(f"/api/v1/task/{task_id}/cancel", headers=headers).status_code == 409
    assert (
        http.put(f"/api/v1/task/{task_id}", json={"title": "x"}, headers=headers).status_code == 409
    )
    with app.app_context():
        actions = db.session.scalars(
            select(AuditLog.action).where(AuditLog.object_type == "Task")
        ).all()
    assert actions.count("create") == 1 and actions.count("update") >= 2


def test_a_validation_task_is_approved_not_completed(
    http, make_organisation, make_user, auth_headers
):
    org = make_organisation()
    manager = make_user("MANAGER", org)
    headers = auth_headers(manager)
    task_id = post_task(http, headers, type="validation", team="MANAGER").json["id"]
    assert http.post(f"/api/v1/task/{task_id}/complete", headers=headers).status_code == 409
    approved = http.post(
        f"/api/v1/task/{task_id}/approve", json={"result_note": "OK"}, headers=headers
    )
    assert approved.status_code == 200
    assert (approved.json["result"]["outcome"], approved.json["result"]["status"]) == (
        "approved",
        "done",
    )
    action = post_task(http, headers).json["id"]
    assert http.post(f"/api/v1/task/{action}/refuse", headers=headers).status_code == 409


def test_the_list_filters_mine_and_overdue_first_by_due_date(
    http, make_organisation, make_user, auth_headers
):
    org = make_organisation()
    staff, colleague = make_user("USER", org), make_user("USER", org)
    headers = auth_headers(staff)
    later = post_task(http, headers, title="Plus tard").json["id"]
    late = post_task(http, headers, title="En retard", due_on=LAST_WEEK).json["id"]
    team = post_task(http, headers, title="Équipe", team="USER").json["id"]
    post_task(http, auth_headers(colleague), title="Pas à moi")
    query = "(filters:!((col:mine,opr:eq,value:!t)))"
    mine = http.get(f"/api/v1/task/?q={query}", headers=headers)
    assert mine.status_code == 200, mine.json
    assert sorted(mine.json["ids"]) == sorted([late, later, team])
    assert mine.json["ids"][0] == late  # by due date: the overdue one first
    query = "(filters:!((col:overdue,opr:eq,value:!t)))"
    assert http.get(f"/api/v1/task/?q={query}", headers=headers).json["ids"] == [late]


def test_another_agencys_task_is_not_found_anywhere(
    http, make_organisation, make_user, auth_headers, portfolio
):
    org, other = make_organisation(), make_organisation()
    ours = auth_headers(make_user("MANAGER", org))
    theirs = auth_headers(make_user("MANAGER", other))
    their_task = post_task(http, theirs).json["id"]
    our_task = post_task(http, ours).json["id"]
    foreign_policy = portfolio(other, "X")["policy"]
    assert http.get(f"/api/v1/task/{their_task}", headers=ours).status_code == 404
    assert http.post(f"/api/v1/task/{their_task}/start", headers=ours).status_code == 404
    assert (
        http.put(f"/api/v1/task/{their_task}", json={"title": "x"}, headers=ours).status_code == 404
    )
    bulk = http.post(
        "/api/v1/task/reassign", json={"ids": [our_task, their_task], "team": "USER"}, headers=ours
    )
    assert bulk.status_code == 404
    linked = post_task(http, ours, policy_id=foreign_policy)
    assert linked.status_code == 422 and "policy_id" in linked.json["message"]
    assert http.get("/api/v1/task/", headers=ours).json["ids"] == [our_task]


def test_only_managers_reassign_in_bulk(http, app, make_organisation, make_user, auth_headers):
    org = make_organisation()
    staff, manager = make_user("USER", org), make_user("MANAGER", org)
    mine = [post_task(http, auth_headers(staff)).json["id"] for _ in range(2)]
    body = {"ids": mine, "assignee_id": user_id(app, manager)}
    assert (
        http.post("/api/v1/task/reassign", json=body, headers=auth_headers(staff)).status_code
        == 403
    )
    done = http.post("/api/v1/task/reassign", json=body, headers=auth_headers(manager))
    assert done.status_code == 200 and done.json["ids"] == sorted(mine)
    with app.app_context():
        owners = set(db.session.scalars(select(Task.assignee_id).where(Task.id.in_(mine))))
    assert owners == {user_id(app, manager)}
    # The staff member no longer works on them.
    assert (
        http.post(f"/api/v1/task/{mine[0]}/start", headers=auth_headers(staff)).status_code == 403
    )


def test_rules_are_for_managers_and_a_broken_title_names_its_line(
    http, make_organisation, make_user, auth_headers
):
    org = make_organisation()
    staff, manager = auth_headers(make_user("USER", org)), auth_headers(make_user("MANAGER", org))
    body = {
        "name": "Relance",
        "trigger": "notice_unpaid",
        "offset_days": 10,
        "due_days": 2,
        "title_template": "Relancer {{ client.name }}\n{{ notice.number | nosuch }}",
        "assignee_rule": "team",
        "team": "USER",
    }
    assert http.post("/api/v1/task_rule/", json=body, headers=staff).status_code == 403
    broken = http.post("/api/v1/task_rule/", json=body, headers=manager)
    assert broken.status_code == 422
    assert "2" in broken.json["message"]["title_template"][0]
    fixed = http.post(
        "/api/v1/task_rule/",
        json={**body, "title_template": "Relancer {{ client.name }}"},
        headers=manager,
    )
    assert fixed.status_code == 201, fixed.json
    no_team = http.put(
        f"/api/v1/task_rule/{fixed.json['id']}", json={"team": None}, headers=manager
    )
    assert no_team.status_code == 422 and "team" in no_team.json["message"]


def test_apply_dry_run_lists_then_apply_creates(
    http, app, make_organisation, make_user, auth_headers, portfolio
):
    org = make_organisation()
    portfolio(org)  # its cycle (échéance 1 Jan 2027) is open
    manager = auth_headers(make_user("MANAGER", org))
    with app.app_context():
        install_defaults(db.session, org)
        db.session.commit()
    dry = http.post("/api/v1/task_rule/apply", json={"dry_run": True}, headers=manager)
    assert dry.status_code == 200, dry.json
    assert dry.json["dry_run"] is True and dry.json["created"] == len(dry.json["planned"]) > 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Task)) == 0
    done = http.post("/api/v1/task_rule/apply", headers=manager)
    assert done.status_code == 200 and done.json["created"] == dry.json["created"]
    again = http.post("/api/v1/task_rule/apply", headers=manager)
    assert again.json["created"] == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TaskRule)) > 0
