"""Issue 14's "Done when", walked on the demo agency as a new manager and their staff would.

The month's notices are issued (the daily task's own API door); staff record a cheque that
pays three notices from the Encaissements screen; an unpaid notice moves to "mise en demeure
possible" on the 11th day after its due date (the test moves the clock), its letter, made
from the Impayés work list, names the suspension date its recorded sending fixes, and a
payment restores the suspended cover; the month's direct debits download as a pain.008
file valid against the ISO 20022 schema.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

import xmlschema
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Mandate,
    NoticeStatus,
    Payment,
    Policy,
    PremiumNotice,
    UnpaidStage,
)
from app.services import demo
from app.services.premiums import daily
from app.services.renewals.contracts import agency_today
from tests.conftest import login_screen
from tests.test_api_premiums import NOTICES, PAYMENTS
from tests.test_avis_echeance import download, pdf_text
from tests.test_mise_en_demeure import french
from tests.test_screens_premiums import RECORD, UNPAID
from tests.test_screens_support import csrf_token, flashes
from tests.test_sepa import BATCH, XSD

OPEN = (NoticeStatus.issued, NoticeStatus.partly_paid, NoticeStatus.unpaid)


def _open_notices(organisation_id: int) -> list[PremiumNotice]:
    return list(
        db.session.scalars(
            select(PremiumNotice)
            .join(Policy, Policy.id == PremiumNotice.policy_id)
            .where(
                PremiumNotice.organisation_id == organisation_id,
                PremiumNotice.status.in_(OPEN),
                PremiumNotice.total > PremiumNotice.paid_amount,
                Policy.mandate_id.is_(None),  # the debited client's are the bank's
            )
            .order_by(PremiumNotice.due_on, PremiumNotice.id)
        )
    )


def _french_amount(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",")


def test_done_when_staff_work_the_demo_agencys_premiums(app, http, make_user, login, auth_headers):
    with app.app_context():
        organisation_id = demo.load_demo_data(db.session, today=dt.date.today()).organisation_id
        today = agency_today(db.session, organisation_id)
    manager = make_user("MANAGER", organisation_id)
    user = make_user("USER", organisation_id)
    headers = auth_headers(manager)
    month_start = today.replace(day=1)
    month_end = today.replace(day=calendar.monthrange(today.year, today.month)[1])

    # 1. The month's notices are issued; asking again issues none.
    issued = http.post(f"{NOTICES}issue", json={"until": month_end.isoformat()}, headers=headers)
    assert issued.status_code == 200, issued.json
    assert http.post(
        f"{NOTICES}issue", json={"until": month_end.isoformat()}, headers=headers
    ).json == {"issued": 0}
    with app.app_context():
        in_month = db.session.scalar(
            select(func.count())
            .select_from(PremiumNotice)
            .where(
                PremiumNotice.organisation_id == organisation_id,
                PremiumNotice.due_on.between(month_start, month_end),
            )
        )
        assert in_month > 0
        # A client with three notices left to pay, and another's notice long unpaid.
        by_client: dict[int, list[PremiumNotice]] = {}
        for notice in _open_notices(organisation_id):
            by_client.setdefault(notice.policy.client_id, []).append(notice)
        client_id, three = next((c, n[:3]) for c, n in by_client.items() if len(n) >= 3)
        shares = {notice.id: notice.balance for notice in three}
        late = next(
            notice
            for c, notices in by_client.items()
            if c != client_id
            for notice in notices
            if notice.due_on <= today - dt.timedelta(days=45) and notice.paid_amount == 0
        )
        late_id, due_on = late.id, late.due_on

    # 2. Staff record a cheque paying the three, from the Encaissements screen.
    staff = app.test_client()  # the screens' session, beside the API's bearer token
    login_screen(staff, user)
    amount = sum(shares.values(), Decimal(0))
    recorded = staff.post(
        RECORD,
        data={
            "client_id": str(client_id),
            "amount": _french_amount(amount),
            "received_on": today.isoformat(),
            "method": "cheque",
            "reference": "CHQ 0000042",
            **{f"alloc_{pk}": _french_amount(share) for pk, share in shares.items()},
            "csrf_token": csrf_token(staff, RECORD),
        },
        follow_redirects=True,
    )
    assert ("success", "Encaissement enregistré.") in flashes(recorded)
    with app.app_context():
        cheque = db.session.scalar(select(Payment).where(Payment.reference == "CHQ 0000042"))
        assert cheque.allocated_amount == amount and len(cheque.allocations) == 3
        assert all(db.session.get(PremiumNotice, pk).balance == 0 for pk in shares)

    # 3. The clock moves: overdue on the 10th day after the due date, then a formal
    # notice is possible on the 11th.
    with app.app_context():
        for days, stage in ((10, UnpaidStage.overdue), (11, UnpaidStage.formal_notice_possible)):
            daily.run_daily(
                db.session, organisation_id=organisation_id, today=due_on + dt.timedelta(days)
            )
            assert db.session.get(PremiumNotice, late_id).stage is stage
            db.session.rollback()

    # 4. Sent that 11th day by registered letter: suspended 30 days later, cancellable 10
    # days after that; the letter made from the work list names those dates.
    sent_on = due_on + dt.timedelta(days=11)
    sent = http.post(
        f"{NOTICES}{late_id}/formal-notice",
        json={"sent_on": sent_on.isoformat(), "registered_letter_number": "1A 111 222 3334 5"},
        headers=headers,
    )
    assert sent.status_code == 200, sent.json
    assert sent.json["result"]["suspension_on"] == (sent_on + dt.timedelta(30)).isoformat()
    desk = app.test_client()
    login_screen(desk, manager)
    response = desk.post(
        "/unpaidnoticeview/action_post",
        data={
            "action": "formal_notice_letters",
            "rowid": [str(late_id)],
            "csrf_token": csrf_token(desk, UNPAID),
        },
        follow_redirects=True,
    )
    assert flashes(response)[0][0] == "success", flashes(response)
    with app.app_context():
        document_id = db.session.get(PremiumNotice, late_id).formal_notice_document_id
    text = pdf_text(download(http, headers, document_id))
    assert "1A 111 222 3334 5" in text
    assert french(sent_on + dt.timedelta(days=30)) in text
    assert french(sent_on + dt.timedelta(days=40)) in text

    # 5. Today the cover is suspended; a payment restores it at noon the next day.
    with app.app_context():
        daily.run_daily(db.session, organisation_id=organisation_id)
        notice = db.session.get(PremiumNotice, late_id)
        assert notice.stage in (UnpaidStage.suspended, UnpaidStage.cancellable)
        balance = str(notice.balance)
    paid = http.post(
        PAYMENTS,
        json={
            "amount": balance,
            "received_on": today.isoformat(),
            "method": "transfer",
            "reference": "VIR 0000042",
            "allocations": [{"premium_notice_id": late_id, "amount": balance}],
        },
        headers=headers,
    )
    assert paid.status_code == 201, paid.json
    with app.app_context():
        notice = db.session.get(PremiumNotice, late_id)
        assert (notice.status, notice.stage) == (NoticeStatus.paid, UnpaidStage.restored)
        assert notice.restored_at == dt.datetime.combine(today + dt.timedelta(1), dt.time(12))

    # 6. The month of the debited client's next notice: its debits as a valid pain.008.
    with app.app_context():
        debited_due = db.session.scalar(
            select(func.min(PremiumNotice.due_on))
            .join(Policy, Policy.id == PremiumNotice.policy_id)
            .join(Mandate, Mandate.id == Policy.mandate_id)
            .where(PremiumNotice.organisation_id == organisation_id)
            .where(PremiumNotice.status.in_(OPEN))
        )
    assert debited_due is not None
    period = {
        "due_from": debited_due.replace(day=1).isoformat(),
        "due_to": debited_due.replace(
            day=calendar.monthrange(debited_due.year, debited_due.month)[1]
        ).isoformat(),
    }
    started = http.post(BATCH, json=period, headers=headers)
    assert started.status_code == 202, started.json
    job = http.get(started.headers["Location"], headers=headers).json
    assert job["status"] == "succeeded", job
    xml = download(http, headers, job["document_id"]).decode()
    xmlschema.XMLSchema(str(XSD)).validate(xml)  # raises if the file is not valid
    assert "<PmtMtd>DD</PmtMtd>" in xml
