"""The premium doors through the API: notices, payments, allocations, the formal notice,
a contract's account, roles and the organisation scope.

Dates are counted from the agency's real today: the doors use the agency's clock.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditLog,
    Client,
    Company,
    LineOfBusiness,
    PaymentFrequency,
    Policy,
    PolicyStatus,
    PremiumNotice,
)
from app.services.renewals.contracts import agency_today
from app.tasks.premiums import run_premiums_daily
from tests.conftest import user_organisation

NOTICES = "/api/v1/premium_notice/"
PAYMENTS = "/api/v1/payment/"


def make_policy(app, organisation_id: int, number: str, started_days_ago: int = 20) -> int:
    """A monthly auto contract of 1000.00 a year whose term started some days ago."""
    with app.app_context():
        start = agency_today(db.session, organisation_id) - dt.timedelta(days=started_days_ago)
        company = Company(organisation_id=organisation_id, name=f"Assureur {number}", code=number)
        client = Client(organisation_id=organisation_id, first_name="Jeanne", last_name=number)
        db.session.add_all([company, client])
        db.session.flush()
        policy = Policy(
            organisation_id=organisation_id,
            number=number,
            client_id=client.id,
            company_id=company.id,
            line_of_business=LineOfBusiness.auto,
            status=PolicyStatus.active,
            effective_date=start,
            expiry_date=start + dt.timedelta(days=365),
            premium=Decimal("1000.00"),
            payment_frequency=PaymentFrequency.monthly,
        )
        db.session.add(policy)
        db.session.commit()
        return policy.id


@pytest.fixture
def agency(app, make_user, auth_headers):
    """A manager and a user of one agency, and its contract's twelve notices issued."""
    manager = make_user("MANAGER")
    org = user_organisation(app, manager)
    user = make_user("USER", org)
    policy_id = make_policy(app, org, "POL-A")
    headers = {"manager": auth_headers(manager), "user": auth_headers(user)}
    with app.app_context():
        today = agency_today(db.session, org)
    return {"org": org, "policy": policy_id, "today": today, **headers}


def issue_term(http, agency) -> list[dict]:
    until = (agency["today"] + dt.timedelta(days=360)).isoformat()
    response = http.post(
        f"{NOTICES}issue",
        json={"until": until, "policy_id": agency["policy"]},
        headers=agency["manager"],
    )
    assert response.status_code == 200, response.json
    return notices_of(http, agency)


def notices_of(http, agency, *filters: str) -> list[dict]:
    q = ",".join([f"(col:policy_id,opr:eq,value:{agency['policy']})", *filters])
    response = http.get(
        NOTICES,
        query_string={"q": f"(filters:!({q}),order_column:due_on,order_direction:asc)"},
        headers=agency["user"],
    )
    assert response.status_code == 200, response.json
    return response.json["result"]


def pay(http, agency, amount: str, allocations, method: str = "cheque", headers=None):
    body = {
        "amount": amount,
        "received_on": agency["today"].isoformat(),
        "method": method,
        "reference": "CHQ 1234567",
        "payer": "Jeanne Martin",
        "allocations": [
            {"premium_notice_id": notice_id, "amount": share} for notice_id, share in allocations
        ],
    }
    return http.post(PAYMENTS, json=body, headers=headers or agency["user"])


def test_a_terms_notices_add_up_to_its_premium_and_issuing_again_adds_none(app, http, agency):
    notices = issue_term(http, agency)
    assert len(notices) == 12
    assert sum(Decimal(n["total"]) for n in notices) == Decimal("1000.00")
    # Money travels as strings with two decimals; the odd cents go on the first.
    assert [n["total"] for n in notices[:2]] == ["83.37", "83.33"]
    assert notices[0]["number"] == "POL-A/1-01" and notices[0]["policy"]["number"] == "POL-A"
    again = http.post(
        f"{NOTICES}issue",
        json={"until": notices[-1]["due_on"], "policy_id": agency["policy"]},
        headers=agency["manager"],
    )
    assert again.json == {"issued": 0}
    # The daily task, run twice after the door, issues nothing twice either.
    with app.app_context():
        assert run_premiums_daily.call_local()["issued"] == 0
        assert run_premiums_daily.call_local()["issued"] == 0
        count = db.session.scalar(select(func.count()).select_from(PremiumNotice))
    assert count == 12


