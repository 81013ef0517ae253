"""Conformité > Réclamations through the screens: a complaint recorded shows its two
deadlines and opens their tasks; its acknowledgement and answer close them; the tabs
find the late ones; the register exports for the ACPR; a year is summed up; another
agency's complaint is not found."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import Complaint, ComplaintOutcome, TaskStatus
from tests.conftest import user_organisation
from tests.test_screens_support import csrf_token, flashes, page_text

ADD = "/complaints/add"


@pytest.fixture
def agency(app, make_user, portfolio):
    user = make_user("USER")
    org = user_organisation(app, user)
    return {"user": user, "org": org, **portfolio(org)}


def _add(http, agency, **overrides):
    data = {
        "received_on": "2026-04-30",
        "channel": "letter",
        "client_id": str(agency["client"]),
        "subject": "Remboursement refusé sans explication",
        "policy_id": str(agency["policy"]),
        "claim_id": "",
        **overrides,
    }
    return http.post(ADD, data={**data, "csrf_token": csrf_token(http, ADD)}, follow_redirects=True)


def _edit(http, complaint_id, **fields):
    path = f"/complaints/edit/{complaint_id}"
    data = {
        "received_on": "2026-04-30",
        "channel": "letter",
        "subject": "Remboursement refusé sans explication",
        "policy_id": "",
        "claim_id": "",
        "acknowledged_on": "",
        "answered_on": "",
        "outcome": "",
        **fields,
    }
    return http.post(
        path, data={**data, "csrf_token": csrf_token(http, path)}, follow_redirects=True
    )


def _only_complaint(app):
    with app.app_context():
        return db.session.scalars(select(Complaint)).one()


def test_a_complaint_recorded_on_the_screen_shows_its_deadlines_and_opens_their_tasks(
    app, http, login, agency
):
    login(agency["user"])
    form = page_text(http.get(ADD))
    assert "Date de réception" in form and "Sinistre" in form
    added = _add(http, agency)
    assert flashes(added)[0][0] == "success", flashes(added)
    complaint = _only_complaint(app)
    # Thursday 30 April 2026: 1 May, 8 May and Ascension are not jours ouvrables.
    assert complaint.acknowledgement_due_on == dt.date(2026, 5, 15)
    assert complaint.answer_due_on == dt.date(2026, 6, 30)
    with app.app_context():
        complaint = db.session.get(Complaint, complaint.id)
        assert complaint.acknowledgement_task.due_on == dt.date(2026, 5, 15)
        assert complaint.answer_task.status is TaskStatus.todo
        complaint_id = complaint.id
    long_subject = "Remboursement refusé sans explication " + "et sans réponse " * 10 + "FIN"
    _edit(http, complaint_id, subject=long_subject, policy_id=str(agency["policy"]))
    shown = page_text(http.get(f"/complaints/show/{complaint_id}"))
    assert "FIN" in shown  # the page shows the whole subject, the list its start
    assert "FIN" not in page_text(http.get("/complaints/list/"))
    assert "15/05/2026" in shown and "30/06/2026" in shown and "POL-1" in shown
    listed = page_text(http.get("/complaints/list/"))
    assert "Remboursement refusé" in listed and "Accuser réception avant le" in listed
    # Months later, both deadlines are passed: the two tabs find it, "answered" does not.
    for state in ("acknowledgement_overdue", "answer_overdue", "open"):
        tab = page_text(http.get(f"/complaints/list/?_flt_0_state={state}"))
        assert "Remboursement refusé" in tab, state
    assert "Remboursement refusé" not in page_text(
        http.get("/complaints/list/?_flt_0_state=closed")
    )


def test_the_acknowledgement_and_the_answer_close_their_tasks(app, http, login, agency):
    login(agency["user"])
    _add(http, agency)
    complaint_id = _only_complaint(app).id
    acknowledged = _edit(http, complaint_id, acknowledged_on="2026-05-05")
    assert flashes(acknowledged)[0][0] == "success", flashes(acknowledged)
    answered = _edit(
        http,
        complaint_id,
        acknowledged_on="2026-05-05",
        answered_on="2026-06-10",
        outcome="partly_upheld",
        mediator_named="y",
    )
    assert flashes(answered)[0][0] == "success", flashes(answered)
    with app.app_context():
        complaint = db.session.get(Complaint, complaint_id)
        assert complaint.outcome is ComplaintOutcome.partly_upheld and complaint.mediator_named
        assert complaint.acknowledgement_task.status is TaskStatus.done
        assert complaint.answer_task.status is TaskStatus.done
    closed = page_text(http.get("/complaints/list/?_flt_0_state=closed"))
    assert "Remboursement refusé" in closed and "Partiellement fondée" in closed
    assert "Remboursement refusé" not in page_text(
        http.get("/complaints/list/?_flt_0_state=answer_overdue")
    )


def test_an_answer_before_the_receipt_is_refused_beside_its_field_and_nothing_changes(
    app, http, login, agency
):
    login(agency["user"])
    _add(http, agency)
    complaint_id = _only_complaint(app).id
    refused = _edit(http, complaint_id, answered_on="2026-04-01", outcome="rejected")
    assert flashes(refused)[0][0] == "danger"
    assert "Cette date précède la réception de la réclamation." in page_text(refused)
    complaint = _only_complaint(app)
    assert complaint.answered_on is None and complaint.outcome is None
    future = _add(http, agency, received_on=(dt.date.today() + dt.timedelta(days=3)).isoformat())
    assert "Cette date est à venir." in page_text(future)
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Complaint.id))) == 1


def test_the_register_exports_as_csv_and_xlsx_with_its_deadlines_kept(app, http, login, agency):
    login(agency["user"])
    _add(http, agency, received_on="2026-03-02")
    kept_id = _only_complaint(app).id
    # Kept: acknowledged on the 10th jour ouvrable (Friday 13 March), answered in time.
    _edit(
        http,
        kept_id,
        received_on="2026-03-02",
        policy_id=str(agency["policy"]),
        acknowledged_on="2026-03-13",
        answered_on="2026-04-20",
        outcome="rejected",
        mediator_named="y",
    )
    _add(http, agency, received_on="2026-04-30", subject="Toujours sans réponse")
    export = http.get("/complaints/export/csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    text = export.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = rows[0]
    assert "Accusé de réception dans le délai" in header and "Médiateur indiqué" in header
    by_subject = {
        row[header.index("Objet")]: dict(zip(header, row, strict=True)) for row in rows[1:]
    }
    kept = by_subject["Remboursement refusé sans explication"]
    assert kept["Accusé de réception dans le délai"] == "Oui"
    assert kept["Réponse dans le délai"] == "Oui" and kept["Médiateur indiqué"] == "Oui"
    assert kept["Contrat"] == "POL-1" and kept["Issue"] == "Non fondée"
    assert by_subject["Toujours sans réponse"]["Réponse dans le délai"] == ""
    # The tab's filter goes with the export: the answered one only.
    closed = http.get("/complaints/export/csv?_flt_0_state=closed").get_data(as_text=True)
    assert "Remboursement refusé" in closed and "Toujours sans réponse" not in closed
    xlsx = http.get("/complaints/export/xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    assert sheet.max_row == 3


def test_the_yearly_summary_counts_the_deadlines_kept(app, http, login, agency):
    login(agency["user"])
    _add(http, agency, received_on="2026-03-02")
    complaint_id = _only_complaint(app).id
    _edit(
        http,
        complaint_id,
        received_on="2026-03-02",
        acknowledged_on="2026-03-14",  # the 11th jour ouvrable: late
        answered_on="2026-04-20",
        outcome="upheld",
        mediator_named="y",
    )
    _add(http, agency, received_on="2026-04-30")
    page = http.get("/complaints/summary?year=2026")
    assert page.status_code == 200
    text = page_text(page)
    assert "Réclamations en 2026" in text and "Fondée" in text and "Courrier" in text
    html = page.get_data(as_text=True)
    for cell, value in (
        ("summary-received", 2),
        ("summary-acknowledged-in-time", 0),
        ("summary-answered-in-time", 1),
        ("summary-open", 1),
        ("summary-overdue", 1),
    ):
        assert f'id="{cell}">{value}<' in html, cell
    assert http.get("/complaints/summary?year=abc").status_code == 400


def test_another_agencys_complaint_is_not_found_on_the_screens(
    app, http, login, agency, make_user, make_organisation
):
    login(agency["user"])
    _add(http, agency)
    complaint_id = _only_complaint(app).id
    http.get("/logout/")
    login(make_user("USER", make_organisation()))
    assert http.get(f"/complaints/show/{complaint_id}").status_code == 404
    assert http.get(f"/complaints/edit/{complaint_id}").status_code == 404
    assert "Remboursement refusé" not in page_text(http.get("/complaints/list/"))
    assert "Remboursement refusé" not in http.get("/complaints/export/csv").get_data(as_text=True)
    assert http.get(f"/complaints/delete/{complaint_id}").status_code == 404


def test_the_demo_register_shows_each_state_on_the_first_morning(app):
    from app.services import demo
    from app.services.compliance.complaints import state_condition

    today = dt.date.today()
    with app.app_context():
        organisation_id = demo.load_demo_data(db.session, today=today).organisation_id
        counts = {
            state: db.session.scalar(
                select(db.func.count(Complaint.id)).where(
                    Complaint.organisation_id == organisation_id, state_condition(state, today)
                )
            )
            for state in ("open", "closed", "acknowledgement_overdue", "near_deadline")
        }
        tasks = db.session.scalars(
            select(Complaint.answer_task_id).where(Complaint.answered_on.is_(None))
        ).all()
    assert counts == {"open": 3, "closed": 1, "acknowledgement_overdue": 1, "near_deadline": 2}
    assert len(tasks) == 3 and None not in tasks
