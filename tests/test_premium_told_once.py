"""A client is told about an unpaid (or coming) premium notice once, whichever path tells.

Two paths e-mail a client about a notice: the daily reminders and relances
(app/services/mail/reminders.py) and the task rules that send an e-mail
(app/services/tasks/mailing.py). Both consult and set one mark per stage of the
procedure (app/services/premiums/told.py): ``reminded_on`` before the due date,
``relanced_on`` after it, the day the client was told. A path is silent when the mark is
on or after its own moment (a rule's anchor + offset, the reminder's and the relance's
days), so paths at the same moment tell once and a deliberate sequence tells at each
step. A monthly contract started 50 days ago: two notices past due, one due in about
ten days.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import (
    Client,
    Message,
    Organisation,
    OutputFormat,
    PremiumNotice,
    TaskRule,
    TaskTrigger,
    TemplateKind,
)
from app.services.mail import reminders
from app.services.premiums import daily, issuing, procedure, told
from app.services.renewals.contracts import agency_today
from app.services.tasks import engine
from app.services.templates import load_builtin_templates
from tests.conftest import TEST_DATABASE_URL, user_organisation
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


def rule_messages(notice: PremiumNotice) -> list[int | None]:
    """The rules (their ids) that e-mailed about this notice, in the order they did."""
    query = select(Message.rule_id).where(
        Message.premium_notice_id == notice.id, Message.rule_id.is_not(None)
    )
    return list(db.session.scalars(query.order_by(Message.id)))


def set_relance_days(app, agency, days: int) -> None:
    with app.app_context():
        db.session.get(Organisation, agency["org"]).relance_days = days
        db.session.commit()


def coming_due_on(app, agency) -> dt.date:
    with app.app_context():
        coming = notices(agency["policy"])[-1]
        assert coming.due_on > agency["today"]
        return coming.due_on


def test_a_sequence_of_rules_tells_the_client_at_each_step(app, agency):
    """Rule A at due + 5 then rule B at due + 20: B is a later step, not a repeat of A."""
    add_rule(app, agency, offset_days=5)
    add_rule(app, agency, offset_days=20)
    org, due = agency["org"], coming_due_on(app, agency)
    with app.app_context():
        rule_a, rule_b = db.session.scalars(select(TaskRule.id).order_by(TaskRule.id))
        day_5 = engine.apply_rules(db.session, organisation_id=org, today=due + dt.timedelta(5))
        # The notices long past due get one message though both rules' moments have come.
        assert day_5.summary()["queued"] == 3
        first, second, coming = notices(agency["policy"])[:3]
        assert rule_messages(first) == rule_messages(second) == rule_messages(coming) == [rule_a]
        assert coming.relanced_on == due + dt.timedelta(5)
        day_19 = engine.apply_rules(db.session, organisation_id=org, today=due + dt.timedelta(19))
        assert day_19.summary()["queued"] == 0  # rule B's moment has not come for it
        day_20 = engine.apply_rules(db.session, organisation_id=org, today=due + dt.timedelta(20))
        assert day_20.summary()["queued"] == 1
        first, second, coming = notices(agency["policy"])[:3]
        assert rule_messages(coming) == [rule_a, rule_b]
        assert rule_messages(first) == rule_messages(second) == [rule_a]
        assert coming.relanced_on == due + dt.timedelta(20)
        again = engine.apply_rules(db.session, organisation_id=org, today=due + dt.timedelta(21))
        assert again.summary()["queued"] == 0


def test_a_rule_after_the_daily_relance_still_e_mails(app, agency):
    """The daily relance at due + 10, then a rule at due + 20: both go."""
    set_relance_days(app, agency, 10)
    add_rule(app, agency, offset_days=20)
    org, due = agency["org"], coming_due_on(app, agency)
    with app.app_context():
        run = daily.run_daily(db.session, organisation_id=org, today=due + dt.timedelta(10))
        assert run.relanced == {org: 1}  # one per contract, naming its three arrears
        first, second, coming = notices(agency["policy"])[:3]
        assert coming.relanced_on == due + dt.timedelta(10)
        assert len(told_about(coming)) == 1
        rules = engine.apply_rules(db.session, organisation_id=org, today=due + dt.timedelta(20))
        # The older notices were relanced after the rule's moment for them: told already.
        assert rules.summary()["queued"] == 1
        first, second, coming = notices(agency["policy"])[:3]
        assert len(rule_messages(coming)) == 1
        assert rule_messages(first) == rule_messages(second) == []
        assert len(told_about(coming)) == 2
        later = daily.run_daily(db.session, organisation_id=org, today=due + dt.timedelta(21))
        assert later.relanced == {}  # the rule told since the relance's moment


def test_the_daily_relance_after_an_early_rule_still_e_mails(app, agency):
    """A rule at due + 3, then the daily relance at due + 10: both go."""
    set_relance_days(app, agency, 10)
    add_rule(app, agency, offset_days=3)
    org, due = agency["org"], coming_due_on(app, agency)
    with app.app_context():
        rules = engine.apply_rules(db.session, organisation_id=org, today=due + dt.timedelta(3))
        assert rules.summary()["queued"] == 3
        run = daily.run_daily(db.session, organisation_id=org, today=due + dt.timedelta(9))
        assert run.relanced == {}  # the older notices were told after their relance day
        run = daily.run_daily(db.session, organisation_id=org, today=due + dt.timedelta(10))
        assert run.relanced == {org: 1}
        first, second, coming = notices(agency["policy"])[:3]
        assert coming.relanced_on == due + dt.timedelta(10)
        assert (first.relanced_on, second.relanced_on) == (due + dt.timedelta(3),) * 2
        relance = [message for message in told_about(coming) if message.rule_id is None]
        assert len(relance) == 1 and len(rule_messages(coming)) == 1


def test_a_rule_before_the_reminder_day_leaves_the_reminder_to_go(app, agency):
    """A rule 20 days before the due date, the reminder 15 days before: both go."""
    add_rule(app, agency, offset_days=-20)
    org, due = agency["org"], coming_due_on(app, agency)
    with app.app_context():
        early = engine.apply_rules(db.session, organisation_id=org, today=due - dt.timedelta(20))
        coming = notices(agency["policy"])[2]
        assert len(rule_messages(coming)) == 1 and coming.reminded_on == due - dt.timedelta(20)
        assert early.summary()["queued"] >= 1
        run = daily.run_daily(db.session, organisation_id=org, today=due - dt.timedelta(15))
        assert run.reminded == {org: 1}
        coming = notices(agency["policy"])[2]
        assert coming.reminded_on == due - dt.timedelta(15)
        assert len(told_about(coming)) == 2


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="row locks are PostgreSQL's")
def test_a_rule_claiming_a_notice_the_daily_run_holds_waits_then_finds_it_told(app, agency):
    """A rule at due + 3 running late, on the day the daily relance (due + 10) writes."""
    set_relance_days(app, agency, 10)
    org, due = agency["org"], coming_due_on(app, agency)
    day = due + dt.timedelta(10)
    with app.app_context():
        procedure.move_stages(db.session, organisation_id=org, today=day)
        db.session.commit()
        coming_id = notices(agency["policy"])[2].id
        with Session(db.engine) as daily_run, Session(db.engine) as rule_run:
            held = reminders._due_relances(daily_run, daily_run.get(Organisation, org), day)
            assert coming_id in {notice.id for notice in held}
            for notice in held:
                told.mark(notice, day)
            daily_run.flush()
            claimed: list[set[int]] = []
            rule = threading.Thread(
                target=lambda: claimed.append(
                    told.claim(rule_run, {coming_id: due + dt.timedelta(3)}, day)
                )
            )
            rule.start()
            rule.join(timeout=1)
            assert rule.is_alive()  # waiting for the daily run's lock
            daily_run.commit()
            rule.join(timeout=10)
            assert claimed == [set()]  # marked today, after the rule's moment: told
            rule_run.commit()
            # The other way round: the daily run skips a notice a rule holds, then finds
            # it told, since the rule's mark (today) is after the relance's moment.
            other = rule_run.get(PremiumNotice, coming_id)
            other.relanced_on = None
            rule_run.commit()
            assert told.claim(rule_run, {coming_id: due + dt.timedelta(3)}, day) == {coming_id}
            held = reminders._due_relances(daily_run, daily_run.get(Organisation, org), day)
            assert coming_id not in {notice.id for notice in held}
            daily_run.rollback()
            rule_run.commit()
            held = reminders._due_relances(daily_run, daily_run.get(Organisation, org), day)
            assert coming_id not in {notice.id for notice in held}
            daily_run.rollback()
