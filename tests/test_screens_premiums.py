"""The Comptabilité screens, as staff use them: notices issued, a cheque paying three of
them recorded from the screen, an unpaid notice in the work list, its mise en demeure
generated in bulk and recorded sent, the contract's account on its page; the scope.

Dates are counted from the agency's real today: the screens use the agency's clock.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Document, Job, Payment, PaymentStatus, PremiumNotice, UnpaidStage
from app.services.premiums import issuing, procedure
from app.services.renewals.contracts import agency_today
from app.services.templates.builtin import load_builtin_templates
from tests.conftest import login_screen, user_organisation
from tests.test_api_premiums import make_policy
from tests.test_screens_support import csrf_token, flashes, page_text

RECORD = "/paymentview/record"
UNPAID = "/unpaidnoticeview/list/"


def _issue(app, org: int, policy_id: int, days_ahead: int) -> list[int]:
    """The contract's notices due up to ``days_ahead`` from today, issued and staged."""
    with app.app_context():
        today = agency_today(db.session, org)
        issuing.issue_due(
            db.session, until=today + dt.timedelta(days=days_ahead), policy_id=policy_id
        )
        procedure.move_stages(db.session, organisation_id=org)
        load_builtin_templates(db.session)
        db.session.commit()
        return list(
            db.session.scalars(
                select(PremiumNotice.id)
                .where(PremiumNotice.policy_id == policy_id)
                .order_by(PremiumNotice.due_on)
            )
        )


@pytest.fixture
def agency(app, make_user):
    manager = make_user("MANAGER")
    org = user_organisation(app, manager)
    user = make_user("USER", org)
    # Started 20 days ago: its first monthly notice is 20 days late; 70 days ahead, three.
    policy_id = make_policy(app, org, "POL-A", started_days_ago=20)
    notices = _issue(app, org, policy_id, 70)
    with app.app_context():
        today = agency_today(db.session, org)
        client_id = db.session.scalar(
            select(PremiumNotice).where(PremiumNotice.id == notices[0])
        ).policy.client_id
    return {
        "manager": manager,
        "user": user,
        "org": org,
        "policy": policy_id,
        "client": client_id,
        "notices": notices,
        "today": today,
    }


def _notice(app, notice_id: int) -> PremiumNotice:
    with app.app_context():
        notice = db.session.get(PremiumNotice, notice_id)
        db.session.expunge(notice)
        return notice


def test_a_cheque_paying_three_notices_is_recorded_from_the_screen(app, http, login, agency):
    login(agency["user"])
    first, second, third = agency["notices"][:3]
    form = {
        "client_id": str(agency["client"]),
        "amount": "250,03",
        "received_on": agency["today"].isoformat(),
        "method": "cheque",
        "reference": "CHQ 1234567",
        "payer": "Jeanne Martin",
    }
    token = csrf_token(http, f"{RECORD}?client={agency['client']}")
    # "Suggest": the amount spread oldest due first, each notice's balance.
    suggested = http.post(RECORD, data={**form, "suggest": "1", "csrf_token": token})
    page = page_text(suggested)
    assert suggested.status_code == 200
    for notice_id, share in ((first, "83.37"), (second, "83.33"), (third, "83.33")):
        assert f'name="alloc_{notice_id}" id="alloc_{notice_id}"' in page
        assert f'value="{share}"' in page
    shares = {f"alloc_{first}": "83,37", f"alloc_{second}": "83,33", f"alloc_{third}": "83,33"}
    recorded = http.post(
        RECORD, data={**form, **shares, "csrf_token": token}, follow_redirects=True
    )
    assert ("success", "Encaissement enregistré.") in flashes(recorded)
    with app.app_context():
        payment = db.session.scalars(select(Payment)).one()
        assert payment.amount == Decimal("250.03") and payment.allocated_amount == payment.amount
        assert payment.client_id == agency["client"] and len(payment.allocations) == 3
    for notice_id in (first, second, third):
        assert _notice(app, notice_id).balance == 0
    # The payment's page names the three notices; the list shows it in French.
    text = page_text(recorded)
    assert "Chèque" in text and "POL-A/1-01" in text and "POL-A/1-03" in text
    assert "Chèque" in page_text(http.get("/paymentview/list/"))


def test_record_from_the_clients_page_offers_their_notices(app, http, login, agency):
    login(agency["user"])
    client_page = page_text(http.get(f"/clientview/show/{agency['client']}"))
    assert f"/paymentview/record?client={agency['client']}" in client_page
    page = page_text(http.get(f"{RECORD}?client={agency['client']}"))
    for notice_id in agency["notices"][:3]:
        assert f'name="alloc_{notice_id}"' in page


