"""A client's cancellation through the API: the rights on a day, recording one, its letter.

The issue's case: for a Hamon-eligible auto contract (a consumer, a natural person, more
than a year old) the API tells the effective date of a cancellation received today, one
month later (L113-15-2); Hamon is refused before a year and accepted after; a professional
contract has no Chatel right; another agency's ids answer 404; each recording is audited
and its acknowledgement letter states the effective date.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AuditLog,
    Client,
    ClientKind,
    Company,
    ContractUse,
    LineOfBusiness,
    NoticeStatus,
    PaymentFrequency,
    Policy,
    PolicyStatus,
    PremiumNotice,
    RenewalCycle,
    RenewalStatus,
    Template,
)
from app.services.premiums import issuing, procedure
from app.services.rendering.instalments import add_months
from app.services.renewals import cycles
from app.services.renewals.contracts import agency_today
from app.services.templates import load_builtin_templates
from tests.api_documents_support import clean_error
from tests.conftest import user_organisation
from tests.test_avis_echeance import download, pdf_text

GROUNDS = [
    "annual",
    "chatel",
    "hamon",
    "health_ria",
    "borrower",
    "change_of_situation",
    "after_claim",
]


@pytest.fixture
def manager(make_user):
    return make_user("MANAGER")


@pytest.fixture
def headers(manager, auth_headers):
    return auth_headers(manager)


@pytest.fixture
def agency(app, manager):
    return user_organisation(app, manager)


def make_policy(
    app,
    organisation_id: int,
    number: str,
    effective: dt.date,
    *,
    line: LineOfBusiness = LineOfBusiness.auto,
    use: ContractUse = ContractUse.consumer,
    kind: ClientKind = ClientKind.person,
) -> int:
    """A yearly contract from ``effective``, its échéance on the anniversary."""
    with app.app_context():
        company = Company(organisation_id=organisation_id, name="Mutuelle Rhône", code=number)
        client = Client(
            organisation_id=organisation_id,
            kind=kind,
            first_name="Camille",
            last_name="Dupont",
            company_name="Atelier Dupont" if kind is ClientKind.business else None,
        )
        db.session.add_all([company, client])
        db.session.flush()
        policy = Policy(
            organisation_id=organisation_id,
            number=number,
            client_id=client.id,
            company_id=company.id,
            line_of_business=line,
            status=PolicyStatus.active,
            effective_date=effective,
            expiry_date=add_months(effective, 12),
            premium=Decimal("600.00"),
            use=use,
        )
        db.session.add(policy)
        db.session.commit()
        return policy.id


def rights(http, headers, policy_id: int, on: str | None = None) -> dict:
    query = f"?on={on}" if on else ""
    response = http.get(f"/api/v1/policy/{policy_id}/cancellation-rights{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def ground(answer: dict, name: str) -> dict:
    return next(row for row in answer["grounds"] if row["ground"] == name)


def cancel(http, headers, policy_id: int, ground_name: str, requested: str, received: str, **more):
    body = {
        "policy_id": policy_id,
        "ground": ground_name,
        "requested_on": requested,
        "received_on": received,
        **more,
    }
    return http.post("/api/v1/cancellation/", json=body, headers=headers)


# --- the issue's case ---------------------------------------------------------------------


def test_a_hamon_contract_tells_the_effective_date_of_a_cancellation_received_today(
    app, http, headers, agency
):
    with app.app_context():
        today = agency_today(db.session, agency)
    policy_id = make_policy(app, agency, "AUTO-HAMON", add_months(today, -14))
    answer = rights(http, headers, policy_id)
    assert answer["on"] == today.isoformat()
    assert [row["ground"] for row in answer["grounds"]] == GROUNDS
    assert all(
        set(row) >= {"ground", "open", "effective_on", "basis", "reason"}
        for row in answer["grounds"]
    )
    hamon = ground(answer, "hamon")
    month_later = add_months(today, 1).isoformat()
    assert (hamon["open"], hamon["effective_on"], hamon["basis"], hamon["reason"]) == (
        True,
        month_later,
        "L113-15-2",
        "after_first_year",
    )
    assert hamon["reason_text"] and hamon["label"]
    assert ground(answer, "borrower") == {
        **ground(answer, "borrower"),
        "open": False,
        "effective_on": None,
        "reason": "not_borrower_insurance",
    }
    # Recording a request received today gives that same date, and ends the contract then.
    done = cancel(http, headers, policy_id, "hamon", today.isoformat(), today.isoformat())
    assert done.status_code == 201, done.get_data(as_text=True)
    result = done.json["result"]
    assert (result["effective_on"], result["basis"], result["ground"]) == (
        month_later,
        "L113-15-2",
        "hamon",
    )
    assert done.headers["Location"].endswith(f"/api/v1/cancellation/{done.json['id']}")
    with app.app_context():
        policy = db.session.get(Policy, policy_id)
        assert policy.status is PolicyStatus.cancelled
        assert policy.expiry_date == add_months(today, 1)
    # Nothing is left to cancel: every ground is closed, a second request conflicts.
    after = rights(http, headers, policy_id)
    assert {row["reason"] for row in after["grounds"]} == {"contract_ended"}
    again = cancel(http, headers, policy_id, "annual", today.isoformat(), today.isoformat())
    clean_error(again, 409)


def test_hamon_is_refused_before_a_year_and_accepted_after_with_one_month(
    app, http, headers, agency
):
    policy_id = make_policy(app, agency, "AUTO-2026", dt.date(2026, 1, 1))
    early = rights(http, headers, policy_id, "2026-06-03")
    assert ground(early, "hamon")["open"] is False
    assert ground(early, "hamon")["reason"] == "before_first_anniversary"
    refused = cancel(http, headers, policy_id, "hamon", "2026-06-01", "2026-06-03")
    assert clean_error(refused, 422) == {"ground": ["before_first_anniversary"]}
    with app.app_context():
        assert db.session.get(Policy, policy_id).status is PolicyStatus.active
    later = rights(http, headers, policy_id, "2027-02-10")
    assert ground(later, "hamon")["effective_on"] == "2027-03-10"
    done = cancel(
        http, headers, policy_id, "hamon", "2027-02-08", "2027-02-10", note="Nouvel assureur"
    )
    assert done.status_code == 201, done.get_data(as_text=True)
    assert done.json["result"]["effective_on"] == "2027-03-10"
    assert done.json["result"]["basis"] == "L113-15-2"
    assert done.json["result"]["note"] == "Nouvel assureur"
    # Read back, alone and in the list of the contract.
    cancellation_id = done.json["id"]
    shown = http.get(f"/api/v1/cancellation/{cancellation_id}", headers=headers)
    assert shown.status_code == 200
    assert shown.json["result"]["policy"]["number"] == "AUTO-2026"
    query = f"(filters:!((col:policy_id,opr:eq,value:{policy_id})))"
    listed = http.get(f"/api/v1/cancellation/?q={query}", headers=headers)
    assert listed.status_code == 200 and listed.json["ids"] == [cancellation_id]


def test_recording_closes_the_renewal_and_is_audited(app, http, headers, agency):
    policy_id = make_policy(app, agency, "AUTO-CYCLE", dt.date(2026, 1, 1))
    with app.app_context():
        cycle = cycles.cycle_for(db.session.get(Policy, policy_id))
        db.session.commit()
        cycle_id = cycle.id
    done = cancel(http, headers, policy_id, "annual", "2026-10-01", "2026-10-03")
    assert done.status_code == 201, done.get_data(as_text=True)
    assert (done.json["result"]["effective_on"], done.json["result"]["basis"]) == (
        "2027-01-01",
        "L113-12",
    )
    with app.app_context():
        assert db.session.get(RenewalCycle, cycle_id).status is RenewalStatus.closed
        entries = db.session.scalars(
            select(AuditLog).where(AuditLog.organisation_id == agency)
        ).all()
    created = [
        entry
        for entry in entries
        if (entry.action, entry.object_type, entry.object_id)
        == ("create", "Cancellation", str(done.json["id"]))
    ]
    assert len(created) == 1 and created[0].username
    assert created[0].changes["effective_on"] == [None, "2027-01-01"]
    policy_changes = [
        entry.changes
        for entry in entries
        if (entry.action, entry.object_type, entry.object_id)
        == ("update", "Policy", str(policy_id))
    ]
    assert any("status" in changes for changes in policy_changes)
    cycle_updates = [
        entry
        for entry in entries
        if (entry.object_type, entry.object_id) == ("RenewalCycle", str(cycle_id))
    ]
    assert any(entry.action == "update" for entry in cycle_updates)


# --- refusals --------------------------------------------------------------------------------


def test_a_professional_contract_has_no_chatel_right(app, http, headers, agency):
    policy_id = make_policy(
        app, agency, "PRO-2026", dt.date(2026, 1, 1), use=ContractUse.professional
    )
    answer = rights(http, headers, policy_id, "2026-11-15")
    assert ground(answer, "chatel")["reason"] == "professional_use_excluded"
    refused = cancel(http, headers, policy_id, "chatel", "2026-11-15", "2026-11-16")
    assert clean_error(refused, 422) == {"ground": ["professional_use_excluded"]}
    company = make_policy(app, agency, "SARL-2026", dt.date(2026, 1, 1), kind=ClientKind.business)
    refused = cancel(http, headers, company, "hamon", "2027-02-01", "2027-02-01")
    assert clean_error(refused, 422) == {"ground": ["legal_person_excluded"]}


def test_bad_requests_change_nothing(app, http, headers, agency):
    policy_id = make_policy(app, agency, "AUTO-BAD", dt.date(2026, 1, 1))
    before_start = cancel(http, headers, policy_id, "annual", "2025-12-01", "2025-12-02")
    assert clean_error(before_start, 422) == {"ground": ["before_contract_start"]}
    backwards = cancel(http, headers, policy_id, "annual", "2026-05-02", "2026-05-01")
    assert clean_error(backwards, 422) == {"ground": ["received_before_requested"]}
    unknown = cancel(http, headers, policy_id, "whim", "2026-05-01", "2026-05-01")
    assert "ground" in clean_error(unknown, 422)
    # The insurer's non-payment cancellation needs a premium in formal notice first.
    unpaid = cancel(http, headers, policy_id, "non_payment", "2026-05-01", "2026-05-01")
    assert clean_error(unpaid, 422) == {"ground": ["no_formal_notice"]}
    far = cancel(http, headers, policy_id, "annual", "9999-12-30", "9999-12-31")
    assert "requested_on" in clean_error(far, 422)
    missing = http.post("/api/v1/cancellation/", json={"policy_id": policy_id}, headers=headers)
    assert {"ground", "requested_on", "received_on"} <= set(clean_error(missing, 422))
    for bad in ("2026-02-30", "20260601", "tomorrow", ""):
        response = http.get(
            f"/api/v1/policy/{policy_id}/cancellation-rights?on={bad}", headers=headers
        )
        clean_error(response, 400)
    other_argument = http.get(
        f"/api/v1/policy/{policy_id}/cancellation-rights?at=2026-06-01", headers=headers
    )
    clean_error(other_argument, 400)
    out_of_range = http.get(
        f"/api/v1/policy/{policy_id}/cancellation-rights?on=9999-12-31", headers=headers
    )
    clean_error(out_of_range, 422)
    with app.app_context():
        policy = db.session.get(Policy, policy_id)
        assert policy.status is PolicyStatus.active and policy.cancellation is None


def test_non_payment_waits_for_the_cancellable_date_and_its_letter_says_so(
    app, http, headers, agency
):
    """The insurer's L113-3 cancellation goes through the same door, never before its date."""
    # A term from 1 March: notices fall due after the cancellation date within it.
    policy_id = make_policy(app, agency, "AUTO-IMPAYE", dt.date(2026, 3, 1))
    with app.app_context():
        load_builtin_templates(db.session)
        db.session.get(Policy, policy_id).payment_frequency = PaymentFrequency.monthly
        issuing.issue_due(
            db.session,
            policy_id=policy_id,
            until=dt.date(2027, 2, 28),
            today=dt.date(2026, 11, 20),
        )
        november = db.session.scalar(
            select(PremiumNotice).where(
                PremiumNotice.policy_id == policy_id,
                PremiumNotice.due_on == dt.date(2026, 11, 1),
            )
        )
        procedure.move_stages(db.session, organisation_id=agency, today=dt.date(2026, 11, 20))
        procedure.record_formal_notice(
            db.session,
            november,
            sent_on=dt.date(2026, 11, 20),
            registered_letter_number="1A 234 567 8901 2",
            today=dt.date(2026, 11, 20),
        )
        db.session.commit()
        assert november.cancellable_on == dt.date(2026, 12, 30)
    early = cancel(http, headers, policy_id, "non_payment", "2026-12-29", "2026-12-29")
    assert clean_error(early, 422) == {"ground": ["before_cancellable_on"]}
    done = cancel(http, headers, policy_id, "non_payment", "2026-12-30", "2026-12-30")
    assert done.status_code == 201, done.get_data(as_text=True)
    assert (done.json["result"]["effective_on"], done.json["result"]["basis"]) == (
        "2026-12-30",
        "L113-3",
    )
    with app.app_context():
        # Its later notices are cancelled (the January one); those due before the date stay owed.
        statuses = dict(
            db.session.execute(
                select(PremiumNotice.due_on, PremiumNotice.status).where(
                    PremiumNotice.policy_id == policy_id,
                    PremiumNotice.due_on >= dt.date(2026, 11, 1),
                )
            ).all()
        )
        assert statuses[dt.date(2027, 1, 1)] is NoticeStatus.cancelled
        assert statuses[dt.date(2026, 11, 1)] is not NoticeStatus.cancelled
        assert statuses[dt.date(2026, 12, 1)] is not NoticeStatus.cancelled
    letter = http.post(f"/api/v1/cancellation/{done.json['id']}/letter", headers=headers)
    assert letter.status_code == 202, letter.get_data(as_text=True)
    text = pdf_text(download(http, headers, letter.json["id"]))
    assert "Résiliation de votre contrat pour non-paiement" in text
    assert "30 décembre 2026" in text and "L113-3" in text