def test_a_cheque_pays_three_notices_and_a_rejected_debit_reopens_two(http, agency):
    notices = issue_term(http, agency)
    three = notices[1:4]  # 83.33 each, not yet due
    cheque = pay(http, agency, "260.00", [(n["id"], n["total"]) for n in three])
    assert cheque.status_code == 201, cheque.json
    assert cheque.json["result"]["allocated_amount"] == "249.99"
    assert cheque.json["result"]["status"] == "received"
    after = {n["id"]: n for n in notices_of(http, agency)}
    assert [after[n["id"]]["status"] for n in three] == ["paid"] * 3
    assert [after[n["id"]]["paid_amount"] for n in three] == ["83.33"] * 3

    two = notices[4:6]
    debit = pay(http, agency, "166.66", [(n["id"], n["total"]) for n in two], "sepa_debit")
    assert debit.status_code == 201, debit.json
    rejected = http.post(
        f"{PAYMENTS}{debit.json['id']}/reject", json={"reason_code": "AM04"}, headers=agency["user"]
    )
    assert rejected.status_code == 200, rejected.json
    assert rejected.json["result"]["status"] == "rejected"
    assert rejected.json["result"]["rejection_reason"] == "AM04"
    after = {n["id"]: n for n in notices_of(http, agency)}
    assert [(after[n["id"]]["status"], after[n["id"]]["paid_amount"]) for n in two] == [
        ("issued", "0.00")
    ] * 2
    assert [after[n["id"]]["status"] for n in three] == ["paid"] * 3  # the cheque still counts
    twice = http.post(
        f"{PAYMENTS}{debit.json['id']}/reject", json={"reason_code": "AM04"}, headers=agency["user"]
    )
    assert twice.status_code == 409

    # The contract's account: what is owed, what was paid, the cheque's 10.01 of credit.
    account = http.get(f"/api/v1/policy/{agency['policy']}/account", headers=agency["user"])
    assert account.status_code == 200, account.json
    body = account.json
    assert (body["total_due"], body["total_paid"]) == ("1000.00", "249.99")
    assert (body["balance"], body["credit"]) == ("750.01", "10.01")
    assert len(body["notices"]) == 12 and len(body["payments"]) == 2
    assert sorted(a["counts"] for a in body["allocations"]) == [False, False, True, True, True]
    # Which payment paid which notice, and how much: the cheque's three shares.
    paid_by_cheque = {
        (a["premium_notice_id"], a["amount"])
        for a in body["allocations"]
        if a["payment_id"] == cheque.json["id"]
    }
    assert paid_by_cheque == {(n["id"], "83.33") for n in three}
    allocations = http.get(
        "/api/v1/allocation/",
        query_string={"q": f"(filters:!((col:payment_id,opr:eq,value:{cheque.json['id']})))"},
        headers=agency["user"],
    )
    assert [a["amount"] for a in allocations.json["result"]] == ["83.33"] * 3


def test_a_payment_without_allocations_is_credit_allocated_later(http, agency):
    notices = issue_term(http, agency)
    payment = pay(http, agency, "100.00", [])
    assert payment.status_code == 201, payment.json
    assert payment.json["result"]["allocated_amount"] == "0.00"
    first = notices[0]
    allocated = http.post(
        f"{PAYMENTS}{payment.json['id']}/allocate",
        json={"allocations": [{"premium_notice_id": first["id"], "amount": "50.00"}]},
        headers=agency["user"],
    )
    assert allocated.status_code == 200, allocated.json
    assert allocated.json["result"]["allocated_amount"] == "50.00"
    (now,) = [n for n in notices_of(http, agency) if n["id"] == first["id"]]
    assert (now["status"], now["paid_amount"]) == ("partly_paid", "50.00")
    # The rest of the credit cannot pay more than is left on the notice (33.37).
    over = http.post(
        f"{PAYMENTS}{payment.json['id']}/allocate",
        json={"allocations": [{"premium_notice_id": first["id"], "amount": "40.00"}]},
        headers=agency["user"],
    )
    assert over.status_code == 422


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "0.00"}, "amount"),
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "10.001"}, "amount"),
        ({"method": "bitcoin"}, "method"),
        ({"received_on": "2999-01-01"}, "received_on"),
        ({"allocation": "83.38"}, "allocations"),  # above what remains due on the notice
        ({"allocation": "0.00"}, "allocations"),
    ],
)
def test_bad_payments_answer_422_and_change_nothing(app, http, agency, change, field):
    first = issue_term(http, agency)[0]
    body = {
        "amount": "100.00",
        "received_on": agency["today"].isoformat(),
        "method": "transfer",
        "allocations": [
            {"premium_notice_id": first["id"], "amount": change.pop("allocation", "83.37")}
        ],
        **change,
    }
    response = http.post(PAYMENTS, json=body, headers=agency["user"])
    assert response.status_code == 422, response.json
    assert field in response.json["message"], response.json
    assert http.get(PAYMENTS, headers=agency["user"]).json["count"] == 0
    (still,) = [n for n in notices_of(http, agency) if n["id"] == first["id"]]
    assert still["paid_amount"] == "0.00"


