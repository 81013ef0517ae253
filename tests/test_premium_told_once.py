"""A client is told about an unpaid (or coming) premium notice once, whichever path tells.

Two paths e-mail a client about a notice: the daily reminders and relances
(app/services/mail/reminders.py) and the task rules that send an e-mail
(app/services/tasks/mailing.py). Both consult and set one mark per moment of the
procedure (app/services/premiums/told.py): ``reminded_on`` before the due date,
``relanced_on`` after it. A monthly contract started 50 days ago: two notices past due,
one due in about ten days.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Client,
    Message,
    OutputFormat,
    PremiumNotice,
    TaskRule,
    TaskTrigger,
    TemplateKind,
)
from app.services.premiums import daily, issuing, procedure
from app.services.renewals.contracts import agency_today
from app.services.tasks import engine
from app.services.templates import load_builtin_templates
from tests.conftest import user_organisation
from tests.documents_support import create_template
from tests.test_api_premiums import make_policy

BODY = """Objet : Cotisation impayée, contrat {{ policy.number }}

<p>Bonjour {{ client.display_name }}, une cotisation de votre contrat reste due.</p>
"""


@pytest.fixture
def agency(app, make_user):
    manager = make_user("MANAGER")
    org = user_organisation(app, manager)
    policy_id = make_policy(app, org, "POL-T", started_days_ago=50)
    template = create_template(
        app, org, BODY, kind=TemplateKind.email, output_format=OutputFormat.html, name="Impayé"
    )
    with app.app_context():
        load_builtin_templates(db.session)
        client = db.session.scalar(select(Client).where(Client.last_name == "POL-T"))
        client.email = "jeanne.t@example.com"
        today = agency_today(db.session, org)
        issuing.issue_due(db.session, organisation_id=org, today=today)
        procedure.move_stages(db.session, organisation_id=org, today=today)
        db.session.commit()
    return {"org": org, "policy": policy_id, "template": template, "today": today}


def add_rule(app, agency, offset_days: int) -> None:
    with app.app_context():
        db.session.add(
            TaskRule(
                organisation_id=agency["org"],
                name=f"Impayé J{offset_days:+d}",
                trigger=TaskTrigger.notice_unpaid,
                offset_days=offset_days,
                due_days=0,
                title_template="",
                creates_task=False,
                email_template_id=agency["template"],
            )
        )
        db.session.commit()


def notices(policy_id: int) -> list[PremiumNotice]:
    query = select(PremiumNotice).where(PremiumNotice.policy_id == policy_id)
    return list(db.session.scalars(query.order_by(PremiumNotice.due_on)))


def told_about(notice: PremiumNotice) -> list[Message]:
    """The messages naming this notice, alone or among a contract's arrears."""
    found = []
    for message in db.session.scalars(select(Message).order_by(Message.id)):
        if message.premium_notice_id == notice.id or (
            message.premium_notice_id is None and notice.number in message.body_text
        ):
            found.append(message)
    return found


def test_a_rule_that_e_mailed_the_unpaid_notices_leaves_the_daily_relance_nothing(app, agency):
    add_rule(app, agency, offset_days=0)
    org, today = agency["org"], agency["today"]
    with app.app_context():
        rules = engine.apply_rules(db.session, organisation_id=org, today=today)
        assert rules.summary()["queued"] == 2  # one per unpaid notice
        run = daily.run_daily(db.session, organisation_id=org, today=today)
        assert (run.reminded, run.relanced) == ({org: 1}, {})  # the coming notice only
        first, second, coming = notices(agency["policy"])
        for notice in (first, second, coming):
            assert len(told_about(notice)) == 1
        assert (first.relanced_on, second.relanced_on, coming.reminded_on) == (today,) * 3


def test_a_daily_relance_leaves_the_rule_nothing_to_e_mail(app, agency):
    add_rule(app, agency, offset_days=0)
    org, today = agency["org"], agency["today"]
    with app.app_context():
        run = daily.run_daily(db.session, organisation_id=org, today=today)
        assert (run.reminded, run.relanced) == ({org: 1}, {org: 1})
        dry = engine.apply_rules(db.session, organisation_id=org, today=today, dry_run=True)
        assert dry.planned_messages == []
        rules = engine.apply_rules(db.session, organisation_id=org, today=today)
        assert rules.summary()["queued"] == 0
        for notice in notices(agency["policy"]):
            assert len(told_about(notice)) == 1


def test_a_rule_before_the_due_date_takes_the_place_of_the_reminder(app, agency):
    add_rule(app, agency, offset_days=-20)  # fires for the coming notice too
    org, today = agency["org"], agency["today"]
    with app.app_context():
        assert (
            engine.apply_rules(db.session, organisation_id=org, today=today).summary()["queued"]
            == 3
        )
        run = daily.run_daily(db.session, organisation_id=org, today=today)
        assert (run.reminded, run.relanced) == ({}, {})
        first, second, coming = notices(agency["policy"])
        assert coming.reminded_on == today and coming.relanced_on is None
        for notice in (first, second, coming):
            assert len(told_about(notice)) == 1


def test_two_e_mailing_rules_tell_the_client_once_per_notice(app, agency):
    add_rule(app, agency, offset_days=0)
    add_rule(app, agency, offset_days=5)
    org, today = agency["org"], agency["today"]
    with app.app_context():
        dry = engine.apply_rules(db.session, organisation_id=org, today=today, dry_run=True)
        assert len(dry.planned_messages) == 2
        assert (
            engine.apply_rules(db.session, organisation_id=org, today=today).summary()["queued"]
            == 2
        )
        first, second, _coming = notices(agency["policy"])
        assert len(told_about(first)) == len(told_about(second)) == 1