def test_another_agencys_contract_and_cancellation_answer_404(
    app, http, headers, agency, make_user, make_organisation, auth_headers
):
    policy_id = make_policy(app, agency, "AUTO-A", dt.date(2025, 1, 1))
    done = cancel(http, headers, policy_id, "hamon", "2026-06-01", "2026-06-01")
    assert done.status_code == 201, done.get_data(as_text=True)
    stranger = auth_headers(make_user("MANAGER", make_organisation()))
    cancellation_id = done.json["id"]
    own_policy = make_policy(app, agency, "AUTO-A2", dt.date(2025, 1, 1))
    clean_error(http.get(f"/api/v1/policy/{own_policy}/cancellation-rights", headers=stranger), 404)
    clean_error(cancel(http, stranger, own_policy, "hamon", "2026-06-01", "2026-06-01"), 404)
    clean_error(http.get(f"/api/v1/cancellation/{cancellation_id}", headers=stranger), 404)
    clean_error(http.post(f"/api/v1/cancellation/{cancellation_id}/letter", headers=stranger), 404)
    listed = http.get("/api/v1/cancellation/", headers=stranger)
    assert listed.status_code == 200 and listed.json["count"] == 0
    for unknown in ("0", "99999999", "x"):
        response = http.get(f"/api/v1/policy/{unknown}/cancellation-rights", headers=headers)
        clean_error(response, 404)
    with app.app_context():
        assert db.session.get(Policy, own_policy).status is PolicyStatus.active


