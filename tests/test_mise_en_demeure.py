"""The mise en demeure (L113-3): generated for a contract's unpaid notices, it names the sum
due and the dates its sending fixes — planned from the day it is made, then as recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import LineOfBusiness, PaymentFrequency, Policy, PremiumNotice, Template
from app.services.premiums import issuing, procedure
from app.services.renewals.contracts import agency_today
from app.services.templates.builtin import load_builtin_templates
from tests.api_documents_support import generate, generated
from tests.conftest import user_organisation
from tests.test_avis_echeance import download, pdf_text

MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def french(day: dt.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


@pytest.fixture
def contract(app, make_user, portfolio, auth_headers):
    """A monthly contract whose notice due 40 days ago is unpaid, and the letter's template."""
    manager = make_user("MANAGER")
    organisation_id = user_organisation(app, manager)
    ids = portfolio(organisation_id)
    with app.app_context():
        today = agency_today(db.session, organisation_id)
        policy = db.session.get(Policy, ids["policy"])
        policy.payment_frequency = PaymentFrequency.monthly
        db.session.flush()
        issuing.issue_due(db.session, policy_id=policy.id, until=today, today=today)
        load_builtin_templates(db.session)
        db.session.commit()
        template_id = db.session.scalar(
            select(Template.id).where(Template.builtin_key == "mise_en_demeure")
        )
    return {"headers": auth_headers(manager), "policy": ids["policy"], "template": template_id}


def _arrears(app, policy_id, today):
    with app.app_context():
        return db.session.scalars(
            select(PremiumNotice)
            .where(PremiumNotice.policy_id == policy_id, PremiumNotice.due_on < today)
            .order_by(PremiumNotice.due_on)
        ).all()


def test_the_letter_names_the_sum_due_and_the_dates_its_sending_fixes(app, http, contract):
    with app.app_context():
        organisation_id = db.session.get(Policy, contract["policy"]).organisation_id
        today = agency_today(db.session, organisation_id)
    unpaid = _arrears(app, contract["policy"], today)
    assert unpaid, "the contract has notices past due"
    due = sum(notice.total for notice in unpaid)
    document = generated(http, contract["headers"], contract["template"], contract["policy"])
    text = pdf_text(download(http, contract["headers"], document["id"]))
    assert "Mise en demeure de payer votre cotisation" in text
    assert f"{due:.2f}".replace(".", ",") in text.replace("\u202f", "").replace(" ", "")
    # Not recorded yet: the dates it fixes if it leaves today (L113-3: +30, then +10).
    assert french(today + dt.timedelta(days=30)) in text
    assert french(today + dt.timedelta(days=40)) in text
    assert "L113-3" in text and unpaid[0].number in text

    # Recorded sent with its registered-letter number: the letter states those dates.
    oldest = unpaid[0]
    sent_on = max(oldest.due_on + dt.timedelta(days=11), today - dt.timedelta(days=5))
    with app.app_context():
        notice = db.session.get(PremiumNotice, oldest.id)
        procedure.record_formal_notice(
            db.session,
            notice,
            sent_on=sent_on,
            registered_letter_number="1A 234 567 8901 2",
            today=today,
        )
        db.session.commit()
    document = generated(http, contract["headers"], contract["template"], contract["policy"])
    text = pdf_text(download(http, contract["headers"], document["id"]))
    assert "1A 234 567 8901 2" in text
    assert french(sent_on + dt.timedelta(days=30)) in text
    assert french(sent_on + dt.timedelta(days=40)) in text


def test_a_life_contract_is_not_suspended_but_resiliated_or_reduced(app, http, contract):
    with app.app_context():
        policy = db.session.get(Policy, contract["policy"])
        policy.line_of_business = LineOfBusiness.life
        db.session.commit()
    document = generated(http, contract["headers"], contract["template"], contract["policy"])
    text = pdf_text(download(http, contract["headers"], document["id"]))
    assert "L132-20" in text and "quarante jours" in text and "Suspension" not in text


def test_a_contract_with_nothing_unpaid_gets_no_letter(app, http, contract):
    with app.app_context():
        for notice in db.session.scalars(
            select(PremiumNotice).where(PremiumNotice.policy_id == contract["policy"])
        ):
            notice.paid_amount = notice.total
        db.session.commit()
    response = generate(http, contract["headers"], contract["template"], contract["policy"])
    assert response.status_code == 202
    shown = http.get(response.headers["Location"], headers=contract["headers"]).json["result"]
    # The template reads the arrears, which are empty: the job fails saying so.
    assert shown["status"] == "failed" and "registered_letter_number" in shown["error"]
