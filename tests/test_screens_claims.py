"""Portefeuille → Sinistres through the screens: a claim recorded, flagged late, its files,
its documents, its settlement and its closing; the blocks of the client's and the
contract's pages; the list's filters and export; bad input and another agency's rows."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, Claim, ClaimDocument, ClaimPayment, Policy
from app.services.renewals.contracts import agency_today
from app.services.working_days import add_working_days
from tests.conftest import user_organisation
from tests.test_api_attachments import CLEAN_PDF, jpeg_bytes, png_bytes
from tests.test_api_premiums import make_policy
from tests.test_screens_support import count_rows, csrf_token, flashes, page_text

ADD = "/claims/add"


@pytest.fixture
def agency(app, make_user):
    user = make_user("USER")
    org = user_organisation(app, user)
    policy_id = make_policy(app, org, "POL-SIN", started_days_ago=60)
    with app.app_context():
        policy = db.session.get(Policy, policy_id)
        today = agency_today(db.session, org)
        facts = {"client": policy.client_id, "company": policy.company_id}
    return {"user": user, "org": org, "policy": policy_id, "today": today, **facts}


def _record(http, agency, **overrides):
    occurred = agency["today"] - dt.timedelta(days=20)
    data = {
        "policy_id": str(agency["policy"]),
        "nature": "water_damage",
        "occurred_on": occurred.isoformat(),
        "known_on": "",
        # Six working days after the loss: one too many.
        "client_declared_on": add_working_days(occurred, 6).isoformat(),
        "insurer_declared_on": "",
        "insurer_claim_number": "",
        "circumstances": "Fuite du ballon d'eau chaude",
        "place": "Lyon",
        "third_parties": "",
        "liability_share": "",
        "expert": "",
        "estimate": "1 250,00",
        "excess": "150",
        **overrides,
    }
    token = csrf_token(http, ADD)
    return http.post(ADD, data={**data, "csrf_token": token}, follow_redirects=True)


def _claim(app, org) -> Claim:
    with app.app_context():
        claim = db.session.scalars(select(Claim).where(Claim.organisation_id == org)).one()
        db.session.expunge(claim)
        return claim


def _upload(http, page, claim_id, data, name):
    return http.post(
        f"/attachments/upload/claim/{claim_id}",
        data={"file": (io.BytesIO(data), name), "csrf_token": csrf_token(http, page)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_a_late_water_damage_claim_is_followed_to_its_closing_from_the_screens(
    app, http, login, agency
):
    login(agency["user"])
    response = _record(http, agency)
    assert response.status_code == 200
    assert ("success", f"Sinistre {_claim(app, agency['org']).number} enregistré.") in flashes(
        response
    )
    claim = _claim(app, agency["org"])
    page = f"/claims/show/{claim.id}"
    text = page_text(response)
    # The claim's page, flagged late, with its checklist asked for today.
    assert 'id="claim-late"' in text and "Déclaré en retard" in text
    assert claim.declared_late is True and claim.estimate == claim.estimate.__class__("1250.00")
    assert "Constat amiable" in text and "Manquant" in text
    # The constat and two photos, then the list of files with their thumbnails.
    for data, name in ((CLEAN_PDF, "constat.pdf"), (jpeg_bytes(), "photo-1.jpg")):
        assert ("success", f"Fichier {name} ajouté.") in flashes(
            _upload(http, page, claim.id, data, name)
        )
    shown = _upload(http, page, claim.id, png_bytes(), "photo-2.png")
    assert 'id="attachment-list"' in page_text(shown)
    with app.app_context():
        files = db.session.scalars(
            select(Attachment).where(Attachment.claim_id == claim.id).order_by(Attachment.id)
        ).all()
        items = db.session.scalars(
            select(ClaimDocument).where(ClaimDocument.claim_id == claim.id)
        ).all()
    assert [row.file_name for row in files] == ["constat.pdf", "photo-1.jpg", "photo-2.png"]
    download = http.get(f"/attachments/download/{files[0].id}")
    assert download.data == CLEAN_PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert http.get(f"/attachments/thumbnail/{files[1].id}").mimetype == "image/png"
    # The constat received, another document asked for.
    constat = next(item for item in items if item.label == "Constat amiable")
    received = http.post(
        f"/claims/documents/{claim.id}/{constat.id}/received",
        data={"received_on": "", "csrf_token": csrf_token(http, page)},
        follow_redirects=True,
    )
    assert ("success", "Pièce marquée reçue.") in flashes(received)
    asked = http.post(
        f"/claims/documents/{claim.id}",
        data={"label": "Facture du plombier", "csrf_token": csrf_token(http, page)},
        follow_redirects=True,
    )
    assert "Facture du plombier" in page_text(asked)
    # The indemnity, then the closing.
    settled = http.post(
        f"/claims/settlements/{claim.id}",
        data={
            "kind": "indemnity_client",
            "amount": "1 100,00",
            "paid_on": agency["today"].isoformat(),
            "counterparty": "Assureur",
            "collected_by_broker": "y",
            "note": "",
            "csrf_token": csrf_token(http, page),
        },
        follow_redirects=True,
    )
    assert ("success", "Règlement enregistré.") in flashes(settled)
    assert 'id="settlement-totals"' in page_text(settled)
    assert "1\u202f100,00\xa0€" in page_text(settled)
    closed = http.post(
        f"/claims/status/{claim.id}",
        data={"status": "closed", "reason": "indemnified", "csrf_token": csrf_token(http, page)},
        follow_redirects=True,
    )
    assert ("success", f"Sinistre {claim.number} mis à jour.") in flashes(closed)
    # Closed: no settlement more, nothing written.
    refused = http.post(
        f"/claims/settlements/{claim.id}",
        data={
            "kind": "indemnity_client",
            "amount": "10",
            "paid_on": agency["today"].isoformat(),
            "csrf_token": csrf_token(http, page),
        },
        follow_redirects=True,
    )
    assert any(category == "danger" for category, _text in flashes(refused))
    assert count_rows(app, ClaimPayment, claim_id=claim.id) == 1
    # The contract's and the client's pages list the claim and their own files block.
    for owner in (f"/policyview/show/{agency['policy']}", f"/clientview/show/{agency['client']}"):
        text = page_text(http.get(owner))
        assert 'id="record-claims"' in text and claim.number in text
        assert 'id="attachments"' in text


def test_the_list_filters_on_the_late_flag_and_the_insurer_and_exports(app, http, login, agency):
    login(agency["user"])
    _record(http, agency)
    number = _claim(app, agency["org"]).number
    late = page_text(http.get("/claims/list/?_flt_0_declared_late=y"))
    assert number in late
    by_insurer = page_text(http.get(f"/claims/list/?_flt_0_insurer={agency['company']}"))
    assert number in by_insurer
    other_insurer = page_text(http.get(f"/claims/list/?_flt_0_insurer={agency['company'] + 999}"))
    assert number not in other_insurer
    export = http.get("/claims/export/csv?_flt_0_status=declared")
    assert export.status_code == 200
    assert number in export.get_data(as_text=True)
    assert "Dégât des eaux" in export.get_data(as_text=True)


def test_bad_input_is_refused_beside_its_field_and_nothing_is_written(app, http, login, agency):
    login(agency["user"])
    tomorrow = (agency["today"] + dt.timedelta(days=1)).isoformat()
    response = _record(http, agency, occurred_on=tomorrow, client_declared_on="", estimate="-3")
    text = page_text(response)
    assert "Saisissez la date du jour ou une date antérieure." in text
    assert count_rows(app, Claim, organisation_id=agency["org"]) == 0
    # A renamed executable on a real claim: refused, nothing stored.
    _record(http, agency)
    claim = _claim(app, agency["org"])
    page = f"/claims/show/{claim.id}"
    refused = _upload(http, page, claim.id, b"MZ\x90\x00\x03" + b"\x00" * 200, "facture.pdf")
    assert any(category == "danger" for category, _text in flashes(refused))
    assert count_rows(app, Attachment, claim_id=claim.id) == 0


def test_another_agencys_claim_and_files_answer_404(app, http, login, agency, make_user):
    login(agency["user"])
    _record(http, agency)
    claim = _claim(app, agency["org"])
    _upload(http, f"/claims/show/{claim.id}", claim.id, png_bytes(), "photo.png")
    with app.app_context():
        attachment_id = db.session.scalar(select(Attachment.id))
    http.get("/logout/")
    login(make_user("USER"))
    token = csrf_token(http, ADD)
    assert http.get(f"/claims/show/{claim.id}").status_code == 404
    assert http.get(f"/claims/edit/{claim.id}").status_code == 404
    assert http.get(f"/attachments/download/{attachment_id}").status_code == 404
    moved = http.post(f"/claims/status/{claim.id}", data={"status": "open", "csrf_token": token})
    assert moved.status_code == 404
    deleted = http.post(f"/attachments/delete/{attachment_id}", data={"csrf_token": token})
    assert deleted.status_code == 404
    assert count_rows(app, Attachment, id=attachment_id) == 1
    # Beyond 32 bits: no row, not a database error (PostgreSQL's INTEGER ids).
    for path in ("/claims/show/99999999999", "/attachments/download/99999999999"):
        assert http.get(path).status_code == 404
    assert http.post("/claims/status/99999999999", data={"csrf_token": token}).status_code == 404


def test_the_demo_agency_has_claims_to_show_on_its_screens(app, http, login, make_user):
    from app.services import demo

    today = dt.date.today()
    with app.app_context():
        organisation_id = demo.load_demo_data(db.session, today=today).organisation_id
        claims = db.session.scalars(
            select(Claim).where(Claim.organisation_id == organisation_id).order_by(Claim.id)
        ).all()
        assert [claim.nature.value for claim in claims] == ["water_damage", "theft", "glass"]
        assert [claim.declared_late for claim in claims] == [True, False, False]
        assert claims[1].status.value == "closed" and claims[1].close_reason.value == "indemnified"
        ids = [claim.id for claim in claims]
    login(make_user("USER", organisation_id))
    listed = page_text(http.get("/claims/list/"))
    assert listed.count("/claims/show/") >= 3
    for claim_id in ids:
        assert http.get(f"/claims/show/{claim_id}").status_code == 200
        assert http.get(f"/claims/edit/{claim_id}").status_code == 200
