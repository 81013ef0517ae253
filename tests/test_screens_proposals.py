"""Portefeuille › Propositions on screen: the needs answered, two quotes added and moved,
the conversion refused until the DER and FIC are generated and signed, then the contract
with its first term and its withdrawal window shown on its page; another agency's
proposal is not found."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.extensions import db
from app.models import (
    Client,
    Company,
    LineOfBusiness,
    Policy,
    PolicyStatus,
    Proposal,
    Quote,
    QuoteStatus,
    SaleChannel,
    Term,
)
from app.services.advice.questionnaire import DEFAULT_QUESTIONS
from app.services.renewals.contracts import agency_today
from app.services.templates import load_builtin_templates
from tests.conftest import csrf_token, user_organisation


def test_a_prospect_gets_a_contract_from_the_proposal_page_once_der_and_fic_are_signed(
    app, http, make_user, login
):
    user = make_user("USER")
    org = user_organisation(app, user)
    with app.app_context():
        load_builtin_templates(db.session)
        prospect = Client(organisation_id=org, first_name="Léa", last_name="Durand")
        insurers = [Company(organisation_id=org, name=n, code=n[:3]) for n in ("Garonne", "Rhône")]
        db.session.add_all([prospect, *insurers])
        db.session.flush()
        proposal = Proposal(
            organisation_id=org,
            client_id=prospect.id,
            line_of_business=LineOfBusiness.home,
            sale_channel=SaleChannel.door_to_door,
            answers=[],
            recommendation="Multirisque habitation confort",
            reasons="Propriétaire occupant d'une maison avec dépendances",
        )
        db.session.add(proposal)
        db.session.commit()
        ids = {"proposal": proposal.id, "insurers": [i.id for i in insurers]}
        today = agency_today(db.session, org)
    login(user)
    page = f"/proposalview/show/{ids['proposal']}"
    token = csrf_token(http, page)
    questions = DEFAULT_QUESTIONS[LineOfBusiness.home]
    answers = {f"answer-{i}": f"Réponse {i}" for i in range(len(questions))}
    saved = http.post(
        f"/proposalview/needs/{ids['proposal']}", data={**answers, "csrf_token": token}
    )
    assert saved.status_code == 302
    valid = (today + dt.timedelta(days=20)).isoformat()
    for insurer, premium in zip(ids["insurers"], ("380,00", "402,50"), strict=True):
        added = http.post(
            f"/proposalview/quote/{ids['proposal']}",
            data={
                "company_id": insurer,
                "product": "Habitation",
                "premium": premium,
                "valid_until": valid,
                "csrf_token": token,
            },
        )
        assert added.status_code == 302
    with app.app_context():
        quotes = db.session.scalars(select(Quote).order_by(Quote.id)).all()
        assert [(q.status, str(q.premium)) for q in quotes] == [
            (QuoteStatus.priced, "380.00"),
            (QuoteStatus.priced, "402.50"),
        ]
        chosen = quotes[0].id
    http.post(
        f"/proposalview/quote/{ids['proposal']}/{chosen}/status",
        data={"status": "accepted", "csrf_token": token},
    )
    convert = f"/proposalview/convert/{ids['proposal']}/{chosen}"
    refused = http.post(convert, data={"csrf_token": token}, follow_redirects=True)
    text = refused.get_data(as_text=True)
    assert "Le DER du client n’est pas signé." in text
    assert "La FIC de la proposition n’est pas signée." in text
    for kind in ("der", "fic"):
        generated = http.post(
            f"/proposalview/compliance/{ids['proposal']}/{kind}", data={"csrf_token": token}
        )
        assert generated.status_code == 302
        # The page offers the next steps (sent, signed) with their ways (regression: a 500).
        pending = http.get(page)
        assert pending.status_code == 200 and "Marquer signé" in pending.get_data(as_text=True)
        signed = http.post(
            f"/proposalview/compliance/{ids['proposal']}/{kind}/signed",
            data={"by": "by_hand", "on": today.isoformat(), "csrf_token": token},
        )
        assert signed.status_code == 302
    shown = http.get(page).get_data(as_text=True)
    assert "Réponse 0" in shown and shown.count("Signé") >= 2
    created = http.post(convert, data={"csrf_token": token}, follow_redirects=True)
    assert "Le contrat est créé." in created.get_data(as_text=True)
    with app.app_context():
        quote = db.session.get(Quote, chosen)
        policy = db.session.get(Policy, quote.policy_id)
        assert policy.status is PolicyStatus.draft
        assert quote.withdrawal_ends_on == today + dt.timedelta(days=14)
        assert db.session.scalar(select(Term.sequence).where(Term.policy_id == policy.id)) == 1
        policy_id = policy.id
    contract = http.get(f"/policyview/show/{policy_id}").get_data(as_text=True)
    assert "le client peut renoncer jusqu’au" in contract
    assert f"{(today + dt.timedelta(days=14)).day}" in contract


def test_another_agencys_proposal_is_not_found_on_screen(app, http, make_user, login, portfolio):
    theirs = make_user("USER")
    their_org = user_organisation(app, theirs)
    ids = portfolio(their_org, "X")
    with app.app_context():
        proposal = Proposal(
            organisation_id=their_org,
            client_id=ids["client"],
            line_of_business=LineOfBusiness.auto,
            answers=[],
        )
        db.session.add(proposal)
        db.session.commit()
        proposal_id = proposal.id
    login(make_user("USER"))
    assert http.get(f"/proposalview/show/{proposal_id}").status_code == 404
    token = csrf_token(http, "/proposalview/add")
    answer = http.post(f"/proposalview/compliance/{proposal_id}/der", data={"csrf_token": token})
    assert answer.status_code == 302 and "/proposalview/list/" in answer.headers["Location"]
    with app.app_context():
        assert db.session.get(Proposal, proposal_id).quotes == []
