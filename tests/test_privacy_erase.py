"""POST /api/v1/client/<id>/erase: a former client leaves no personal data behind.

After the erasure no string, text or JSON cell of any table, and no stored file, holds
the client's name, e-mail, phone, IBAN or its proposal's needs statement and advice, while
the agency's totals (contracts, notices, payments, claims, their amounts) are what they
were, and the proposal, its quote and FIC keep their ids, amounts, dates and statuses. The
legal holds answer 409 with what holds and change nothing; erasing twice is 409; another
agency's client is 404; USER is 403.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Attachment,
    AuditLog,
    Claim,
    Client,
    Complaint,
    ComplianceDocument,
    LineOfBusiness,
    Mandate,
    Payment,
    Policy,
    PolicyStatus,
    PremiumNotice,
    Proposal,
    Quote,
)
from app.services.advice.questionnaire import DEFAULT_QUESTIONS
from tests.privacy_support import (
    ADVICE,
    EMAIL,
    FULL,
    IBAN,
    QUOTE_PREMIUM,
    QUOTE_VALID_UNTIL,
    SECRETS,
    every_file_holding,
    every_text_holding,
    former_client,
)


def totals(app, organisation_id: int) -> dict[str, object]:
    with app.app_context():
        session = db.session

        def one(expression, model):
            return session.scalar(
                select(expression).where(model.organisation_id == organisation_id)
            )

        return {
            "policies": one(func.count(Policy.id), Policy),
            "premiums": one(func.sum(Policy.premium), Policy),
            "notices": one(func.sum(PremiumNotice.total), PremiumNotice),
            "paid": one(func.sum(PremiumNotice.paid_amount), PremiumNotice),
            "payments": one(func.sum(Payment.amount), Payment),
            "claims": one(func.count(Claim.id), Claim),
            "estimates": one(func.sum(Claim.estimate), Claim),
            "complaints": one(func.count(Complaint.id), Complaint),
            "mandates": one(func.count(Mandate.id), Mandate),
        }


def test_an_erased_former_client_leaves_no_personal_data_anywhere(
    http, app, make_organisation, make_user, auth_headers
):
    # The file store outlives each test's database: files other tests left (a pain.008
    # naming the same test IBAN, say) are not this client's and are set aside.
    others = set(every_file_holding(app, (FULL, EMAIL, IBAN)))
    org = make_organisation()
    staff = auth_headers(make_user("USER", org))
    manager = auth_headers(make_user("MANAGER", org))
    former = former_client(app, http, staff, org)
    assert every_text_holding(app, SECRETS), "the world must hold the data it then erases"
    assert every_file_holding(app, (FULL,)), "the attachment holds the name before"
    before = totals(app, org)

    erased = http.post(f"/api/v1/client/{former.client_id}/erase", headers=manager)

    assert erased.status_code == 200, erased.json
    assert erased.json["attachments"] == 1 and erased.json["messages"] == 2
    assert every_text_holding(app, SECRETS) == []
    assert set(every_file_holding(app, (FULL, EMAIL, IBAN))) - others == set()
    assert totals(app, org) == before
    with app.app_context():
        assert db.session.get(Attachment, former.attachment_id) is None
        client = db.session.get(Client, former.client_id)
        assert client.erased_at is not None and client.email is None
        fact = db.session.scalars(select(AuditLog).where(AuditLog.action == "client.erased")).one()
        assert fact.object_id == str(former.client_id) and fact.username is not None
    assert every_text_holding(app, ADVICE) == []
    with app.app_context():
        proposal = db.session.get(Proposal, former.proposal_id)
        assert (proposal.recommendation, proposal.reasons) == (None, None)
        # The questions asked stay (the needs statement was taken); the answers go.
        assert [item["question"] for item in proposal.answers] == list(
            DEFAULT_QUESTIONS[LineOfBusiness.auto]
        )
        assert {item["answer"] for item in proposal.answers} == {"[effacé]"}
        assert proposal.client_id == former.client_id and proposal.created_at is not None
        quote = db.session.get(Quote, former.quote_id)
        assert (str(quote.premium), quote.valid_until.isoformat(), quote.status.value) == (
            QUOTE_PREMIUM,
            QUOTE_VALID_UNTIL,
            "refused",
        )
        fic = db.session.get(ComplianceDocument, former.fic_id)
        assert fic.status.value == "sent" and fic.sent_on is not None
        assert fic.document_id is None  # its file printed the name and the answers: gone
        # The audit trail keeps the facts about the proposal and quote, not their text.
        entries = db.session.scalars(
            select(AuditLog).where(
                AuditLog.object_type.in_(["Proposal", "Quote"]),
                AuditLog.organisation_id == org,
            )
        ).all()
        assert {(e.object_type, e.action) for e in entries} == {
            ("Proposal", "create"),
            ("Quote", "create"),
            ("Quote", "update"),
        }
        for entry in entries:
            if entry.object_type == "Proposal":
                assert entry.changes["recommendation"] == [None, "[effacé]"]
                assert entry.changes["answers"] == [None, "[effacé]"]
            else:
                assert entry.changes["status"][-1] in ("priced", "refused")
        quoted = next(e for e in entries if e.action == "create" and e.object_type == "Quote")
        assert quoted.changes["premium"] == [None, QUOTE_PREMIUM]
    # The screen-side and API answers still work on the anonymised client.
    shown = http.get(f"/api/v1/client/{former.client_id}", headers=manager)
    assert shown.status_code == 200 and shown.json["result"]["erased_at"]

    again = http.post(f"/api/v1/client/{former.client_id}/erase", headers=manager)
    assert again.status_code == 409
    assert again.json["message"] == "Les données de ce client ont déjà été effacées."


def test_legal_holds_answer_409_and_change_nothing(
    http, app, make_organisation, make_user, auth_headers
):
    org = make_organisation()
    staff = auth_headers(make_user("USER", org))
    manager = auth_headers(make_user("MANAGER", org))
    former = former_client(
        app,
        http,
        staff,
        org,
        expiry=dt.date.today() + dt.timedelta(days=200),
        status=PolicyStatus.active,
    )
    refused = http.post(f"/api/v1/client/{former.client_id}/erase", headers=manager)
    assert refused.status_code == 409
    assert refused.json["message"]["open_contract"] == ["Contrat en cours : POL-RGPD"]
    with app.app_context():
        client = db.session.get(Client, former.client_id)
        assert client.email == EMAIL and client.erased_at is None
        assert db.session.get(Attachment, former.attachment_id) is not None
    assert every_file_holding(app, (FULL,))


def test_only_managers_erase_and_only_their_agencys_clients(
    http, app, make_organisation, make_user, auth_headers
):
    org, other = make_organisation(), make_organisation()
    staff = auth_headers(make_user("USER", org))
    former = former_client(app, http, staff, org)
    assert http.post(f"/api/v1/client/{former.client_id}/erase", headers=staff).status_code == 403
    stranger = auth_headers(make_user("MANAGER", other))
    assert (
        http.post(f"/api/v1/client/{former.client_id}/erase", headers=stranger).status_code == 404
    )
    assert http.post(f"/api/v1/client/{2**40}/erase", headers=stranger).status_code == 404
    with app.app_context():
        assert db.session.get(Client, former.client_id).erased_at is None


def test_the_client_page_offers_both_actions_to_managers_only(
    http, app, make_organisation, make_user, auth_headers, login
):
    from tests.test_screens_support import csrf_token, flashes, page_text

    org = make_organisation()
    staff_user = make_user("USER", org)
    former = former_client(app, http, auth_headers(staff_user), org)
    show = f"/clientview/show/{former.client_id}"
    login(staff_user)
    assert "Anonymiser" not in page_text(http.get(show))
    http.get("/logout/")
    login(make_user("MANAGER", org))
    page = page_text(http.get(show))
    assert "Anonymiser" in page and "Exporter les données (RGPD)" in page
    token = csrf_token(http, show)
    started = http.post(
        f"/clientview/action/export_personal_data/{former.client_id}",
        data={"csrf_token": token},
    )
    assert started.status_code == 302 and "/jobview/show/" in started.headers["Location"]
    erased = http.post(
        f"/clientview/action/erase_personal_data/{former.client_id}",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert ("success", "Les données personnelles du client ont été effacées.") in flashes(erased)
    again = http.post(
        f"/clientview/action/erase_personal_data/{former.client_id}",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert ("warning", "Les données de ce client ont déjà été effacées.") in flashes(again)
    assert every_text_holding(app, SECRETS) == []


def test_an_erasure_racing_another_finds_the_client_claimed_and_changes_nothing(
    http, app, make_organisation, make_user, auth_headers
):
    import pytest

    from app.services.errors import ConflictError
    from app.services.privacy.erase import erase_client

    org = make_organisation()
    manager = auth_headers(make_user("MANAGER", org))
    former = former_client(app, http, auth_headers(make_user("USER", org)), org)
    with app.app_context():
        stale = db.session.get(Client, former.client_id)  # read before the other erasure
        assert stale.erased_at is None
        first = http.post(f"/api/v1/client/{former.client_id}/erase", headers=manager)
        assert first.status_code == 200
        with pytest.raises(ConflictError):
            erase_client(db.session, stale, today=dt.date.today())
        db.session.rollback()
        facts = db.session.scalars(
            select(AuditLog.id).where(AuditLog.action == "client.erased")
        ).all()
    assert len(facts) == 1