def test_the_formal_notice_is_refused_until_ten_days_then_fixes_the_dates(app, http, agency):
    first = issue_term(http, agency)[0]  # due 20 days ago, unpaid
    due = dt.date.fromisoformat(first["due_on"])
    door = f"{NOTICES}{first['id']}/formal-notice"
    early = http.post(
        door,
        json={
            "sent_on": (due + dt.timedelta(days=10)).isoformat(),
            "registered_letter_number": "1A",
        },
        headers=agency["manager"],
    )
    assert early.status_code == 422
    assert early.json["message"] == {"sent_on": ["before_payment_grace_ends"]}
    sent = due + dt.timedelta(days=11)
    done = http.post(
        door,
        json={"sent_on": sent.isoformat(), "registered_letter_number": "1A 234 567 8901 2"},
        headers=agency["manager"],
    )
    assert done.status_code == 200, done.json
    result = done.json["result"]
    assert result["formal_notice_sent_on"] == sent.isoformat()
    assert result["suspension_on"] == (sent + dt.timedelta(days=30)).isoformat()
    assert result["cancellable_on"] == (sent + dt.timedelta(days=40)).isoformat()
    assert (result["status"], result["stage"]) == ("unpaid", "in_formal_notice")
    again = http.post(
        door,
        json={"sent_on": sent.isoformat(), "registered_letter_number": "X"},
        headers=agency["manager"],
    )
    assert again.status_code == 409
    # The work list filters on the stage.
    listed = notices_of(http, agency, "(col:stage,opr:eq,value:in_formal_notice)")
    assert [n["id"] for n in listed] == [first["id"]]
    with app.app_context():
        entries = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "premium_notice.formal_notice")
        ).all()
        assert [(e.object_id, e.organisation_id) for e in entries] == [
            (str(first["id"]), agency["org"])
        ]
        assert entries[0].changes["suspension_on"] == result["suspension_on"]


def test_notices_filter_on_status_due_range_and_collection(http, agency):
    notices = issue_term(http, agency)
    unpaid = notices_of(http, agency, "(col:status,opr:eq,value:unpaid)")
    assert [n["id"] for n in unpaid] == [notices[0]["id"]]
    start, end = notices[2]["due_on"], notices[4]["due_on"]
    window = notices_of(
        http,
        agency,
        f"(col:due_on,opr:gt,value:'{start}')",
        f"(col:due_on,opr:lt,value:'{end}')",
    )
    assert [n["id"] for n in window] == [notices[3]["id"]]
    assert len(notices_of(http, agency, "(col:collection,opr:eq,value:broker)")) == 12
    assert notices_of(http, agency, "(col:collection,opr:eq,value:insurer)") == []


def test_one_off_and_refund_notices_and_cancelling(app, http, agency):
    issue_term(http, agency)
    due = (agency["today"] + dt.timedelta(days=5)).isoformat()
    one_off = http.post(
        NOTICES,
        json={
            "policy_id": agency["policy"],
            "kind": "one_off",
            "due_on": due,
            "amount": "59.00",
            "fees": "10.00",
        },
        headers=agency["manager"],
    )
    assert one_off.status_code == 201, one_off.json
    made = one_off.json["result"]
    assert (made["number"], made["total"], made["fees"]) == ("POL-A/C01", "69.00", "10.00")
    assert (made["amount_before_tax"], made["taxes"]) == ("50.00", "9.00")  # motor: 18 %
    refund = http.post(
        NOTICES,
        json={"policy_id": agency["policy"], "kind": "refund", "due_on": due, "amount": "20.00"},
        headers=agency["manager"],
    )
    assert refund.status_code == 201, refund.json
    assert (refund.json["result"]["total"], refund.json["result"]["status"]) == ("-20.00", "issued")
    with app.app_context():
        run_premiums_daily.call_local()  # a refund is not "paid" by the daily run
    shown = http.get(f"{NOTICES}{refund.json['id']}", headers=agency["user"])
    assert shown.json["result"]["status"] == "issued"
    account = http.get(f"/api/v1/policy/{agency['policy']}/account", headers=agency["user"])
    assert account.json["balance"] == "1049.00"  # 1000 + 69 - 20

    cancelled = http.post(f"{NOTICES}{one_off.json['id']}/cancel", headers=agency["manager"])
    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["result"]["status"] == "cancelled"
    assert (
        http.post(f"{NOTICES}{one_off.json['id']}/cancel", headers=agency["manager"]).status_code
        == 409
    )
    # A cancelled notice cannot be paid.
    paid = pay(http, agency, "69.00", [(one_off.json["id"], "69.00")])
    assert paid.status_code == 422
    instalment = http.post(
        NOTICES,
        json={"policy_id": agency["policy"], "kind": "instalment", "due_on": due, "amount": "1.00"},
        headers=agency["manager"],
    )
    assert instalment.status_code == 422


