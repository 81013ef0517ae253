"""Task rules that e-mail the record's client: one message per rule and record, through
the outbox, never doubled by a re-run or by two workers; listed by the dry run; sent by a
real SMTP server (aiosmtpd) once; refused when the template is not the agency's e-mail one.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import (
    AuditLog,
    Client,
    Message,
    MessageStatus,
    OutputFormat,
    RenewalCycle,
    Task,
    TaskRule,
    TaskTrigger,
    TemplateKind,
)
from app.models.base import ModelValidationError
from app.services.mail.outbox import insert_rule_messages
from app.services.tasks import engine, mailing
from app.services.tasks.rules import check_rule
from tests.conftest import csrf_token, user_organisation
from tests.documents_support import create_template
from tests.mail_support import SmtpServer, smtp_for

# The cycle is opened when the test's contract is written: the rule fires from its day on.
TODAY = dt.date.today() + dt.timedelta(days=1)
BODY = """Objet : Votre renouvellement, contrat {{ policy.number }}

<p>Bonjour {{ client.display_name }},</p>
<p>Votre contrat arrive à échéance : nous revenons vers vous.</p>
"""


@pytest.fixture
def agency(app, make_user, portfolio, auth_headers):
    manager = make_user("MANAGER")
    org = user_organisation(app, manager)
    ids = portfolio(org)
    template = create_template(
        app, org, BODY, kind=TemplateKind.email, output_format=OutputFormat.html, name="Relance"
    )
    with app.app_context():
        cycle = db.session.scalar(
            select(RenewalCycle).where(RenewalCycle.policy_id == ids["policy"])
        )
        ids["cycle"] = cycle.id
        rule = TaskRule(
            organisation_id=org,
            name="Prévenir le client",
            trigger=TaskTrigger.renewal_cycle_opened,
            offset_days=0,
            due_days=0,
            title_template="",
            creates_task=False,
            email_template_id=template,
        )
        db.session.add(rule)
        db.session.commit()
        ids["rule"] = rule.id
    return {"organisation": org, "template": template, "manager": auth_headers(manager), **ids}


def messages_of(org: int) -> list[Message]:
    return list(
        db.session.scalars(
            select(Message).where(Message.organisation_id == org).order_by(Message.id)
        )
    )


def test_a_rule_e_mails_the_client_once_however_often_it_runs(app, agency):
    org = agency["organisation"]
    with app.app_context():
        first = engine.apply_rules(db.session, organisation_id=org, today=TODAY)
        assert first.summary()["queued"] == 1 and first.summary()["created"] == 0
        [message] = messages_of(org)
        assert message.to_addresses == "jeanne1@example.com"
        assert message.subject == "Votre renouvellement, contrat POL-1"
        assert "Bonjour Jeanne Martin1" in message.body_text
        assert (message.policy_id, message.client_id, message.renewal_cycle_id) == (
            agency["policy"],
            agency["client"],
            agency["cycle"],
        )
        assert (message.rule_id, message.rule_key) == (
            agency["rule"],
            f"renewal_cycle:{agency['cycle']}",
        )
        # No MAIL_URL: the local outbox took it.
        assert message.status is MessageStatus.sent
        # An e-mail-only rule creates no task.
        assert db.session.scalars(select(Task).where(Task.organisation_id == org)).all() == []

        again = engine.apply_rules(db.session, organisation_id=org, today=TODAY)
        later = engine.apply_rules(
            db.session, organisation_id=org, today=TODAY + dt.timedelta(days=3)
        )
        assert again.summary()["queued"] == 0 and later.summary()["queued"] == 0
        assert len(messages_of(org)) == 1
        # The contract's history shows the message.
        queued = db.session.scalar(
            select(AuditLog.changes).where(
                AuditLog.action == "message.queued", AuditLog.object_id == str(message.id)
            )
        )
        assert queued["policy_id"] == agency["policy"] and queued["rule_id"] == agency["rule"]


def test_the_dry_run_lists_the_e_mails_and_writes_nothing(app, agency):
    org = agency["organisation"]
    with app.app_context():
        dry = engine.apply_rules(db.session, organisation_id=org, today=TODAY, dry_run=True)
        assert messages_of(org) == []
        [plan] = dry.planned_messages
        assert plan.as_dict() == {
            "rule_id": agency["rule"],
            "rule_name": "Prévenir le client",
            "to": "jeanne1@example.com",
            "subject": "Votre renouvellement, contrat POL-1",
            "client_id": agency["client"],
            "policy_id": agency["policy"],
            "renewal_cycle_id": agency["cycle"],
            "premium_notice_id": None,
        }


def test_two_workers_racing_write_the_message_once(app, agency):
    with app.app_context():
        with Session(db.engine) as first, Session(db.engine) as second:
            # Both read the candidates before either writes: each would write the message.
            plan_a = mailing.plan_messages(first, first.get(TaskRule, agency["rule"]), TODAY)
            plan_b = mailing.plan_messages(second, second.get(TaskRule, agency["rule"]), TODAY)
            assert len(plan_a) == len(plan_b) == 1
            assert len(insert_rule_messages(first, [m for _p, m in plan_a])) == 1
            first.commit()
            assert insert_rule_messages(second, [m for _p, m in plan_b]) == []
            second.commit()
        assert len(messages_of(agency["organisation"])) == 1


def test_a_rule_may_create_its_task_and_send_its_e_mail(app, agency):
    org = agency["organisation"]
    with app.app_context():
        rule = db.session.get(TaskRule, agency["rule"])
        rule.creates_task = True
        rule.title_template = "Appeler {{ client.name }}"
        db.session.commit()
        run = engine.apply_rules(db.session, organisation_id=org, today=TODAY)
        assert run.summary()["created"] == 1 and run.summary()["queued"] == 1
        [task] = db.session.scalars(select(Task).where(Task.organisation_id == org)).all()
        assert task.title == "Appeler Jeanne Martin1"
        assert len(messages_of(org)) == 1


def test_a_client_without_an_address_gets_no_message_and_the_task_still_comes(app, agency):
    org = agency["organisation"]
    with app.app_context():
        db.session.get(Client, agency["client"]).email = None
        rule = db.session.get(TaskRule, agency["rule"])
        rule.creates_task = True
        rule.title_template = "Appeler {{ client.name }}"
        db.session.commit()
        run = engine.apply_rules(db.session, organisation_id=org, today=TODAY)
        assert run.summary()["created"] == 1 and run.summary()["queued"] == 0
        assert messages_of(org) == [] and run.failed_rules == {}


def test_the_smtp_server_receives_the_rule_s_message_once(app, agency):
    server = SmtpServer()
    server.start()
    try:
        with smtp_for(app, server), app.app_context():
            engine.apply_rules(db.session, organisation_id=agency["organisation"], today=TODAY)
            engine.apply_rules(db.session, organisation_id=agency["organisation"], today=TODAY)
    finally:
        server.stop()
    [received] = server.recorder.received
    assert received["To"] == "jeanne1@example.com"
    assert received["Subject"] == "Votre renouvellement, contrat POL-1"


def test_a_rule_s_template_must_be_a_published_e_mail_template_of_the_agency(
    app, agency, make_organisation
):
    other = make_organisation()
    foreign = create_template(
        app, other, BODY, kind=TemplateKind.email, output_format=OutputFormat.html
    )
    document = create_template(app, agency["organisation"])
    draft = create_template(
        app,
        agency["organisation"],
        BODY,
        kind=TemplateKind.email,
        output_format=OutputFormat.html,
        publish=False,
    )
    with app.app_context():
        rule = db.session.get(TaskRule, agency["rule"])
        for template_id in (foreign, document, draft, 2**40):
            rule.email_template_id = template_id
            with pytest.raises(ModelValidationError) as refused:
                check_rule(db.session, rule)
            assert "email_template_id" in refused.value.errors
        rule.email_template_id = None
        with pytest.raises(ModelValidationError) as refused:
            check_rule(db.session, rule)
        assert "email_template_id" in refused.value.errors  # neither a task nor an e-mail
        db.session.rollback()


def test_the_api_writes_an_e_mail_rule_and_its_dry_run_lists_the_messages(http, app, agency):
    headers = agency["manager"]
    response = http.post(
        "/api/v1/task_rule/",
        json={
            "name": "Courriel au client",
            "trigger": "renewal_cycle_opened",
            "offset_days": 0,
            "due_days": 0,
            "title_template": "",
            "creates_task": False,
            "email_template_id": agency["template"],
        },
        headers=headers,
    )
    assert response.status_code == 201, response.json
    assert response.json["result"]["email_template_id"] == agency["template"]
    refused = http.post(
        "/api/v1/task_rule/",
        json={
            "name": "Sans rien",
            "trigger": "renewal_cycle_opened",
            "title_template": "",
            "creates_task": False,
        },
        headers=headers,
    )
    assert refused.status_code == 422 and "email_template_id" in str(refused.json)
    dry = http.post("/api/v1/task_rule/apply", json={"dry_run": True}, headers=headers)
    assert dry.status_code == 200, dry.json
    # The fixture's rule and the new one both fire for the cycle opened today.
    assert dry.json["queued"] == 2 and dry.json["created"] == 0
    assert {m["rule_name"] for m in dry.json["messages"]} == {
        "Prévenir le client",
        "Courriel au client",
    }
    assert {m["to"] for m in dry.json["messages"]} == {"jeanne1@example.com"}
    with app.app_context():
        assert messages_of(agency["organisation"]) == []


def test_a_manager_sets_a_rule_s_e_mail_on_screen_previews_and_sends_it(
    app, http, make_user, login, portfolio
):
    manager = make_user("MANAGER")
    org = user_organisation(app, manager)
    template = create_template(
        app, org, BODY, kind=TemplateKind.email, output_format=OutputFormat.html, name="Relance"
    )
    login(manager)
    page = http.get("/task-rules/new").get_data(as_text=True)
    assert f'<option value="{template}"' in page and "Relance" in page
    form = {
        "csrf_token": csrf_token(http, "/task-rules/new"),
        "name": "Courriel d'ouverture",
        "trigger": "renewal_cycle_opened",
        "offset_days": "0",
        "due_days": "0",
        "title_template": "",
        "type": "action",
        "priority": "normal",
        "assignee_rule": "contract_manager",
        "email_template_id": str(template),
        "active": "y",
    }
    saved = http.post("/task-rules/new", data=form, follow_redirects=True)
    assert "Règle enregistrée." in saved.get_data(as_text=True)
    with app.app_context():
        rule = db.session.scalar(select(TaskRule).where(TaskRule.organisation_id == org))
        assert (rule.creates_task, rule.email_template_id) == (False, template)
    portfolio(org, "E1")  # after the rule: its cycle opens today
    preview = http.get("/task-rules/preview").get_data(as_text=True)
    assert "jeanneE1@example.com" in preview and "Votre renouvellement, contrat POL-E1" in preview
    with app.app_context():
        assert messages_of(org) == []
    token = csrf_token(http, "/task-rules/preview")
    done = http.post("/task-rules/apply", data={"csrf_token": token}, follow_redirects=True)
    assert "1 e-mail(s) placé(s) dans la boîte d’envoi." in done.get_data(as_text=True)
    with app.app_context():
        [message] = messages_of(org)
        assert message.to_addresses == "jeanneE1@example.com"
