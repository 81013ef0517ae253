"""Proposals, quotes, DER/FIC and the conversion through the API, scoped to the agency.

A prospect (a client without a contract) gets a proposal with two quotes; the conversion
of the accepted one is refused (409, the missing items) until the client's DER and the
proposal's FIC are generated, sent and signed, then creates the draft contract with its
first term and the withdrawal window of a distance sale. A refused or expired quote is
refused with its reason and nothing changes; another agency's rows answer 404.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditLog,
    Client,
    Company,
    ComplianceDocument,
    DocumentStatus,
    LineOfBusiness,
    Policy,
    PolicyStatus,
    Quote,
    Term,
)
from app.services.advice.questionnaire import DEFAULT_QUESTIONS
from app.services.renewals.contracts import agency_today
from app.services.templates import load_builtin_templates
from tests.test_avis_echeance import download, pdf_text

AUTO = DEFAULT_QUESTIONS[LineOfBusiness.auto]


def prospect(app, organisation_id: int, suffix: str = "1") -> dict[str, int]:
    with app.app_context():
        load_builtin_templates(db.session)
        client = Client(
            organisation_id=organisation_id, first_name="Léa", last_name=f"Prospect{suffix}"
        )
        insurers = [
            Company(
                organisation_id=organisation_id, name=f"{name} {suffix}", code=f"{name[:3]}{suffix}"
            )
            for name in ("Garonne", "Rhône")
        ]
        db.session.add_all([client, *insurers])
        db.session.commit()
        today = agency_today(db.session, organisation_id)
        return {
            "client": client.id,
            "insurers": [insurer.id for insurer in insurers],
            "today": today,
        }


def proposal_with_quotes(http, headers, ids, channel="distance"):
    answers = {question: "Réponse" for question in AUTO}
    proposal = http.post(
        "/api/v1/proposal/",
        json={
            "client_id": ids["client"],
            "line_of_business": "auto",
            "sale_channel": channel,
            "answers": answers,
            "recommendation": "Formule tous risques chez Garonne.",
            "reasons": "Véhicule récent financé à crédit : la garantie dommages est nécessaire.",
        },
        headers=headers,
    )
    assert proposal.status_code == 201, proposal.json
    proposal_id = proposal.json["id"]
    valid = (ids["today"] + dt.timedelta(days=30)).isoformat()
    quotes = []
    for insurer, premium in zip(ids["insurers"], ("612.40", "655.00"), strict=True):
        created = http.post(
            "/api/v1/quote/",
            json={
                "proposal_id": proposal_id,
                "company_id": insurer,
                "product": "Auto Confort",
                "premium": premium,
                "valid_until": valid,
                "status": "priced",
            },
            headers=headers,
        )
        assert created.status_code == 201, created.json
        quotes.append(created.json["id"])
    return proposal_id, quotes


def move(http, headers, quote_id, status):
    return http.put(f"/api/v1/quote/{quote_id}", json={"status": status}, headers=headers)


def test_conversion_is_refused_until_der_and_fic_are_signed_then_makes_the_contract(
    http, app, make_organisation, make_user, auth_headers
):
    org = make_organisation()
    ids = prospect(app, org)
    headers = auth_headers(make_user("USER", org))
    proposal_id, (chosen, other) = proposal_with_quotes(http, headers, ids)
    shown = http.get(f"/api/v1/proposal/{proposal_id}", headers=headers).json["result"]
    assert [item["question"] for item in shown["answers"]] == list(AUTO)
    assert move(http, headers, chosen, "sent").status_code == 200
    assert move(http, headers, chosen, "accepted").status_code == 200
    # One accepted quote a proposal; a refused quote does not come back.
    assert move(http, headers, other, "accepted").status_code == 409
    assert move(http, headers, other, "refused").status_code == 200
    assert move(http, headers, other, "priced").status_code == 409

    refused = http.post(f"/api/v1/quote/{chosen}/convert", json={}, headers=headers)
    assert refused.status_code == 409, refused.json
    assert [item["item"] for item in refused.json["missing"]] == ["der", "fic"]

    der = http.post(
        "/api/v1/compliance_document/",
        json={"kind": "der", "client_id": ids["client"]},
        headers=headers,
    )
    assert der.status_code == 202, der.json
    fic = http.post(
        "/api/v1/compliance_document/",
        json={"kind": "fic", "proposal_id": proposal_id},
        headers=headers,
    )
    assert fic.status_code == 202, fic.json
    # Rendered by the document pipeline (immediate mode in tests): the FIC states the needs.
    with app.app_context():
        row = db.session.get(ComplianceDocument, fic.json["id"])
        assert row.document.status is DocumentStatus.ready, row.document.error
        fic_document = row.document_id
        der_document = db.session.get(ComplianceDocument, der.json["id"]).document_id
    text = pdf_text(download(http, headers, fic_document))
    assert "Fiche d'information et de conseil" in text and "Formule tous risques" in text
    assert AUTO[0][:30] in text and "612,40" in text and "L112-2-1" in text
    assert "Léa Prospect1" in pdf_text(download(http, headers, der_document))

    # Sent but not signed: still refused, the FIC alone missing once the DER is signed.
    for row_id in (der.json["id"], fic.json["id"]):
        sent = http.post(
            f"/api/v1/compliance_document/{row_id}/sent", json={"by": "email"}, headers=headers
        )
        assert sent.status_code == 200 and sent.json["result"]["status"] == "sent"
    signed = http.post(
        f"/api/v1/compliance_document/{der.json['id']}/signed",
        json={"by": "electronic"},
        headers=headers,
    )
    assert signed.status_code == 200, signed.json
    still = http.post(f"/api/v1/quote/{chosen}/convert", json={}, headers=headers)
    assert still.status_code == 409 and [i["item"] for i in still.json["missing"]] == ["fic"]
    http.post(
        f"/api/v1/compliance_document/{fic.json['id']}/signed",
        json={"by": "by_hand"},
        headers=headers,
    )

    converted = http.post(f"/api/v1/quote/{chosen}/convert", json={}, headers=headers)
    assert converted.status_code == 201, converted.json
    result = converted.json["result"]
    assert result["withdrawal_ends_on"] == (ids["today"] + dt.timedelta(days=14)).isoformat()
    with app.app_context():
        policy = db.session.get(Policy, result["policy_id"])
        assert policy.status is PolicyStatus.draft and policy.number == f"DEVIS-{chosen}"
        assert (policy.client_id, policy.company_id) == (ids["client"], ids["insurers"][0])
        assert str(policy.premium) == "612.40" and policy.effective_date == ids["today"]
        terms = db.session.scalars(select(Term).where(Term.policy_id == policy.id)).all()
        assert [(t.sequence, t.start_date, str(t.premium)) for t in terms] == [
            (1, ids["today"], "612.40")
        ]
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.action == "quote.converted")
            )
            == 1
        )
    # Twice: 409; the insurer's number makes the draft active.
    assert http.post(f"/api/v1/quote/{chosen}/convert", json={}, headers=headers).status_code == 409
    numbered = http.post(
        f"/api/v1/quote/{chosen}/policy-number", json={"number": "GAR-2026-118"}, headers=headers
    )
    assert numbered.status_code == 200, numbered.json
    with app.app_context():
        policy = db.session.get(Policy, result["policy_id"])
        assert (policy.number, policy.status) == ("GAR-2026-118", PolicyStatus.active)


def test_refused_or_expired_quotes_are_not_converted_and_nothing_changes(
    http, app, make_organisation, make_user, auth_headers
):
    org = make_organisation()
    ids = prospect(app, org)
    headers = auth_headers(make_user("USER", org))
    _proposal_id, (refused, expired) = proposal_with_quotes(http, headers, ids, channel="in_person")
    assert move(http, headers, refused, "refused").status_code == 200
    answer = http.post(f"/api/v1/quote/{refused}/convert", json={}, headers=headers)
    assert answer.status_code == 422 and "refus" in answer.json["message"]
    assert move(http, headers, expired, "accepted").status_code == 200
    with app.app_context():
        db.session.get(Quote, expired).valid_until = ids["today"] - dt.timedelta(days=1)
        db.session.commit()
    answer = http.post(f"/api/v1/quote/{expired}/convert", json={}, headers=headers)
    assert answer.status_code == 422 and "expir" in answer.json["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Policy)) == 0
        assert db.session.get(Quote, expired).policy_id is None


def test_another_agencys_quotes_proposals_and_documents_answer_404(
    http, app, make_organisation, make_user, auth_headers
):
    mine, theirs = make_organisation(), make_organisation()
    ids = prospect(app, theirs, "2")
    their_headers = auth_headers(make_user("USER", theirs))
    proposal_id, (quote_id, _other) = proposal_with_quotes(http, their_headers, ids)
    der = http.post(
        "/api/v1/compliance_document/",
        json={"kind": "der", "client_id": ids["client"]},
        headers=their_headers,
    ).json["id"]
    headers = auth_headers(make_user("USER", mine))
    assert http.get(f"/api/v1/quote/{quote_id}", headers=headers).status_code == 404
    assert http.get(f"/api/v1/proposal/{proposal_id}", headers=headers).status_code == 404
    assert (
        http.post(f"/api/v1/quote/{quote_id}/convert", json={}, headers=headers).status_code == 404
    )
    assert (
        http.post(
            f"/api/v1/compliance_document/{der}/signed", json={"by": "post"}, headers=headers
        ).status_code
        == 404
    )
    generate = http.post(
        "/api/v1/compliance_document/",
        json={"kind": "der", "client_id": ids["client"]},
        headers=headers,
    )
    assert generate.status_code == 404
    # Their client in my proposal, their proposal in my quote: unknown ids.
    mine_ids = prospect(app, mine, "3")
    cross = http.post(
        "/api/v1/proposal/",
        json={"client_id": ids["client"], "line_of_business": "auto", "sale_channel": "in_person"},
        headers=headers,
    )
    assert cross.status_code == 422 and "client_id" in cross.json["message"]
    cross = http.post(
        "/api/v1/quote/",
        json={
            "proposal_id": proposal_id,
            "company_id": mine_ids["insurers"][0],
            "status": "to_price",
        },
        headers=headers,
    )
    assert cross.status_code == 422 and "proposal_id" in cross.json["message"]
    assert http.get("/api/v1/quote/", headers=headers).json["count"] == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ComplianceDocument)) == 1


def test_a_fic_needs_the_answers_and_the_advice_and_a_signed_fic_freezes_them(
    http, app, make_organisation, make_user, auth_headers
):
    org = make_organisation()
    ids = prospect(app, org)
    headers = auth_headers(make_user("USER", org))
    bare = http.post(
        "/api/v1/proposal/",
        json={"client_id": ids["client"], "line_of_business": "home", "answers": {}},
        headers=headers,
    )
    assert bare.status_code == 201, bare.json
    fic = http.post(
        "/api/v1/compliance_document/",
        json={"kind": "fic", "proposal_id": bare.json["id"]},
        headers=headers,
    )
    assert fic.status_code == 422
    assert {"answers", "recommendation", "reasons"} <= set(fic.json["message"])
    unknown = http.put(
        f"/api/v1/proposal/{bare.json['id']}",
        json={"answers": {"Votre couleur préférée ?": "bleu"}},
        headers=headers,
    )
    assert unknown.status_code == 422
    questions = http.get("/api/v1/proposal/questionnaire?line=home", headers=headers).json[
        "questions"
    ]
    assert questions == list(DEFAULT_QUESTIONS[LineOfBusiness.home])

    proposal_id, _quotes = proposal_with_quotes(http, headers, ids)
    fic = http.post(
        "/api/v1/compliance_document/",
        json={"kind": "fic", "proposal_id": proposal_id},
        headers=headers,
    ).json["id"]
    http.post(f"/api/v1/compliance_document/{fic}/signed", json={"by": "by_hand"}, headers=headers)
    frozen = http.put(
        f"/api/v1/proposal/{proposal_id}", json={"recommendation": "Autre chose"}, headers=headers
    )
    assert frozen.status_code == 409
