"""Conformité > Formation DDA through the screens: a training recorded and checked as on
the API; its certificate uploaded, downloaded (the same bytes, audited), refused when it
is not what its name says, and deleted; each person's hours in a year with the October
warning; the staff's own API does not serve a manager's certificate; and the managers'
compliance page lists complaints near their deadlines and staff under their hours."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AppUser, Attachment, AuditLog, Client, TrainingRecord
from app.services.compliance import page, training
from tests.conftest import user_organisation
from tests.test_api_attachments import CLEAN_PDF
from tests.test_screens_support import csrf_token, flashes, page_text

ADD = "/training/add"


@pytest.fixture
def agency(app, make_user):
    manager = make_user("MANAGER")
    org = user_organisation(app, manager)
    user = make_user("USER", org)
    with app.app_context():
        ids = {
            name: db.session.scalars(select(AppUser.id).where(AppUser.username == name)).one()
            for name in (manager, user)
        }
    return {"manager": manager, "user": user, "org": org, "ids": ids}


def _add(http, person_id, **overrides):
    data = {
        "user": str(person_id),
        "completed_on": "2026-03-10",
        "hours": "7,5",
        "title": "Devoir de conseil",
        "body": "Institut de formation de l’assurance",
        "certificate_reference": "ATT-2026-001",
        **overrides,
    }
    return http.post(ADD, data={**data, "csrf_token": csrf_token(http, ADD)}, follow_redirects=True)


def _record(app):
    with app.app_context():
        return db.session.scalars(select(TrainingRecord)).one()


def _upload(http, record_id, content, name):
    path = f"/training/show/{record_id}"
    return http.post(
        f"/training/certificate/{record_id}",
        data={"file": (io.BytesIO(content), name), "csrf_token": csrf_token(http, path)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_a_training_is_recorded_and_checked_as_on_the_api(app, http, login, agency):
    login(agency["manager"])
    assert "Organisme de formation" in page_text(http.get(ADD))
    refused = _add(http, agency["ids"][agency["user"]], hours="250")
    assert flashes(refused)[0][0] == "danger"
    with app.app_context():
        assert db.session.scalar(select(db.func.count(TrainingRecord.id))) == 0
    added = _add(http, agency["ids"][agency["user"]])
    assert flashes(added)[0][0] == "success", flashes(added)
    record = _record(app)
    assert record.hours == Decimal("7.50") and record.organisation_id == agency["org"]
    listed = page_text(http.get("/training/list/"))
    assert "Devoir de conseil" in listed and "7,5" in listed


def test_a_certificate_is_uploaded_downloaded_refused_and_deleted(
    app, http, login, agency, auth_headers
):
    login(agency["manager"])
    _add(http, agency["ids"][agency["user"]])
    record_id = _record(app).id
    fake = _upload(http, record_id, b"MZ not a pdf at all", "attestation.pdf")
    assert "Le contenu du fichier ne correspond pas à son nom." in page_text(fake)
    saved = _upload(http, record_id, CLEAN_PDF, "attestation.pdf")
    assert flashes(saved)[-1] == ("success", "Attestation enregistrée."), flashes(saved)
    assert "attestation.pdf" in page_text(http.get(f"/training/show/{record_id}"))
    download = http.get(f"/training/certificate/{record_id}/download")
    assert download.status_code == 200 and download.data == CLEAN_PDF
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    with app.app_context():
        attachment = db.session.scalars(select(Attachment)).one()
        assert attachment.training_record_id == record_id and attachment.client_id is None
        assert db.session.scalars(
            select(AuditLog.id).where(AuditLog.action == "attachment.download")
        ).all()
        attachment_id = attachment.id
    # Staff's attachments API neither lists nor serves the manager's certificate.
    headers = auth_headers(agency["user"])
    assert http.get(f"/api/v1/attachment/{attachment_id}", headers=headers).status_code == 404
    download_path = f"/api/v1/attachment/{attachment_id}/download"
    assert http.get(download_path, headers=headers).status_code == 404
    assert http.get("/api/v1/attachment/", headers=headers).json["count"] == 0
    http.get("/logout/")
    login(agency["user"])
    assert http.get(f"/training/certificate/{record_id}/download").status_code in (302, 403)
    http.get("/logout/")
    login(agency["manager"])
    path = f"/training/show/{record_id}"
    removed = http.post(
        f"/training/certificate/{record_id}/remove",
        data={"csrf_token": csrf_token(http, path)},
        follow_redirects=True,
    )
    assert flashes(removed)[-1] == ("success", "Attestation supprimée.")
    with app.app_context():
        assert db.session.scalars(select(Attachment)).first() is None
    assert http.get(f"/training/certificate/{record_id}/download").status_code == 404


def test_the_hours_page_warns_from_october_for_anyone_under_fifteen_hours(app, http, login, agency):
    login(agency["manager"])
    _add(http, agency["ids"][agency["user"]], hours="16")
    _add(http, agency["ids"][agency["manager"]], hours="3,5", title="LCB-FT")
    html = http.get("/training/hours?year=2026").get_data(as_text=True)
    # Today (December) is past 1 October: the manager, at 3,5 h, is flagged; the user is not.
    assert html.count("Moins de 15 heures") == 1 and "11,5" in html
    assert "Moins de 15 heures de formation cette année" in page_text(http.get("/training/list/"))
    assert http.get("/training/hours?year=20x6").status_code == 400
    with app.app_context():
        people = training.yearly_hours(db.session, agency["org"], 2026, dt.date(2026, 9, 30))
    assert not any(person["warning"] for person in people)  # 30 September: not yet


def test_the_training_screens_are_a_managers(app, http, login, agency):
    login(agency["user"])
    for path in ("/training/list/", ADD, "/training/hours", "/compliance/"):
        assert http.get(path).status_code in (302, 403), path


def test_the_compliance_page_lists_complaints_near_their_deadlines_and_staff_under_hours(
    app, http, login, agency, portfolio
):
    from tests.test_screens_complaints import _add as add_complaint

    ids = portfolio(agency["org"])
    login(agency["manager"])
    _add(http, agency["ids"][agency["user"]], hours="15")
    today = dt.date.today()
    add_complaint(
        http,
        {"client": ids["client"], "policy": ids["policy"]},
        received_on=(today - dt.timedelta(days=30)).isoformat(),
        subject="Attestation jamais reçue",
    )
    add_complaint(
        http,
        {"client": ids["client"], "policy": ids["policy"]},
        received_on=today.isoformat(),
        subject="Réclamation du jour",
    )
    # A prospect untouched for 4 years: past the 3 years of retention (domain.md, CNIL).
    with app.app_context():
        old = dt.datetime.combine(today.replace(year=today.year - 4), dt.time(12))
        prospect = Client(
            organisation_id=agency["org"], first_name="Paul", last_name="Ancienprospect"
        )
        db.session.add(prospect)
        db.session.flush()
        db.session.execute(
            update(Client).where(Client.id == prospect.id).values(created_at=old, updated_at=old)
        )
        db.session.commit()
        prospect_id = prospect.id
    html = http.get("/compliance/").get_data(as_text=True)
    text = page_text(http.get("/compliance/"))
    assert "Réclamations proches de leurs délais" in text
    assert "Attestation jamais reçue" in text and "En retard" in text
    assert "Réclamation du jour" not in text  # its acknowledgement is 10 jours ouvrables away
    # The manager is under 15 hours; the user, at 15, is not listed.
    staff = html[html.index('id="compliance-training"') :]
    assert "Manager" in staff and "0 h sur 15" in staff
    with app.app_context():
        sections = page.compliance_page(db.session, agency["org"], today)
    assert [section.key for section in sections] == [
        "der",
        "fic",
        "complaints",
        "training",
        "retention",
    ]
    assert [row.text.split(" — ")[1] for row in sections[2].rows] == ["Attestation jamais reçue"]
    assert sections[2].rows[0].late and sections[2].rows[0].detail == "acknowledgement"
    assert {row.link for row in sections[3].rows} == {("user", agency["ids"][agency["manager"]])}
    # Only the prospect is due: the contract's client is kept while the contract runs.
    assert [row.link for row in sections[4].rows] == [("client", prospect_id)]
    retained = html[html.index('id="compliance-retention"') :]
    assert "Ancienprospect" in retained and "Durée de conservation dépassée" in retained