def test_allocating_more_than_a_notice_balance_records_nothing(app, http, login, agency):
    login(agency["user"])
    first = agency["notices"][0]
    token = csrf_token(http, RECORD)
    response = http.post(
        RECORD,
        data={
            "client_id": str(agency["client"]),
            "amount": "100,00",
            "received_on": agency["today"].isoformat(),
            "method": "cheque",
            f"alloc_{first}": "100,00",
            "csrf_token": token,
        },
    )
    assert response.status_code == 200
    assert any(category == "danger" for category, _text in flashes(response))
    with app.app_context():
        assert db.session.scalars(select(Payment)).first() is None
    assert _notice(app, first).paid_amount == 0


def test_record_from_a_notice_prefills_its_client_and_balance(app, http, login, agency):
    login(agency["user"])
    first = agency["notices"][0]
    show = page_text(http.get(f"/premiumnoticeview/show/{first}"))
    assert f"/paymentview/record?notice={first}" in show
    page = page_text(http.get(f"{RECORD}?notice={first}"))
    assert 'value="83,37"' in page  # the amount: the notice's balance, in French
    assert f'value="{agency["client"]}"' in page
    assert f'name="alloc_{first}"' in page and 'value="83.37"' in page


def test_unpaid_notice_in_the_work_list_gets_its_mise_en_demeure_in_bulk(app, http, login, agency):
    first = agency["notices"][0]  # 20 days late: a formal notice is possible (L113-3)
    assert _notice(app, first).stage is UnpaidStage.formal_notice_possible
    login(agency["manager"])
    listed = page_text(http.get(f"{UNPAID}?_flt_0_stage=formal_notice_possible"))
    assert "POL-A/1-01" in listed and "Mise en demeure possible" in listed
    assert "POL-A/1-02" not in listed  # not due yet: not in the work list
    token = csrf_token(http, UNPAID)
    response = http.post(
        "/unpaidnoticeview/action_post",
        data={"action": "formal_notice_letters", "rowid": [str(first)], "csrf_token": token},
        follow_redirects=True,
    )
    assert any("1 courrier" in text for _category, text in flashes(response)), flashes(response)
    with app.app_context():
        job = db.session.scalars(select(Job)).one()
        document = db.session.scalars(select(Document).where(Document.job_id == job.id)).one()
        assert document.policy_id == agency["policy"]
        assert db.session.get(PremiumNotice, first).formal_notice_document_id == document.id
    # Recording it sent stays the notice's own action: its date fixes the suspension.
    sent_on = agency["today"]
    path = f"/premiumnoticeview/formal-notice/{first}"
    recorded = http.post(
        path,
        data={
            "sent_on": sent_on.isoformat(),
            "registered_letter_number": "1A 234 567 8901 2",
            "csrf_token": csrf_token(http, path),
        },
        follow_redirects=True,
    )
    assert flashes(recorded)[0][0] == "success", flashes(recorded)
    notice = _notice(app, first)
    assert notice.suspension_on == sent_on + dt.timedelta(days=30)
    assert notice.cancellable_on == sent_on + dt.timedelta(days=40)
    assert notice.stage is UnpaidStage.in_formal_notice


def test_relances_are_sent_in_bulk_and_recorded_on_the_notices(app, http, login, agency):
    first = agency["notices"][0]
    login(agency["manager"])
    token = csrf_token(http, UNPAID)
    http.post(
        "/unpaidnoticeview/action_post",
        data={"action": "send_relances", "rowid": [str(first)], "csrf_token": token},
    )
    assert _notice(app, first).relanced_on == agency["today"]
    with app.app_context():
        assert db.session.scalars(select(Job)).one() is not None


def test_a_user_cannot_send_letters_in_bulk(app, http, login, agency):
    first = agency["notices"][0]
    login(agency["user"])
    page = page_text(http.get(UNPAID))
    assert "POL-A/1-01" in page
    token = csrf_token(http, UNPAID)
    response = http.post(
        "/unpaidnoticeview/action_post",
        data={"action": "formal_notice_letters", "rowid": [str(first)], "csrf_token": token},
        follow_redirects=True,
    )
    assert flashes(response)[0][0] == "danger"
    with app.app_context():
        assert db.session.scalars(select(Job)).first() is None
    # Nor record the formal notice, nor cancel: MANAGER's, as on the API.
    assert http.get(f"/premiumnoticeview/formal-notice/{first}").status_code in (302, 403)


