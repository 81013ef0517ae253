"""Remittance bordereaux: premiums collected for an insurer net of commission, issued and
frozen, paid, with a SEPA credit transfer (pain.001) that validates against its XSD."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
import xmlschema
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Allocation,
    CommissionBasis,
    CommissionRule,
    Company,
    ExpectedCommission,
    NoticeStatus,
    Organisation,
    Payment,
    PaymentFrequency,
    PaymentStatus,
    Policy,
    PremiumNotice,
)
from app.services.errors import ConflictError
from app.services.premiums import issuing
from app.services.premiums.payments import record_payment, reject_payment
from tests.conftest import user_organisation
from tests.test_screens_support import csrf_token, flashes

XSD = Path(__file__).parent / "data" / "pain.001.001.03.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
URL = "/api/v1/remittance/"
AGENCY_IBAN = "FR7630006000011234567890189"
INSURER_IBAN = "DE89370400440532013000"


@pytest.fixture
def manager(make_user):
    return make_user("MANAGER")


@pytest.fixture
def headers(manager, auth_headers):
    return auth_headers(manager)


@pytest.fixture
def agency(app, manager, portfolio):
    """A monthly contract whose October and November notices were paid in November."""
    organisation_id = user_organisation(app, manager)
    ids = portfolio(organisation_id)
    today = dt.date.today()
    with app.app_context():
        organisation = db.session.get(Organisation, organisation_id)
        organisation.sepa_creditor_iban = AGENCY_IBAN
        organisation.sepa_creditor_bic = "BNPAFRPP"
        db.session.get(Company, ids["company"]).iban = INSURER_IBAN
        policy = db.session.get(Policy, ids["policy"])
        policy.payment_frequency = PaymentFrequency.monthly
        db.session.add(
            CommissionRule(
                organisation_id=organisation_id,
                company_id=ids["company"],
                basis=CommissionBasis.rate,
                first_year_rate=Decimal("10"),
                valid_from=dt.date(2020, 1, 1),
            )
        )
        db.session.flush()
        issuing.issue_due(
            db.session, policy_id=policy.id, until=dt.date(2026, 12, 31), today=dt.date(2026, 10, 1)
        )
        from app.services.commissions.expected import refresh

        refresh(db.session, organisation_id)
        notices = db.session.scalars(
            select(PremiumNotice)
            .where(PremiumNotice.policy_id == policy.id)
            .order_by(PremiumNotice.due_on)
        ).all()
        paid = [n for n in notices if n.period_start.month in (10, 11)]
        payment = record_payment(
            db.session,
            organisation_id,
            amount=sum(n.total for n in paid),
            received_on=dt.date(2026, 11, 10),
            method="transfer",
            today=max(today, dt.date(2026, 11, 10)),
            allocations=[(n.id, n.total) for n in paid],
        )
        db.session.commit()
        return {
            "organisation": organisation_id,
            **ids,
            "paid": [n.id for n in paid],
            "collected": sum(n.total for n in paid),
            "payment": payment.id,
        }


def test_a_november_bordereau_issued_paid_and_its_transfer_validates(app, http, headers, agency):
    created = http.post(
        URL,
        json={
            "insurer_id": agency["company"],
            "period_from": "2026-11-01",
            "period_to": "2026-11-30",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.json["result"]
    with app.app_context():
        commission = sum(
            db.session.scalars(
                select(ExpectedCommission.amount).where(
                    ExpectedCommission.premium_notice_id.in_(agency["paid"])
                )
            )
        )
    assert body["status"] == "draft" and body["notice_count"] == 2
    assert Decimal(body["premiums_collected"]) == agency["collected"]
    assert Decimal(body["commission_retained"]) == commission > 0
    assert Decimal(body["net_amount"]) == agency["collected"] - commission
    remittance_id = created.json["id"]
    # A notice is remitted once: the same period again has nothing left.
    again = http.post(
        URL,
        json={
            "insurer_id": agency["company"],
            "period_from": "2026-11-01",
            "period_to": "2026-11-30",
        },
        headers=headers,
    )
    assert again.status_code == 422
    # Issued: its notices are frozen, the payment can no longer be rejected.
    issued = http.post(f"{URL}{remittance_id}/issue", headers=headers)
    assert issued.status_code == 200 and issued.json["result"]["status"] == "issued"
    assert http.post(f"{URL}{remittance_id}/issue", headers=headers).status_code == 409
    with app.app_context():
        payment = db.session.get(Payment, agency["payment"])
        with pytest.raises(ConflictError):
            reject_payment(
                payment, rejected_on=dt.date(2026, 11, 20), reason="AM04", today=dt.date.today()
            )
        db.session.rollback()
        statuses = {db.session.get(PremiumNotice, n).status for n in agency["paid"]}
        assert statuses == {NoticeStatus.paid}
    # The transfer file: valid pain.001, the net amount to the insurer's account.
    transfer = http.get(f"{URL}{remittance_id}/transfer", headers=headers)
    assert transfer.status_code == 200, transfer.get_data(as_text=True)
    xml = transfer.get_data()
    xmlschema.XMLSchema(str(XSD)).validate(io.BytesIO(xml))
    from xml.etree import ElementTree

    root = ElementTree.fromstring(xml)
    amount = root.find(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", NS).text
    assert Decimal(amount) == Decimal(body["net_amount"])
    assert root.find(".//p:CdtrAcct/p:Id/p:IBAN", NS).text == INSURER_IBAN
    assert root.find(".//p:DbtrAcct/p:Id/p:IBAN", NS).text == AGENCY_IBAN
    sheet = http.get(f"{URL}{remittance_id}/export", headers=headers)
    rows = list(load_workbook(io.BytesIO(sheet.get_data()), read_only=True).active.values)
    assert len(rows) == 1 + 2 + 1  # header, two notices, the total
    paid = http.post(f"{URL}{remittance_id}/paid", json={}, headers=headers)
    assert paid.status_code == 200 and paid.json["result"]["status"] == "paid"


def test_bad_remittances_are_refused(app, http, headers, agency, make_user, portfolio):
    nothing = http.post(
        URL,
        json={
            "insurer_id": agency["company"],
            "period_from": "2026-06-01",
            "period_to": "2026-06-30",
        },
        headers=headers,
    )
    assert nothing.status_code == 422
    backwards = http.post(
        URL,
        json={
            "insurer_id": agency["company"],
            "period_from": "2026-11-30",
            "period_to": "2026-11-01",
        },
        headers=headers,
    )
    assert backwards.status_code == 422
    other = portfolio(user_organisation(app, make_user("MANAGER")), suffix="7")
    foreign = http.post(
        URL,
        json={
            "insurer_id": other["company"],
            "period_from": "2026-11-01",
            "period_to": "2026-11-30",
        },
        headers=headers,
    )
    assert foreign.status_code == 404
    assert http.get(f"{URL}999999", headers=headers).status_code == 404
    assert http.post(f"{URL}999999/paid", json={}, headers=headers).status_code == 404


def _issued(http, headers, agency) -> int:
    created = http.post(
        URL,
        json={
            "insurer_id": agency["company"],
            "period_from": "2026-11-01",
            "period_to": "2026-11-30",
        },
        headers=headers,
    )
    remittance_id = created.json["id"]
    assert http.post(f"{URL}{remittance_id}/issue", headers=headers).status_code == 200
    return remittance_id


def test_an_issued_bordereau_freezes_its_notices_and_payments_through_the_api(
    app, http, headers, agency
):
    _issued(http, headers, agency)
    payment = agency["payment"]
    rejected = http.post(
        f"/api/v1/payment/{payment}/reject",
        json={"rejected_on": "2026-11-20", "reason_code": "AM04"},
        headers=headers,
    )
    assert rejected.status_code == 409, rejected.get_data(as_text=True)
    assert "BE-" in rejected.json["message"]
    with app.app_context():
        open_notice = db.session.scalar(
            select(PremiumNotice.id).where(
                PremiumNotice.policy_id == agency["policy"],
                PremiumNotice.id.not_in(agency["paid"]),
            )
        )
    # Another allocation would change the payment the insurer was told about.
    allocated = http.post(
        f"/api/v1/payment/{payment}/allocate",
        json={"allocations": [{"premium_notice_id": open_notice, "amount": "1.00"}]},
        headers=headers,
    )
    assert allocated.status_code == 409, allocated.get_data(as_text=True)
    cancelled = http.post(f"/api/v1/premium_notice/{agency['paid'][0]}/cancel", headers=headers)
    assert cancelled.status_code == 409 and "BE-" in cancelled.json["message"]
    with app.app_context():
        assert db.session.get(Payment, payment).status is PaymentStatus.received
        statuses = {db.session.get(PremiumNotice, n).status for n in agency["paid"]}
        assert statuses == {NoticeStatus.paid}
        assert db.session.scalar(
            select(func.count(Allocation.id)).where(Allocation.payment_id == payment)
        ) == len(agency["paid"])


def test_an_issued_bordereau_freezes_its_payment_on_the_screen(
    app, http, headers, agency, manager, login
):
    _issued(http, headers, agency)
    login(manager)
    payment = agency["payment"]
    response = http.post(
        f"/paymentview/reject/{payment}",
        data={
            "rejected_on": "2026-11-20",
            "reason": "AM04",
            "csrf_token": csrf_token(http, f"/paymentview/show/{payment}"),
        },
        follow_redirects=True,
    )
    category, text = flashes(response)[0]
    assert category == "danger" and "BE-" in text, flashes(response)
    with app.app_context():
        assert db.session.get(Payment, payment).status is PaymentStatus.received


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_the_bordereau_renders_as_pdf_and_xlsx_from_its_built_in_templates(
    app, http, headers, agency
):
    remittance_id = _issued(http, headers, agency)
    body = http.get(f"{URL}{remittance_id}", headers=headers).json["result"]
    pdf = http.get(f"{URL}{remittance_id}/bordereau?format=pdf", headers=headers)
    assert pdf.status_code == 200, pdf.get_data(as_text=True)[:500]
    assert pdf.mimetype == "application/pdf"
    text = _pdf_text(pdf.get_data())
    assert f"Bordereau d'encaissement n° {body['number']}" in text.replace("\xa0", " ")
    with app.app_context():
        notices = [db.session.get(PremiumNotice, n) for n in agency["paid"]]
        numbers = [n.number for n in notices]
        policy_number = db.session.get(Policy, agency["policy"]).number
    for number in numbers:
        assert number in text
    assert policy_number in text
    net = Decimal(body["net_amount"])
    assert f"{net:.2f}".replace(".", ",") in text.replace("\u202f", "").replace("\xa0", "")
    xlsx = http.get(f"{URL}{remittance_id}/bordereau?format=xlsx", headers=headers)
    assert xlsx.status_code == 200
    rows = [
        row
        for row in load_workbook(io.BytesIO(xlsx.get_data()), read_only=True).active.values
        if any(cell is not None for cell in row)
    ]
    header = {row[0]: row[1] for row in rows if len(row) > 1 and row[0] and row[1] is not None}
    assert header["Bordereau"] == body["number"]
    assert Decimal(str(header["Net à reverser"])) == net
    titles = next(row for row in rows if row[0] == "Quittance")
    assert list(titles[:7]) == [
        "Quittance",
        "Contrat",
        "Souscripteur",
        "Payée le",
        "Prime encaissée",
        "Commission",
        "Net à reverser",
    ]
    start = rows.index(titles) + 1
    lines = rows[start : start + len(numbers)]
    assert sorted(row[0] for row in lines) == sorted(numbers)
    assert sum(Decimal(str(row[6])) for row in lines) == net
    bad = http.get(f"{URL}{remittance_id}/bordereau?format=doc", headers=headers)
    assert bad.status_code == 422
