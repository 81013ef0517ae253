"""Premium reminders and relances e-mailed by the daily run, through its CLI door and the outbox.

A monthly contract started 50 days ago: its first two notices are past due (relance),
its third falls due in about ten days (reminder, 15 days ahead by default). The run
issues them, e-mails one reminder and one relance naming both arrears, through a real
SMTP server; run again, it sends nothing twice. An agency that sends letters, and a
client without an address, get no e-mail.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from babel.dates import format_date
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Client,
    Message,
    MessageStatus,
    NoticeStatus,
    Organisation,
    PremiumNotice,
    ReminderChannel,
)
from app.services.premiums import daily
from app.services.renewals.contracts import agency_today
from app.services.templates import load_builtin_templates
from tests.conftest import user_organisation
from tests.mail_support import SmtpServer, smtp_for
from tests.test_api_premiums import make_policy
from tests.test_screens_support import page_text

ADDRESS = "jeanne.martin@example.com"


@pytest.fixture
def agency(app, make_user):
    manager = make_user("MANAGER")
    org = user_organisation(app, manager)
    policy_id = make_policy(app, org, "POL-R", started_days_ago=50)
    with app.app_context():
        load_builtin_templates(db.session)
        client = db.session.scalar(select(Client).where(Client.last_name == "POL-R"))
        client.email = ADDRESS
        db.session.commit()
        today = agency_today(db.session, org)
    return {"manager": manager, "org": org, "policy": policy_id, "today": today}


@pytest.fixture
def smtp(app):
    server = SmtpServer()
    server.start()
    with smtp_for(app, server):
        yield server
    server.stop()


def _messages() -> list[Message]:
    return list(db.session.scalars(select(Message).order_by(Message.id)))


def _notices(policy_id: int) -> list[PremiumNotice]:
    query = select(PremiumNotice).where(PremiumNotice.policy_id == policy_id)
    return list(db.session.scalars(query.order_by(PremiumNotice.due_on)))


def _run_cli(app) -> str:
    result = app.test_cli_runner().invoke(args=["monassurance", "issue-premiums"])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_daily_run_e_mails_the_reminder_and_the_relance_once(app, http, login, agency, smtp):
    output = _run_cli(app)
    assert output.startswith("issued 3 notice(s)")
    assert "1 reminder(s) and 1 relance(s) e-mailed" in output
    with app.app_context():
        first, second, coming = _notices(agency["policy"])
        assert coming.due_on > agency["today"] > second.due_on
        reminder, relance = _messages()
        # The reminder: about the coming notice, its number, due date and amount.
        assert reminder.premium_notice_id == coming.id
        assert reminder.to_addresses == ADDRESS and reminder.status is MessageStatus.sent
        assert reminder.subject.startswith("Rappel : cotisation de votre contrat POL-R")
        assert coming.number in reminder.body_text and "83,33" in _plain(reminder.body_text)
        assert format_date(coming.due_on, "long", locale="fr") in reminder.body_text
        # The relance: one for the contract, both arrears and their sum (83,37 + 83,33).
        assert relance.policy_id == agency["policy"] and relance.premium_notice_id is None
        assert relance.subject == "Relance : cotisation restant due, contrat POL-R"
        assert first.number in relance.body_text and second.number in relance.body_text
        assert "166,70" in _plain(relance.body_text)
        assert (coming.reminded_on, first.relanced_on, second.relanced_on) == (agency["today"],) * 3
        assert first.reminded_on is None and coming.relanced_on is None
    # Each went out once, to the client, through the SMTP server.
    received = smtp.recorder.unique()
    assert len(received) == 2 and {m["To"] for m in received.values()} == {ADDRESS}

    # The same day again: nothing issued, nothing e-mailed twice.
    again = _run_cli(app)
    assert again.startswith("issued 0 notice(s)") and "0 reminder(s) and 0 relance(s)" in again
    with app.app_context():
        assert len(_messages()) == 2
    assert len(smtp.recorder.unique()) == 2

    # The Boîte d'envoi lists both, about the contract.
    login(agency["manager"])
    page = page_text(http.get("/outbox/list/"))
    assert "Rappel : cotisation de votre contrat POL-R" in page
    assert "Relance : cotisation restant due, contrat POL-R" in page


def test_the_reminder_and_relance_days_are_the_agencys(app, agency):
    """Reminder 5 days ahead (the coming notice is ~10 away), relance 55 days after (the
    first notice is 50 late): none today; eight days on, both."""
    with app.app_context():
        organisation = db.session.get(Organisation, agency["org"])
        organisation.reminder_days, organisation.relance_days = 5, 55
        db.session.commit()
        run = daily.run_daily(db.session, organisation_id=agency["org"])
        assert run.issued == {agency["org"]: 3}
        assert (run.reminded, run.relanced) == ({}, {})
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0
        # The clock moves 8 days: the coming notice is within 5 days, the first 58 late.
        later = agency["today"] + dt.timedelta(days=8)
        run = daily.run_daily(db.session, organisation_id=agency["org"], today=later)
        assert (run.reminded, run.relanced) == ({agency["org"]: 1}, {agency["org"]: 1})


def test_an_agency_sending_letters_and_a_client_without_address_get_no_e_mail(app, agency):
    with app.app_context():
        organisation = db.session.get(Organisation, agency["org"])
        organisation.reminder_channel = ReminderChannel.letter
        db.session.commit()
        dry = daily.run_daily(db.session, organisation_id=agency["org"], dry_run=True)
        assert dry.issued == {agency["org"]: 3} and dry.reminded == {}
        run = daily.run_daily(db.session, organisation_id=agency["org"])
        assert run.reminded == {} and run.relanced == {}
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0
        # E-mail again, but the client has no address: the letters stay the work list's.
        organisation = db.session.get(Organisation, agency["org"])
        organisation.reminder_channel = ReminderChannel.email
        db.session.scalar(select(Client).where(Client.last_name == "POL-R")).email = None
        db.session.commit()
        run = daily.run_daily(db.session, organisation_id=agency["org"])
        assert (run.reminded, run.relanced, run.failed) == ({}, {}, {})
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0
        assert all(n.reminded_on is None for n in _notices(agency["policy"]))
        # A paid notice is neither reminded nor relanced: the address is back, the
        # coming notice is paid off by hand, only the relance goes.
        db.session.scalar(select(Client).where(Client.last_name == "POL-R")).email = ADDRESS
        coming = _notices(agency["policy"])[-1]
        coming.paid_amount = coming.total
        coming.status = NoticeStatus.paid
        db.session.commit()
        run = daily.run_daily(db.session, organisation_id=agency["org"])
        assert (run.reminded, run.relanced) == ({}, {agency["org"]: 1})
        assert coming.total == Decimal("83.33")


def _plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def test_the_operator_sets_the_agencys_reminder_settings_by_api_and_screen(
    app, http, login, make_user, auth_headers, agency
):
    operator = make_user("SUPERADMIN")
    headers = auth_headers(operator)
    url = f"/api/v1/organisation/{agency['org']}"
    shown = http.get(url, headers=headers).json["result"]
    assert (shown["reminder_channel"], shown["reminder_days"], shown["relance_days"]) == (
        "email",
        15,
        5,
    )
    changed = http.put(url, json={"reminder_channel": "letter", "relance_days": 8}, headers=headers)
    assert changed.status_code == 200, changed.json
    for body in ({"reminder_channel": "fax"}, {"reminder_days": 400}):
        assert http.put(url, json=body, headers=headers).status_code == 422
    with app.app_context():
        organisation = db.session.get(Organisation, agency["org"])
        assert organisation.reminder_channel is ReminderChannel.letter
        assert (organisation.reminder_days, organisation.relance_days) == (15, 8)
    # The Agencies screen's edit form holds them, in French.
    login(operator)
    form = page_text(http.get(f"/organisationview/edit/{agency['org']}"))
    assert 'name="reminder_channel"' in form and 'name="relance_days"' in form
    assert "Courrier" in form