def test_the_policy_page_shows_its_account(app, http, login, agency):
    login(agency["user"])
    page = page_text(http.get(f"/policyview/show/{agency['policy']}"))
    assert 'id="policy-account"' in page and "Compte" in page
    assert "POL-A/1-01" in page and "1 000,00" not in page
    # Three notices issued: 83,37 + 83,33 + 83,33 left to pay.
    assert "250,03" in page.replace("\u202f", " ").replace("\xa0", " ")


def test_the_account_block_says_which_payment_paid_which_notice(app, http, login, agency):
    login(agency["user"])
    first, second = agency["notices"][:2]
    http.post(
        RECORD,
        data={
            "client_id": str(agency["client"]),
            "amount": "133,37",
            "received_on": agency["today"].isoformat(),
            "method": "cheque",
            "reference": "CHQ 7654321",
            f"alloc_{first}": "83,37",
            f"alloc_{second}": "50,00",
            "csrf_token": csrf_token(http, RECORD),
        },
    )
    page = page_text(http.get(f"/policyview/show/{agency['policy']}"))
    assert 'id="account-allocations"' in page and "Affectations" in page
    table = page.split('id="account-allocations"')[1].split("</table>")[0]
    table = table.replace("\u202f", " ").replace("\xa0", " ")
    rows = table.split("<tr")[2:]
    assert len(rows) == 2
    assert "POL-A/1-01" in rows[0] and "83,37" in rows[0] and "CHQ 7654321" in rows[0]
    assert "POL-A/1-02" in rows[1] and "50,00" in rows[1] and "Chèque" in rows[1]


def test_a_rejected_cheque_reopens_what_it_paid(app, http, login, agency):
    login(agency["user"])
    first = agency["notices"][0]
    token = csrf_token(http, RECORD)
    http.post(
        RECORD,
        data={
            "client_id": str(agency["client"]),
            "amount": "83,37",
            "received_on": agency["today"].isoformat(),
            "method": "cheque",
            f"alloc_{first}": "83,37",
            "csrf_token": token,
        },
    )
    with app.app_context():
        payment_id = db.session.scalars(select(Payment.id)).one()
    show = f"/paymentview/show/{payment_id}"
    response = http.post(
        f"/paymentview/reject/{payment_id}",
        data={
            "rejected_on": agency["today"].isoformat(),
            "reason": "AM04",
            "csrf_token": csrf_token(http, show),
        },
        follow_redirects=True,
    )
    assert flashes(response)[0][0] == "success", flashes(response)
    with app.app_context():
        assert db.session.get(Payment, payment_id).status is PaymentStatus.rejected
    assert _notice(app, first).balance == Decimal("83.37")


def test_another_agencys_notices_and_payments_answer_404_and_are_never_listed(
    app, http, login, make_user, agency
):
    # Agency A records a payment; agency B's user sees neither it nor A's notices.
    login(agency["user"])
    token = csrf_token(http, RECORD)
    http.post(
        RECORD,
        data={
            "client_id": str(agency["client"]),
            "amount": "10,00",
            "received_on": agency["today"].isoformat(),
            "method": "cash",
            "csrf_token": token,
        },
    )
    with app.app_context():
        payment_id = db.session.scalars(select(Payment.id)).one()
    other = app.test_client()
    login_screen(other, make_user("MANAGER"))
    first = agency["notices"][0]
    assert other.get(f"/premiumnoticeview/show/{first}").status_code == 404
    assert other.get(f"/paymentview/show/{payment_id}").status_code == 404
    assert other.get(f"{RECORD}?notice={first}").status_code == 404
    for path in ("/premiumnoticeview/list/", UNPAID, "/paymentview/list/"):
        page = page_text(other.get(path))
        assert "POL-A" not in page and "Jeanne" not in page
    token = csrf_token(other, RECORD)  # an empty list has no form
    other.post(
        "/unpaidnoticeview/action_post",
        data={"action": "formal_notice_letters", "rowid": [str(first)], "csrf_token": token},
    )
    with app.app_context():
        assert db.session.scalars(select(Job)).first() is None
    # Allocating to another agency's notice: refused, nothing written.
    response = other.post(
        RECORD,
        data={
            "client_id": "",
            "amount": "83,37",
            "received_on": agency["today"].isoformat(),
            "method": "cheque",
            f"alloc_{first}": "83,37",
            "csrf_token": csrf_token(other, RECORD),
        },
    )
    assert response.status_code == 200
    assert _notice(app, first).paid_amount == 0