def test_user_records_money_and_reads_but_manager_alone_writes_notices(http, agency):
    notices = issue_term(http, agency)
    first = notices[0]
    user = agency["user"]
    refused = [
        http.post(
            NOTICES,
            json={
                "policy_id": agency["policy"],
                "kind": "one_off",
                "due_on": first["due_on"],
                "amount": "10.00",
            },
            headers=user,
        ),
        http.post(f"{NOTICES}issue", json={"until": first["due_on"]}, headers=user),
        http.post(f"{NOTICES}{first['id']}/cancel", headers=user),
        http.post(
            f"{NOTICES}{first['id']}/formal-notice",
            json={"sent_on": agency["today"].isoformat(), "registered_letter_number": "1"},
            headers=user,
        ),
    ]
    assert [r.status_code for r in refused] == [403] * 4
    assert http.get(f"{NOTICES}{first['id']}", headers=user).status_code == 200
    assert http.get(f"/api/v1/policy/{agency['policy']}/account", headers=user).status_code == 200
    assert pay(http, agency, "83.37", [(first["id"], "83.37")]).status_code == 201


def test_another_agencys_rows_answer_404(app, http, agency, make_user, auth_headers):
    notices = issue_term(http, agency)
    payment = pay(http, agency, "83.37", [(notices[0]["id"], "83.37")])
    stranger_manager = make_user("MANAGER")
    other_org = user_organisation(app, stranger_manager)
    own_policy = make_policy(app, other_org, "POL-B")
    stranger = auth_headers(stranger_manager)
    notice_id, payment_id = notices[1]["id"], payment.json["id"]
    assert http.get(f"{NOTICES}{notice_id}", headers=stranger).status_code == 404
    assert http.get(NOTICES, headers=stranger).json["count"] == 0
    assert http.get(f"{PAYMENTS}{payment_id}", headers=stranger).status_code == 404
    assert http.get(PAYMENTS, headers=stranger).json["count"] == 0
    assert http.get("/api/v1/allocation/", headers=stranger).json["count"] == 0
    account = f"/api/v1/policy/{agency['policy']}/account"
    assert http.get(account, headers=stranger).status_code == 404
    writes = [
        http.post(f"{NOTICES}{notice_id}/cancel", headers=stranger),
        http.post(
            f"{NOTICES}{notice_id}/formal-notice",
            json={"sent_on": agency["today"].isoformat(), "registered_letter_number": "1"},
            headers=stranger,
        ),
        http.post(f"{PAYMENTS}{payment_id}/reject", json={"reason_code": "AM04"}, headers=stranger),
        http.post(
            NOTICES,
            json={
                "policy_id": agency["policy"],
                "kind": "one_off",
                "due_on": agency["today"].isoformat(),
                "amount": "10.00",
            },
            headers=stranger,
        ),
        http.post(
            f"{NOTICES}issue",
            json={"until": agency["today"].isoformat(), "policy_id": agency["policy"]},
            headers=stranger,
        ),
        # Their own payment cannot pay our notice.
        http.post(
            PAYMENTS,
            json={
                "amount": "83.33",
                "received_on": agency["today"].isoformat(),
                "method": "cash",
                "allocations": [{"premium_notice_id": notice_id, "amount": "83.33"}],
            },
            headers=stranger,
        ),
    ]
    assert [r.status_code for r in writes] == [404] * 6
    (untouched,) = [n for n in notices_of(http, agency) if n["id"] == notice_id]
    assert (untouched["status"], untouched["paid_amount"]) == ("issued", "0.00")
    assert http.get(f"/api/v1/policy/{own_policy}/account", headers=stranger).status_code == 200