# --- the letter -------------------------------------------------------------------------------


def test_the_letter_states_the_ground_the_article_and_the_effective_date(
    app, http, headers, agency
):
    with app.app_context():
        load_builtin_templates(db.session)
        db.session.commit()
    policy_id = make_policy(app, agency, "AUTO-LETTRE", dt.date(2025, 3, 15))
    done = cancel(http, headers, policy_id, "hamon", "2026-11-27", "2026-11-30")
    assert done.status_code == 201, done.get_data(as_text=True)
    assert done.json["result"]["effective_on"] == "2026-12-30"
    cancellation_id = done.json["id"]
    letter = http.post(f"/api/v1/cancellation/{cancellation_id}/letter", headers=headers)
    assert letter.status_code == 202, letter.get_data(as_text=True)
    document_id = letter.json["id"]
    assert letter.headers["Location"].endswith(f"/api/v1/document/{document_id}")
    text = pdf_text(download(http, headers, document_id))
    assert "Accusé de réception de votre demande de résiliation" in text
    assert "AUTO-LETTRE" in text and "Camille Dupont" in text
    assert "30 décembre 2026" in text  # the effective date
    assert "reçue le 30 novembre 2026" in text
    assert "L113-15-2" in text
    assert "Loi Hamon" in text
    shown = http.get(f"/api/v1/cancellation/{cancellation_id}", headers=headers)
    assert shown.json["result"]["letter_document_id"] == document_id
    # The generic door renders the same built-in for the contract.
    with app.app_context():
        template_id = db.session.scalar(
            select(Template.id).where(Template.builtin_key == "lettre_resiliation")
        )
    generated = http.post(
        "/api/v1/document/generate",
        json={"template_id": template_id, "policy_id": policy_id},
        headers=headers,
    )
    assert generated.status_code == 202, generated.get_data(as_text=True)
    assert "30 décembre 2026" in pdf_text(download(http, headers, generated.json["id"]))


def test_a_contract_without_cancellation_gets_no_letter(app, http, headers, agency):
    with app.app_context():
        load_builtin_templates(db.session)
        db.session.commit()
        template_id = db.session.scalar(
            select(Template.id).where(Template.builtin_key == "lettre_resiliation")
        )
    policy_id = make_policy(app, agency, "AUTO-SANS", dt.date(2025, 3, 15))
    generated = http.post(
        "/api/v1/document/generate",
        json={"template_id": template_id, "policy_id": policy_id},
        headers=headers,
    )
    assert generated.status_code == 202
    document = http.get(f"/api/v1/document/{generated.json['id']}", headers=headers).json
    assert document["result"]["status"] == "failed"
    assert document["result"]["error"]
