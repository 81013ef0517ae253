"""SEPA direct debit: mandates, a month's debits as a valid pain.008 file, the bank's rejections."""

from __future__ import annotations

import datetime as dt
import io
import logging
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import pytest
import xmlschema
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AuditLog,
    Mandate,
    MandateSequence,
    NoticeStatus,
    Organisation,
    Payment,
    PaymentFrequency,
    PaymentStatus,
    Policy,
    PremiumNotice,
)
from app.ops.logs import BankAccountFilter
from app.services.bank_accounts import (
    BankDetailsError,
    creditor_check_digits,
    mask_iban,
    mask_ibans_in,
    valid_creditor_identifier,
    valid_iban,
)
from app.services.premiums import issuing
from tests.conftest import user_organisation

XSD = Path(__file__).parent / "data" / "pain.008.001.02.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
IBAN = "FR7630006000011234567890189"  # a valid French IBAN (check digits 76)
OTHER_IBAN = "DE89370400440532013000"
BATCH = "/api/v1/sepa/batch"
REJECTIONS = "/api/v1/sepa/rejections"


# --- the pure checks --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "compact"),
    [
        ("FR76 3000 6000 0112 3456 7890 189", IBAN),
        ("fr7630006000011234567890189", IBAN),
        ("DE89 3704 0044 0532 0130 00", OTHER_IBAN),
    ],
)
def test_an_iban_is_compacted(raw, compact):
    assert valid_iban(raw) == compact


@pytest.mark.parametrize(
    "raw",
    [
        "FR7630006000011234567890188",  # one digit off: the checksum fails
        "FR76300060000112345678901",  # too short for France
        "XX7630006000011234567890189",  # no such country
        "",
    ],
)
def test_a_bad_iban_is_refused(raw):
    with pytest.raises(BankDetailsError):
        valid_iban(raw)


def test_creditor_identifiers_carry_iban_style_check_digits():
    # The EPC's example: FR, business code ZZZ, national identifier 123456 -> 72.
    assert creditor_check_digits("FR", "123456") == "72"
    assert valid_creditor_identifier("fr72 zzz 123456") == "FR72ZZZ123456"
    for bad in ("FR73ZZZ123456", "FR72ZZZ", "72FRZZZ123456"):
        with pytest.raises(BankDetailsError):
            valid_creditor_identifier(bad)


def test_an_iban_is_shown_by_its_country_check_digits_and_last_four():
    masked = mask_iban(IBAN)
    assert masked.replace(" ", "").startswith("FR76") and masked.endswith("0 189")
    assert "3000" not in masked and "1234" not in masked
    line = mask_ibans_in(f"debit to {IBAN} and FR76 3000 6000 0112 3456 7890 189 failed")
    assert "30006" not in line and "3000 6000" not in line and line.startswith("debit to FR76")


def test_the_log_handler_masks_ibans_in_messages():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "account %s refused", (IBAN,), None)
    assert BankAccountFilter().filter(record)
    assert IBAN not in record.getMessage() and "FR76" in record.getMessage()


# --- through the API --------------------------------------------------------------


@pytest.fixture
def agency(app, make_user, portfolio, auth_headers):
    """A manager and a user of an agency with a monthly contract and its notices issued."""
    manager = make_user("MANAGER")
    organisation_id = user_organisation(app, manager)
    user = make_user("USER", organisation_id)
    ids = portfolio(organisation_id)
    with app.app_context():
        policy = db.session.get(Policy, ids["policy"])
        policy.payment_frequency = PaymentFrequency.monthly
        db.session.flush()
        issuing.issue_due(
            db.session,
            policy_id=policy.id,
            until=dt.date(2026, 12, 31),
            today=dt.date(2026, 10, 15),
        )
        db.session.commit()
    return {
        "organisation": organisation_id,
        "manager": auth_headers(manager),
        "user": auth_headers(user),
        **ids,
    }


def _set_creditor(app, organisation_id):
    with app.app_context():
        organisation = db.session.get(Organisation, organisation_id)
        organisation.sepa_creditor_identifier = "FR72ZZZ123456"
        organisation.sepa_creditor_iban = OTHER_IBAN
        organisation.sepa_creditor_bic = "COBADEFFXXX"
        db.session.commit()


