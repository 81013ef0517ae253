"""E-mail through the API: a template about a record, many records, approval, the outbox.
Messages are delivered to a real SMTP server (aiosmtpd) or, without one, the local outbox."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Client,
    Company,
    Document,
    LineOfBusiness,
    Message,
    MessageStatus,
    OutputFormat,
    PaymentFrequency,
    Policy,
    PolicyStatus,
    Template,
    TemplateKind,
)
from app.services.renewals import cycles
from app.services.templates import load_builtin_templates
from tests.conftest import user_organisation
from tests.documents_support import create_template
from tests.mail_support import SmtpServer, ready_document, smtp_for

BODY = """Objet : Votre contrat {{ policy.number }}

<p>Bonjour {{ client.display_name }},</p>
<p>Votre cotisation : {{ policy.premium|money(policy.currency) }}.</p>
"""


@pytest.fixture
def agency(app, make_user, portfolio, auth_headers):
    manager = make_user("MANAGER")
    organisation_id = user_organisation(app, manager)
    user = make_user("USER", organisation_id)
    records = portfolio(organisation_id, "M1")
    template_id = create_template(
        app,
        organisation_id,
        BODY,
        kind=TemplateKind.email,
        output_format=OutputFormat.html,
        name="Courriel contrat",
    )
    return {
        "organisation": organisation_id,
        "manager": auth_headers(manager),
        "user": auth_headers(user),
        "template": template_id,
        **records,
    }


def messages(app) -> list[Message]:
    with app.app_context():
        rows = db.session.execute(select(Message).order_by(Message.id)).scalars().all()
        db.session.expunge_all()
        return rows


def send(http, headers, **body):
    return http.post("/api/v1/message/", json=body, headers=headers)


def test_a_message_about_a_policy_goes_to_its_client_rendered_and_signed(http, app, agency):
    response = send(
        http,
        agency["user"],
        template_id=agency["template"],
        record="policy",
        record_id=agency["policy"],
    )

    assert response.status_code == 201, response.json
    [message] = messages(app)
    assert response.json == {"id": message.id, "status": "sent"}
    assert response.headers["Location"] == f"/api/v1/message/{message.id}"
    assert message.subject == "Votre contrat POL-M1"
    assert message.to_addresses == "jeanneM1@example.com"
    assert "420,50" in message.body_text and "Jeanne" in message.body_text
    assert "ORIAS n°" in message.body_text
    assert message.policy_id == agency["policy"] and message.client_id == agency["client"]
    shown = http.get(f"/api/v1/message/{message.id}", headers=agency["user"])
    assert shown.status_code == 200
    assert shown.json["result"]["smtp_answer"] == "local outbox"


def test_a_template_that_fails_to_render_names_its_line_and_queues_nothing(http, app, agency):
    broken = create_template(
        app,
        agency["organisation"],
        "Objet : test\n\n<p>{{ policy.number }}</p>\n<p>{{ 1 // 0 }}</p>\n",
        kind=TemplateKind.email,
        output_format=OutputFormat.html,
    )

    response = send(
        http, agency["user"], template_id=broken, record="policy", record_id=agency["policy"]
    )

    assert response.status_code == 422
    assert response.json["message"]["template_id"] == [
        "Ligne 4 : integer division or modulo by zero"
    ]
    assert messages(app) == []


def test_a_bad_address_is_refused_and_nothing_is_queued(http, app, agency):
    response = send(
        http,
        agency["user"],
        template_id=agency["template"],
        record="policy",
        record_id=agency["policy"],
        to=["jeanne.example.com"],
    )

    assert response.status_code in (400, 422)
    assert messages(app) == []


def test_a_document_of_another_agency_is_not_found_and_nothing_is_queued(
    http, app, agency, make_organisation
):
    theirs = ready_document(app, make_organisation(), b"%PDF- not yours")

    response = send(
        http,
        agency["user"],
        template_id=agency["template"],
        record="policy",
        record_id=agency["policy"],
        document_ids=[theirs],
    )

    assert response.status_code == 404
    assert messages(app) == []


def test_a_record_of_another_agency_is_not_found(http, app, agency, make_organisation, portfolio):
    theirs = portfolio(make_organisation(), "X9")["policy"]

    response = send(
        http, agency["user"], template_id=agency["template"], record="policy", record_id=theirs
    )

    assert response.status_code == 404
    assert messages(app) == []


def test_a_document_template_cannot_be_sent_as_an_e_mail(http, app, agency):
    document_template = create_template(app, agency["organisation"], "<p>{{ policy.number }}</p>")

    response = send(
        http,
        agency["user"],
        template_id=document_template,
        record="policy",
        record_id=agency["policy"],
    )

    assert response.status_code == 422
    assert messages(app) == []


def test_the_attachment_reaches_the_smtp_server_byte_for_byte(http, app, agency):
    data = b"%PDF-1.7 " + bytes(range(256)) * 10
    document_id = ready_document(app, agency["organisation"], data, "conditions.pdf")
    server = SmtpServer()
    server.start()
    try:
        with smtp_for(app, server):
            response = send(
                http,
                agency["user"],
                template_id=agency["template"],
                record="policy",
                record_id=agency["policy"],
                document_ids=[document_id],
            )
    finally:
        server.stop()

    assert response.status_code == 201, response.json
    [received] = server.recorder.received
    [attachment] = list(received.iter_attachments())
    assert attachment.get_content() == data
    assert received["Subject"] == "Votre contrat POL-M1"
    [message] = messages(app)
    assert message.attachments[0]["sha256"] == hashlib.sha256(data).hexdigest()


def test_a_document_sent_as_a_signed_link_is_not_attached_and_the_link_downloads_it(
    http, app, agency
):
    data = b"%PDF-1.7 " + bytes(range(256)) * 4
    document_id = ready_document(app, agency["organisation"], data, "attestation.pdf")
    response = send(
        http,
        agency["user"],
        template_id=agency["template"],
        record="policy",
        record_id=agency["policy"],
        document_ids=[document_id],
        link=True,
    )

    assert response.status_code == 201, response.json
    [message] = messages(app)
    assert not message.attachments
    [url] = re.findall(r"https?://[^\s\"<>]+", message.body_text)
    assert "attestation.pdf" in message.body_text
    parts = urlsplit(url)
    # The link works for whoever holds it: a client with no session downloads it.
    downloaded = app.test_client().get(f"{parts.path}?{parts.query}" if parts.query else parts.path)
    assert downloaded.status_code == 200, downloaded.status_code
    assert downloaded.data == data


def test_a_bulk_sending_over_the_maximum_is_refused_whole(
    http, app, agency, portfolio, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_BULK_MAX", 2)
    policies = [agency["policy"]] + [
        portfolio(agency["organisation"], suffix)["policy"] for suffix in ("M2", "M3")
    ]

    response = http.post(
        "/api/v1/message/bulk",
        json={"template_id": agency["template"], "record": "policy", "record_ids": policies},
        headers=agency["user"],
    )

    assert response.status_code == 422
    assert messages(app) == []


def test_a_held_bulk_sending_waits_for_a_manager_s_approval(http, app, agency, portfolio):
    second = portfolio(agency["organisation"], "M2")
    with app.app_context():
        db.session.get(Client, second["client"]).email = None
        db.session.commit()

    response = http.post(
        "/api/v1/message/bulk",
        json={
            "template_id": agency["template"],
            "record": "policy",
            "record_ids": [agency["policy"], second["policy"]],
            "approval": True,
        },
        headers=agency["user"],
    )

    assert response.status_code == 201, response.json
    [held] = response.json["ids"]
    assert response.json["skipped"] == [
        {"id": second["policy"], "reason": "Le client n'a pas d'adresse e-mail."}
    ]
    assert [m.status for m in messages(app)] == [MessageStatus.awaiting_approval]
    refused = http.post(
        "/api/v1/message/approve", json={"message_ids": [held]}, headers=agency["user"]
    )
    assert refused.status_code == 403
    approved = http.post(
        "/api/v1/message/approve", json={"message_ids": [held]}, headers=agency["manager"]
    )
    assert approved.json == {"changed": 1}
    [message] = messages(app)
    assert message.status is MessageStatus.sent
    assert message.approved_at is not None


def test_the_outbox_lists_only_the_agency_s_messages(
    http, app, agency, make_user, make_organisation, auth_headers
):
    send(
        http,
        agency["user"],
        template_id=agency["template"],
        record="policy",
        record_id=agency["policy"],
    )
    [message] = messages(app)
    stranger = auth_headers(make_user("MANAGER", make_organisation()))

    assert http.get("/api/v1/message/", headers=stranger).json["count"] == 0
    assert http.get(f"/api/v1/message/{message.id}", headers=stranger).status_code == 404
    assert http.get("/api/v1/message/", headers=agency["user"]).json["count"] == 1


def test_the_built_in_avis_e_mail_goes_to_renewal_cycles_with_their_avis_attached(
    http, app, agency
):
    with app.app_context():
        load_builtin_templates(db.session)
        db.session.commit()
        template_id = db.session.execute(
            select(Template.id).where(Template.builtin_key == "email_avis_echeance")
        ).scalar_one()
        company = Company(organisation_id=agency["organisation"], name="Mutuelle Rhône", code="MR")
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
            number="AUTO-7",
            client_id=client.id,
            company_id=company.id,
            line_of_business=LineOfBusiness.auto,
            status=PolicyStatus.active,
            effective_date=dt.date(2025, 12, 10),
            expiry_date=dt.date(2026, 12, 10),
            premium=Decimal("1000.00"),
            payment_frequency=PaymentFrequency.quarterly,
        )
        db.session.add(policy)
        db.session.flush()
        cycle = cycles.cycle_for(policy)
        cycles.propose(cycle, proposed_premium=Decimal("1100.00"))
        db.session.commit()
        cycle_id = cycle.id
    server = SmtpServer()
    server.start()
    try:
        with smtp_for(app, server):
            response = http.post(
                "/api/v1/message/bulk",
                json={
                    "template_id": template_id,
                    "record": "renewal_cycle",
                    "record_ids": [cycle_id],
                    "attach_avis": True,
                },
                headers=agency["manager"],
            )
    finally:
        server.stop()

    assert response.status_code == 201, response.json
    [message] = messages(app)
    assert message.status is MessageStatus.sent, message.error
    assert message.renewal_cycle_id == cycle_id
    assert message.subject == "Avis d'échéance de votre contrat AUTO-7 au 10 décembre 2026"
    [received] = server.recorder.received
    [attachment] = list(received.iter_attachments())
    with app.app_context():
        document = db.session.get(Document, message.attachments[0]["document_id"])
        assert hashlib.sha256(attachment.get_content()).hexdigest() == document.sha256
        assert document.policy_id == message.policy_id
        assert db.session.scalar(select(func.count()).select_from(Document)) == 1
    assert attachment.get_content().startswith(b"%PDF")


def test_an_e_mail_template_is_html_and_its_first_line_is_the_subject(http, agency):
    headers = agency["manager"]
    as_pdf = http.post(
        "/api/v1/template/",
        json={"name": "Relance", "kind": "email", "output_format": "pdf"},
        headers=headers,
    )
    assert as_pdf.status_code == 422
    created = http.post(
        "/api/v1/template/",
        json={"name": "Relance", "kind": "email", "output_format": "html"},
        headers=headers,
    )
    assert created.status_code == 201, created.json
    versions = f"/api/v1/template/{created.json['id']}/versions"

    no_subject = http.post(versions, json={"body": "<p>Bonjour</p>"}, headers=headers)
    with_subject = http.post(
        versions,
        json={"body": "Objet : Relance {{ policy.number }}\n\n<p>Bonjour</p>"},
        headers=headers,
    )

    assert no_subject.status_code == 422
    assert "Ligne 1" in str(no_subject.json["message"])
    assert with_subject.status_code == 201, with_subject.json


def test_a_document_cannot_be_generated_from_an_e_mail_template(http, app, agency):
    response = http.post(
        "/api/v1/document/generate",
        json={"template_id": agency["template"], "policy_id": agency["policy"]},
        headers=agency["user"],
    )

    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Document)) == 0
