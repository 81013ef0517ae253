"""/api/v1/complaint/: the complaints register through the doors, scoped to its agency.

A complaint shows both deadlines and opens their two tasks; its acknowledgement and
answer close them; an answer dated before the receipt, or without its outcome, is 422
with nothing changed; another agency's complaint or client is 404/422; the register
exports as CSV and the yearly summary counts the deadlines kept.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, Complaint, Task, TaskStatus


def post(http, headers, client_id, **body):
    return http.post(
        "/api/v1/complaint/",
        json={
            "received_on": "2026-04-30",
            "channel": "letter",
            "client_id": client_id,
            "subject": "Remboursement refusé",
            **body,
        },
        headers=headers,
    )


def tasks_of(app, complaint_id):
    with app.app_context():
        complaint = db.session.get(Complaint, complaint_id)
        return {
            "ack": (complaint.acknowledgement_task.due_on, complaint.acknowledgement_task.status),
            "answer": (complaint.answer_task.due_on, complaint.answer_task.status),
        }


def test_a_complaint_shows_its_deadlines_and_opens_their_tasks(
    http, app, make_organisation, make_user, auth_headers, portfolio
):
    org = make_organisation()
    ids = portfolio(org)
    headers = auth_headers(make_user("USER", org))
    created = post(http, headers, ids["client"], policy_id=ids["policy"])
    assert created.status_code == 201, created.json
    complaint_id = created.json["id"]
    shown = http.get(f"/api/v1/complaint/{complaint_id}", headers=headers).json["result"]
    # Thursday 30 April 2026: 1 May, 8 May and Ascension fall within the ten jours ouvrables.
    assert shown["acknowledgement_due_on"] == "2026-05-15"
    assert shown["answer_due_on"] == "2026-06-30"
    assert tasks_of(app, complaint_id) == {
        "ack": (dt.date(2026, 5, 15), TaskStatus.todo),
        "answer": (dt.date(2026, 6, 30), TaskStatus.todo),
    }
    acknowledged = http.put(
        f"/api/v1/complaint/{complaint_id}", json={"acknowledged_on": "2026-05-05"}, headers=headers
    )
    assert acknowledged.status_code == 200, acknowledged.json
    assert tasks_of(app, complaint_id)["ack"][1] is TaskStatus.done
    assert tasks_of(app, complaint_id)["answer"][1] is TaskStatus.todo
    answered = http.put(
        f"/api/v1/complaint/{complaint_id}",
        json={"answered_on": "2026-06-10", "outcome": "rejected", "mediator_named": True},
        headers=headers,
    )
    assert answered.status_code == 200, answered.json
    assert tasks_of(app, complaint_id)["answer"][1] is TaskStatus.done
    with app.app_context():
        actions = db.session.scalars(
            select(AuditLog.action).where(AuditLog.object_type == "Complaint")
        ).all()
    assert actions.count("create") == 1 and actions.count("update") == 2


def test_an_answer_before_the_receipt_or_without_outcome_changes_nothing(
    http, app, make_organisation, make_user, auth_headers, portfolio
):
    org = make_organisation()
    ids = portfolio(org)
    headers = auth_headers(make_user("USER", org))
    complaint_id = post(http, headers, ids["client"]).json["id"]
    before = http.put(
        f"/api/v1/complaint/{complaint_id}",
        json={"answered_on": "2026-04-29", "outcome": "upheld"},
        headers=headers,
    )
    assert before.status_code == 422 and "answered_on" in before.json["message"]
    bare = http.put(
        f"/api/v1/complaint/{complaint_id}", json={"answered_on": "2026-05-04"}, headers=headers
    )
    assert bare.status_code == 422 and "outcome" in bare.json["message"]
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    assert post(http, headers, ids["client"], received_on=future).status_code == 422
    shown = http.get(f"/api/v1/complaint/{complaint_id}", headers=headers).json["result"]
    assert shown["answered_on"] is None and shown["outcome"] is None
    assert tasks_of(app, complaint_id)["answer"][1] is TaskStatus.todo


def test_a_complaint_answered_at_once_opens_no_task_and_a_contract_must_be_the_clients(
    http, app, make_organisation, make_user, auth_headers, portfolio
):
    org = make_organisation()
    ids = portfolio(org)
    other = portfolio(org, "2")
    headers = auth_headers(make_user("USER", org))
    wrong = post(http, headers, ids["client"], policy_id=other["policy"])
    assert wrong.status_code == 422 and "policy_id" in wrong.json["message"]
    with app.app_context():
        tasks_before = db.session.scalar(select(func.count(Task.id)))
    answered = post(
        http,
        headers,
        ids["client"],
        received_on="2026-03-02",
        answered_on="2026-03-05",
        outcome="upheld",
        channel="phone",
    )
    assert answered.status_code == 201, answered.json
    with app.app_context():
        assert db.session.scalar(select(func.count(Task.id))) == tasks_before


def test_another_agencys_complaint_and_client_are_not_found(
    http, make_organisation, make_user, auth_headers, portfolio
):
    a, b = make_organisation(), make_organisation()
    a_ids, b_ids = portfolio(a), portfolio(b, "2")
    a_headers = auth_headers(make_user("USER", a))
    b_headers = auth_headers(make_user("USER", b))
    complaint_id = post(http, a_headers, a_ids["client"]).json["id"]
    assert http.get(f"/api/v1/complaint/{complaint_id}", headers=b_headers).status_code == 404
    assert (
        http.put(
            f"/api/v1/complaint/{complaint_id}",
            json={"acknowledged_on": "2026-05-04"},
            headers=b_headers,
        ).status_code
        == 404
    )
    assert post(http, b_headers, a_ids["client"]).status_code == 422
    assert http.delete(f"/api/v1/complaint/{complaint_id}", headers=a_headers).status_code in (
        404,
        405,
    )
    listed = http.get("/api/v1/complaint/", headers=b_headers).json
    assert listed["count"] == 0
    assert b_ids  # B's own portfolio exists, and B sees none of A's complaints


def test_the_register_exports_and_the_year_is_summed_up(
    http, make_organisation, make_user, auth_headers, portfolio
):
    org = make_organisation()
    ids = portfolio(org)
    headers = auth_headers(make_user("USER", org))
    # Kept: acknowledged on day 10 (Fri 13 Mar, Saturdays counted), answered on the last
    # day of the 2 months.
    kept = post(http, headers, ids["client"], received_on="2026-03-02").json["id"]
    http.put(
        f"/api/v1/complaint/{kept}",
        json={
            "acknowledged_on": "2026-03-13",
            "answered_on": "2026-05-02",
            "outcome": "partly_upheld",
            "mediator_named": True,
        },
        headers=headers,
    )
    # Late on both counts.
    late = post(http, headers, ids["client"], received_on="2026-03-02", channel="email").json["id"]
    http.put(
        f"/api/v1/complaint/{late}",
        json={"acknowledged_on": "2026-03-14", "answered_on": "2026-05-04", "outcome": "rejected"},
        headers=headers,
    )
    # Still open, past its answer date; and one of another year.
    post(http, headers, ids["client"], received_on="2026-04-30")
    post(http, headers, ids["client"], received_on="2025-12-01")
    summary = http.get("/api/v1/complaint/summary?year=2026", headers=headers)
    assert summary.status_code == 200, summary.json
    assert {
        key: summary.json[key]
        for key in (
            "received",
            "acknowledged",
            "acknowledged_in_time",
            "answered",
            "answered_in_time",
            "open",
            "overdue",
            "mediator_named",
        )
    } == {
        "received": 3,
        "acknowledged": 2,
        "acknowledged_in_time": 1,
        "answered": 2,
        "answered_in_time": 1,
        "open": 1,
        "overdue": 1,
        "mediator_named": 1,
    }
    assert summary.json["by_outcome"] == {"partly_upheld": 1, "rejected": 1}
    assert summary.json["by_channel"] == {"email": 1, "letter": 2}
    assert http.get("/api/v1/complaint/summary", headers=headers).status_code == 400
    assert http.get("/api/v1/complaint/summary?year=abc", headers=headers).status_code == 400
    export = http.get("/api/v1/complaint/register?year=2026", headers=headers)
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True)), delimiter=";"))
    assert [row["id"] for row in rows[:2]] == [str(kept), str(late)] and len(rows) == 3
    assert (rows[0]["acknowledgement_met"], rows[0]["answer_met"]) == ("True", "True")
    assert (rows[1]["acknowledgement_met"], rows[1]["answer_met"]) == ("False", "False")
    assert rows[2]["answered_on"] == "" and rows[2]["answer_met"] == ""
    everything = http.get("/api/v1/complaint/register", headers=headers)
    assert len(everything.get_data(as_text=True).strip().splitlines()) == 5


def test_a_complaint_about_a_claim_takes_its_contract_and_must_be_the_clients(
    http, make_organisation, make_user, auth_headers, portfolio
):
    org = make_organisation()
    ids, other = portfolio(org), portfolio(org, "2")
    headers = auth_headers(make_user("USER", org))
    known = (dt.date.today() - dt.timedelta(days=20)).isoformat()
    claim = http.post(
        "/api/v1/claim/",
        json={
            "policy_id": ids["policy"],
            "nature": "water_damage",
            "occurred_on": known,
            "known_on": known,
        },
        headers=headers,
    )
    assert claim.status_code == 201, claim.json
    created = post(http, headers, ids["client"], claim_id=claim.json["id"])
    assert created.status_code == 201, created.json
    assert created.json["result"]["policy_id"] == ids["policy"]
    wrong = post(http, headers, other["client"], claim_id=claim.json["id"])
    assert wrong.status_code == 422 and "claim_id" in wrong.json["message"]
