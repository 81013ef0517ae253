"""The Boîte d'envoi: messages shown as sent, held ones approved by a manager, sending from a
contract's page, and the Échéances list's "E-mail the avis"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Client,
    Company,
    LineOfBusiness,
    Message,
    MessageStatus,
    OutputFormat,
    PaymentFrequency,
    Policy,
    PolicyStatus,
    TemplateKind,
)
from app.services import mail
from app.services.renewals import cycles
from app.services.templates import load_builtin_templates
from tests.conftest import csrf_token, user_organisation
from tests.documents_support import create_template
from tests.mail_support import ready_document

BODY = "Objet : Votre contrat {{ policy.number }}\n\n<p>Bonjour {{ client.first_name }}</p>\n"


@pytest.fixture
def agency(app, make_user, portfolio):
    manager = make_user("MANAGER")
    organisation_id = user_organisation(app, manager)
    user = make_user("USER", organisation_id)
    records = portfolio(organisation_id, "S1")
    template_id = create_template(
        app,
        organisation_id,
        BODY,
        kind=TemplateKind.email,
        output_format=OutputFormat.html,
        name="Courriel",
    )
    return {
        "organisation": organisation_id,
        "manager": manager,
        "user": user,
        "template": template_id,
        **records,
    }


def held_message(app, agency) -> int:
    with app.app_context():
        [message_id] = mail.queue_messages(
            db.session,
            agency["organisation"],
            [
                mail.Draft(
                    to=["jeanne@example.com"],
                    subject="Relance <importante>",
                    body_text="Bonjour",
                    body_html="<p>Bonjour <strong>Jeanne</strong></p>",
                    policy_id=agency["policy"],
                )
            ],
            created_by_id=None,
            approval=True,
        )
        return message_id


def status(app, message_id) -> MessageStatus:
    with app.app_context():
        return db.session.get(Message, message_id).status


def test_the_outbox_shows_a_message_as_it_was_written(http, app, agency, login):
    message_id = held_message(app, agency)
    login(agency["user"])

    listing = http.get("/outbox/list/").get_data(as_text=True)
    page = http.get(f"/outbox/show/{message_id}").get_data(as_text=True)

    assert "Boîte d'envoi" in listing and "Relance &lt;importante&gt;" in listing
    assert "En attente d" in listing
    assert "<strong>Jeanne</strong>" in page
    assert "ORIAS n°" in page
    assert "POL-S1" in listing


def test_another_agency_s_message_is_not_found(
    http, app, agency, login, make_user, make_organisation
):
    message_id = held_message(app, agency)
    login(make_user("MANAGER", make_organisation()))

    assert http.get(f"/outbox/show/{message_id}").status_code == 404
    assert "Relance" not in http.get("/outbox/list/").get_data(as_text=True)


def token_for(http, agency) -> str:
    return csrf_token(http, f"/outbox/compose/policy/{agency['policy']}")


def _act(http, agency, name, message_id):
    token = token_for(http, agency)
    return http.post(
        "/outbox/action_post",
        data={"action": name, "rowid": [str(message_id)], "csrf_token": token},
        follow_redirects=True,
    )


def test_a_manager_approves_a_held_message_and_it_is_sent(http, app, agency, login):
    message_id = held_message(app, agency)
    login(agency["manager"])

    page = _act(http, agency, "approve_messages", message_id)

    assert page.status_code == 200
    assert status(app, message_id) is MessageStatus.sent


def test_a_user_cannot_approve(http, app, agency, login):
    message_id = held_message(app, agency)
    login(agency["user"])

    _act(http, agency, "approve_messages", message_id)

    assert status(app, message_id) is MessageStatus.awaiting_approval


def test_a_manager_refuses_a_held_message(http, app, agency, login):
    message_id = held_message(app, agency)
    login(agency["manager"])

    _act(http, agency, "refuse_messages", message_id)

    assert status(app, message_id) is MessageStatus.cancelled


def test_send_from_a_contract_s_page_with_a_document(http, app, agency, login):
    document_id = ready_document(app, agency["organisation"], b"%PDF- cp", "cp.pdf")
    with app.app_context():
        from app.models import Document

        db.session.get(Document, document_id).policy_id = agency["policy"]
        db.session.commit()
    login(agency["user"])
    path = f"/outbox/compose/policy/{agency['policy']}"
    assert f'href="{path}"' in http.get(f"/policyview/show/{agency['policy']}").get_data(
        as_text=True
    )
    form = http.get(path).get_data(as_text=True)
    assert "Courriel" in form and "cp.pdf" in form and "jeanneS1@example.com" in form

    answer = http.post(
        path,
        data={
            "template_id": agency["template"],
            "to": "jeanneS1@example.com",
            "document_ids": [str(document_id)],
            "csrf_token": csrf_token(http, path),
        },
        follow_redirects=True,
    )

    assert answer.status_code == 200
    with app.app_context():
        [message] = db.session.execute(select(Message)).scalars().all()
        assert message.subject == "Votre contrat POL-S1"
        assert message.attachments[0]["document_id"] == document_id
        assert message.status is MessageStatus.sent


def test_send_from_a_client_s_page_and_see_it_in_their_history(
    http, app, agency, login, make_organisation, portfolio
):
    template_id = create_template(
        app,
        agency["organisation"],
        "Objet : Bonjour {{ client.display_name }}\n\n<p>Votre cabinet vous écrit.</p>\n",
        kind=TemplateKind.email,
        output_format=OutputFormat.html,
        name="Courriel client",
    )
    login(agency["user"])
    page = f"/clientview/show/{agency['client']}"
    path = f"/outbox/compose/client/{agency['client']}"
    assert f'href="{path}"' in http.get(page).get_data(as_text=True)
    form = http.get(path).get_data(as_text=True)
    assert "Courriel client" in form and "jeanneS1@example.com" in form

    answer = http.post(
        path,
        data={"template_id": template_id, "csrf_token": csrf_token(http, path)},
        follow_redirects=True,
    )

    assert answer.status_code == 200
    with app.app_context():
        [message] = db.session.execute(select(Message)).scalars().all()
        assert message.subject == "Bonjour Jeanne MartinS1"
        assert (message.client_id, message.policy_id) == (agency["client"], None)
        assert message.to_addresses == "jeanneS1@example.com"
    history = http.get(f"/history/client/{agency['client']}").get_data(as_text=True)
    assert "E-mail écrit" in history and "Bonjour Jeanne MartinS1" in history
    # Another agency's client has no compose form.
    foreign = portfolio(make_organisation(), "X1")["client"]
    assert http.get(f"/outbox/compose/client/{foreign}").status_code == 404


def test_the_echeances_list_e_mails_the_avis_of_the_chosen_contracts(http, app, agency, login):
    with app.app_context():
        load_builtin_templates(db.session)
        company = Company(organisation_id=agency["organisation"], name="Mutuelle", code="MU")
        client = Client(
            organisation_id=agency["organisation"],
            first_name="Camille",
            last_name="Dupont",
            email="camille@example.com",
        )
        db.session.add_all([company, client])
        db.session.flush()
        policy = Policy(
            organisation_id=agency["organisation"],
            number="AUTO-9",
            client_id=client.id,
            company_id=company.id,
            line_of_business=LineOfBusiness.auto,
            status=PolicyStatus.active,
            effective_date=dt.date(2025, 12, 10),
            expiry_date=dt.date(2026, 12, 10),
            premium=Decimal("800.00"),
            payment_frequency=PaymentFrequency.annual,
        )
        db.session.add(policy)
        db.session.flush()
        cycle = cycles.cycle_for(policy)
        db.session.commit()
        cycle_id = cycle.id
    login(agency["manager"])
    token = token_for(http, agency)

    page = http.post(
        "/renewals/action_post",
        data={"action": "email_avis", "rowid": [str(cycle_id)], "csrf_token": token},
        follow_redirects=True,
    )

    assert page.status_code == 200
    with app.app_context():
        [message] = db.session.execute(select(Message)).scalars().all()
        assert message.renewal_cycle_id == cycle_id
        assert message.to_addresses == "camille@example.com"
        assert message.status is MessageStatus.sent, message.error
        assert message.attachments[0]["file_name"].endswith(".pdf")


def test_a_contract_s_history_shows_the_e_mails_sent_about_it(http, app, agency, login):
    with app.app_context():
        mail.queue_messages(
            db.session,
            agency["organisation"],
            [
                mail.Draft(
                    to=["jeanne@example.com"],
                    subject="Votre attestation",
                    body_text="Bonjour",
                    policy_id=agency["policy"],
                    client_id=agency["client"],
                )
            ],
            created_by_id=None,
        )
    login(agency["user"])

    page = http.get(f"/history/policy/{agency['policy']}").get_data(as_text=True)
    client_page = http.get(f"/history/client/{agency['client']}").get_data(as_text=True)

    assert "E-mail envoyé" in page and "Votre attestation" in page
    assert "E-mail écrit" in client_page