def _mandate(http, agency, **overrides):
    body = {
        "client_id": agency["client"],
        "reference": "MAND-2026-0001",
        "iban": "FR76 3000 6000 0112 3456 7890 189",
        "debtor_name": "Jeanne Martin",
        "signed_on": "2026-01-02",
        **overrides,
    }
    return http.post("/api/v1/mandate/", json=body, headers=agency["user"])


def test_a_mandate_is_recorded_with_a_checked_iban_and_read_back_masked(http, app, agency):
    refused = _mandate(http, agency, iban="FR7630006000011234567890188")
    assert refused.status_code == 422 and "iban" in refused.json["message"]
    future = _mandate(http, agency, signed_on="2999-01-01")
    assert future.status_code == 422 and "signed_on" in future.json["message"]
    created = _mandate(http, agency)
    assert created.status_code == 201, created.json
    mandate_id = created.json["id"]
    shown = http.get(f"/api/v1/mandate/{mandate_id}", headers=agency["user"]).json["result"]
    assert "iban" not in shown and shown["masked_iban"] == mask_iban(IBAN)
    assert shown["sequence"] == "first" and shown["status"] == "active"
    listed = http.get("/api/v1/mandate/", headers=agency["user"]).get_data(as_text=True)
    assert IBAN not in listed and "30006" not in listed
    assert _mandate(http, agency).status_code == 422  # the same reference twice
    with app.app_context():
        entries = db.session.scalars(
            select(AuditLog).where(AuditLog.object_type == "Mandate")
        ).all()
        assert entries and all(IBAN not in str(entry.changes) for entry in entries)
    # Revoked, with its date; never deleted.
    revoke = http.put(
        f"/api/v1/mandate/{mandate_id}",
        json={"status": "revoked"},
        headers=agency["user"],
    )
    assert revoke.status_code == 422  # the date is required
    revoke = http.put(
        f"/api/v1/mandate/{mandate_id}",
        json={"status": "revoked", "revoked_on": "2026-06-30"},
        headers=agency["user"],
    )
    assert revoke.status_code == 200, revoke.json
    assert http.delete(f"/api/v1/mandate/{mandate_id}", headers=agency["user"]).status_code in (
        404,
        405,
    )


def test_mandates_stay_inside_their_agency(http, app, agency, make_user, auth_headers):
    mandate_id = _mandate(http, agency).json["id"]
    stranger = auth_headers(make_user("MANAGER"))
    assert http.get(f"/api/v1/mandate/{mandate_id}", headers=stranger).status_code == 404
    assert http.get("/api/v1/mandate/", headers=stranger).json["count"] == 0
    # A contract of another agency cannot name it.
    other = make_user("USER")
    other_headers = auth_headers(other)
    other_org = user_organisation(app, other)
    policy_id = _other_policy(app, other_org)
    answer = http.put(
        f"/api/v1/policy/{policy_id}", json={"mandate_id": mandate_id}, headers=other_headers
    )
    assert answer.status_code == 422 and "mandate_id" in answer.json["message"]


def _other_policy(app, organisation_id):
    from app.models import Client, Company, LineOfBusiness

    with app.app_context():
        company = Company(organisation_id=organisation_id, name="Autre", code="AUT")
        client = Client(organisation_id=organisation_id, last_name="Autre")
        db.session.add_all([company, client])
        db.session.flush()
        policy = Policy(
            organisation_id=organisation_id,
            number="AUT-1",
            client_id=client.id,
            company_id=company.id,
            line_of_business=LineOfBusiness.home,
            effective_date=dt.date(2026, 1, 1),
            expiry_date=dt.date(2027, 1, 1),
            premium=Decimal("300.00"),
        )
        db.session.add(policy)
        db.session.commit()
        return policy.id


