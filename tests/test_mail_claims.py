"""E-mails about a claim: sent from the claim's page or by the API naming the claim, filed
against the claim (and its contract and client), shown in the claim's history; another
agency's claim is not found and nothing is queued."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Message, OutputFormat, Policy, TemplateKind
from app.services.claims import lifecycle
from app.services.renewals.contracts import agency_today
from tests.conftest import csrf_token, user_organisation
from tests.documents_support import create_template

BODY = (
    "Objet : Votre sinistre {{ claim.number }}\n\n"
    "<p>Bonjour {{ client.first_name }}, le sinistre du {{ claim.occurred_on }}"
    " sur le contrat {{ policy.number }} est suivi.</p>\n"
)


def make_claim(app, policy_id: int) -> int:
    with app.app_context():
        session = db.session
        policy = session.get(Policy, policy_id)
        today = agency_today(session, policy.organisation_id)
        claim = lifecycle.record_claim(
            session, policy, today=today, nature="water_damage", occurred_on=today
        )
        session.commit()
        return claim.id


@pytest.fixture
def agency(app, make_user, portfolio, auth_headers):
    manager = make_user("MANAGER")
    organisation_id = user_organisation(app, manager)
    user = make_user("USER", organisation_id)
    records = portfolio(organisation_id, "C1")
    template_id = create_template(
        app,
        organisation_id,
        BODY,
        kind=TemplateKind.email,
        output_format=OutputFormat.html,
        name="Courriel sinistre",
    )
    return {
        "organisation": organisation_id,
        "user": user,
        "headers": auth_headers(user),
        "template": template_id,
        "claim": make_claim(app, records["policy"]),
        **records,
    }


@pytest.fixture
def foreign_claim(app, make_organisation, portfolio) -> int:
    return make_claim(app, portfolio(make_organisation(), "X7")["policy"])


def messages(app) -> list[Message]:
    with app.app_context():
        rows = db.session.scalars(select(Message).order_by(Message.id)).all()
        db.session.expunge_all()
        return rows


def claim_number(app, claim_id: int) -> str:
    from app.models import Claim

    with app.app_context():
        return db.session.get(Claim, claim_id).number


def test_the_api_files_a_message_about_a_claim_against_the_claim(http, app, agency):
    response = http.post(
        "/api/v1/message/",
        json={"template_id": agency["template"], "record": "claim", "record_id": agency["claim"]},
        headers=agency["headers"],
    )

    assert response.status_code == 201, response.json
    [message] = messages(app)
    number = claim_number(app, agency["claim"])
    assert message.subject == f"Votre sinistre {number}"
    assert "POL-C1" in message.body_text
    assert (message.claim_id, message.policy_id, message.client_id) == (
        agency["claim"],
        agency["policy"],
        agency["client"],
    )
    shown = http.get(f"/api/v1/message/{message.id}", headers=agency["headers"]).json["result"]
    assert shown["claim_id"] == agency["claim"]
    filters = f"(filters:!((col:claim_id,opr:eq,value:{agency['claim']})))"
    listed = http.get(f"/api/v1/message/?q={filters}", headers=agency["headers"]).json
    assert [row["id"] for row in listed["result"]] == [message.id]


def test_the_api_refuses_another_agency_s_claim_and_queues_nothing(
    http, app, agency, foreign_claim
):
    # Another agency's claim answers as an unknown one; an id out of range is refused whole.
    for record_id, status in ((foreign_claim, 404), (999_999, 404), (2**31 + 5, 422)):
        response = http.post(
            "/api/v1/message/",
            json={"template_id": agency["template"], "record": "claim", "record_id": record_id},
            headers=agency["headers"],
        )
        assert response.status_code == status, response.json
        assert response.is_json
    assert messages(app) == []


def test_send_from_a_claim_s_page_and_see_it_in_the_claim_s_history(
    http, app, agency, login, foreign_claim
):
    login(agency["user"])
    page = http.get(f"/claims/show/{agency['claim']}").get_data(as_text=True)
    path = f"/outbox/compose/claim/{agency['claim']}"
    assert f'href="{path}"' in page
    assert f'href="/history/claim/{agency["claim"]}"' in page
    form = http.get(path).get_data(as_text=True)
    assert "Courriel sinistre" in form and "jeanneC1@example.com" in form

    answer = http.post(
        path,
        data={"template_id": agency["template"], "csrf_token": csrf_token(http, path)},
        follow_redirects=True,
    )

    assert answer.status_code == 200
    [message] = messages(app)
    assert message.claim_id == agency["claim"] and message.policy_id == agency["policy"]
    number = claim_number(app, agency["claim"])
    history = http.get(f"/history/claim/{agency['claim']}").get_data(as_text=True)
    assert "E-mail écrit" in history and f"Votre sinistre {number}" in history
    # The message names the claim in French; the claim's own recording is there too.
    assert f"<strong>Sinistre</strong> : {agency['claim']}" in history
    assert "Création" in history and f"→ {number}" in history
    # The outbox names the claim as the message's record.
    assert number in http.get("/outbox/list/").get_data(as_text=True)
    # Filed against the contract too: its history shows the message.
    policy_history = http.get(f"/history/policy/{agency['policy']}").get_data(as_text=True)
    assert f"Votre sinistre {number}" in policy_history
    # Another agency's claim: no form, no history, nothing sent.
    assert http.get(f"/outbox/compose/claim/{foreign_claim}").status_code == 404
    refused = http.post(
        f"/outbox/compose/claim/{foreign_claim}",
        data={"template_id": agency["template"], "csrf_token": csrf_token(http, path)},
    )
    assert refused.status_code == 404
    assert http.get(f"/history/claim/{foreign_claim}").status_code == 404
    assert len(messages(app)) == 1


def test_a_claim_s_history_shows_only_its_own_messages(http, app, agency, login):
    other_claim = make_claim(app, agency["policy"])
    for claim_id in (agency["claim"], other_claim):
        http.post(
            "/api/v1/message/",
            json={"template_id": agency["template"], "record": "claim", "record_id": claim_id},
            headers=agency["headers"],
        )
    login(agency["user"])

    history = http.get(f"/history/claim/{agency['claim']}").get_data(as_text=True)

    assert f"Votre sinistre {claim_number(app, agency['claim'])}" in history
    assert f"Votre sinistre {claim_number(app, other_claim)}" not in history