def test_a_months_debits_download_as_a_valid_pain008_and_rejections_reopen(http, app, agency):
    mandate_id = _mandate(http, agency).json["id"]
    put = http.put(
        f"/api/v1/policy/{agency['policy']}",
        json={"mandate_id": mandate_id},
        headers=agency["user"],
    )
    assert put.status_code == 200, put.json
    period = {"due_from": "2026-11-01", "due_to": "2026-12-31"}
    # The agency has no creditor details yet: refused, nothing written.
    missing = http.post(BATCH, json=period, headers=agency["manager"])
    assert missing.status_code == 422 and "sepa_creditor_identifier" in missing.json["message"]
    _set_creditor(app, agency["organisation"])
    assert http.post(BATCH, json=period, headers=agency["user"]).status_code == 403
    bad = http.post(
        BATCH, json={"due_from": "2026-12-31", "due_to": "2026-11-01"}, headers=agency["manager"]
    )
    assert bad.status_code == 422
    started = http.post(BATCH, json=period, headers=agency["manager"])
    assert started.status_code == 202, started.json
    job = http.get(started.headers["Location"], headers=agency["manager"]).json
    assert job["status"] == "succeeded", job
    download = http.get(
        f"/api/v1/document/{job['document_id']}/download", headers=agency["manager"]
    )
    assert download.status_code == 200
    xml = download.get_data()
    xmlschema.XMLSchema(str(XSD)).validate(xml.decode())  # raises if the file is not valid
    tree = ElementTree.fromstring(xml)
    with app.app_context():
        notices = db.session.scalars(
            select(PremiumNotice)
            .where(PremiumNotice.policy_id == agency["policy"])
            .where(PremiumNotice.due_on.between(dt.date(2026, 11, 1), dt.date(2026, 12, 31)))
            .order_by(PremiumNotice.due_on)
        ).all()
        assert len(notices) == 2 and all(n.status is NoticeStatus.paid for n in notices)
        expected_sum = sum(n.total for n in notices)
        debits = db.session.scalars(
            select(Payment).where(Payment.debit_job_id == job["id"]).order_by(Payment.id)
        ).all()
        references = [p.reference for p in debits]
        assert db.session.get(Mandate, mandate_id).sequence is MandateSequence.recurring
    assert tree.find("p:CstmrDrctDbtInitn/p:GrpHdr/p:NbOfTxs", NS).text == "2"
    assert Decimal(tree.find("p:CstmrDrctDbtInitn/p:GrpHdr/p:CtrlSum", NS).text) == expected_sum
    assert {e.text for e in tree.iterfind(".//p:SeqTp", NS)} == {"FRST"}
    assert {e.text for e in tree.iterfind(".//p:MndtId", NS)} == {"MAND-2026-0001"}
    assert [e.text for e in tree.iterfind(".//p:EndToEndId", NS)] == references
    assert tree.find(".//p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", NS).text == "FR72ZZZ123456"
    # Nothing left to debit in that period: a second batch is refused.
    again = http.post(BATCH, json=period, headers=agency["manager"])
    assert again.status_code == 422
    # The bank returns the first debit (insufficient funds): its notice re-opens.
    csv = f"reference;reason;date\n{references[0]};am04;\nD999-NOPE;MS03;\n".encode()
    answer = http.post(
        REJECTIONS,
        data={"file": (io.BytesIO(csv), "rejets.csv")},
        headers=agency["manager"],
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["rejected"] == [references[0]] and answer.json["unknown"] == ["D999-NOPE"]
    with app.app_context():
        payment = db.session.scalar(select(Payment).where(Payment.reference == references[0]))
        assert payment.status is PaymentStatus.rejected and payment.rejection_reason == "AM04"
        notice = db.session.get(PremiumNotice, notices[0].id)
        assert notice.status is not NoticeStatus.paid and notice.paid_amount == 0
        assert db.session.get(PremiumNotice, notices[1].id).status is NoticeStatus.paid
    replay = http.post(
        REJECTIONS,
        data={"file": (io.BytesIO(csv), "rejets.csv")},
        headers=agency["manager"],
        content_type="multipart/form-data",
    )
    assert replay.json["already_rejected"] == [references[0]] and not replay.json["rejected"]
    garbage = http.post(
        REJECTIONS,
        data={"file": (io.BytesIO(b"foo;bar\n1;2\n"), "rejets.csv")},
        headers=agency["manager"],
        content_type="multipart/form-data",
    )
    assert garbage.status_code == 422
