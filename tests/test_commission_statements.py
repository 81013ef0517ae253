"""Insurer statements: import, column mapping, reconciliation with planted differences,
manual match/unmatch, export, and the bad input the issue lists."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, insert, select

from app.extensions import db
from app.models import (
    Cancellation,
    Client,
    Collection,
    CommissionBasis,
    CommissionColumnMapping,
    CommissionRule,
    CommissionStatement,
    ExpectedCommission,
    ExpectedStatus,
    LineOfBusiness,
    NoticeKind,
    NoticeStatus,
    Policy,
    PolicyStatus,
    PremiumNotice,
    UnpaidStage,
)
from app.services.commissions import expected
from app.services.commissions.statement_file import amount
from app.services.imports.values import CellError
from tests.conftest import user_organisation

URL = "/api/v1/commission_statement/"
PERIOD = "2026-11"
RATE = Decimal("12")


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1 234,56", Decimal("1234.56")),
        ("1.234,56", Decimal("1234.56")),
        ("1,234.56", Decimal("1234.56")),
        ("12,5", Decimal("12.50")),
        ("-12.50", Decimal("-12.50")),
        ("(12,50)", Decimal("-12.50")),
        ("12,345", Decimal("12345.00")),  # three digits after the mark: thousands
        ("45 €", Decimal("45.00")),
        (Decimal("3.10"), Decimal("3.10")),
        (7, Decimal("7.00")),
    ],
)
def test_amounts_read_with_french_or_english_separators(raw, value):
    assert amount(raw) == value


@pytest.mark.parametrize("raw", ["douze", "12,3,4x", "1.2.3,4.5x", "=1+1", "12.345.6"])
def test_garbage_amounts_are_refused(raw):
    with pytest.raises(CellError):
        amount(raw)


# --- a book of contracts, built fast ---------------------------------------------------


def make_book(app, organisation_id: int, size: int, code: str = "AXE") -> dict:
    """``size`` contracts with one insurer, each with a November notice and its commission."""
    with app.app_context():
        from app.models import Company

        company = Company(organisation_id=organisation_id, name=f"Assureur {code}", code=code)
        client = Client(organisation_id=organisation_id, first_name="Lou", last_name="Bernard")
        db.session.add_all([company, client])
        db.session.flush()
        db.session.execute(
            insert(Policy),
            [
                {
                    "organisation_id": organisation_id,
                    "number": f"{code}-{index:06d}",
                    "client_id": client.id,
                    "company_id": company.id,
                    "line_of_business": LineOfBusiness.home,
                    "status": PolicyStatus.active,
                    "effective_date": dt.date(2025, 11, 1),
                    "expiry_date": dt.date(2026, 11, 1),
                    "premium": Decimal("240.00"),
                }
                for index in range(size)
            ],
        )
        policies = dict(
            db.session.execute(
                select(Policy.number, Policy.id).where(Policy.company_id == company.id)
            ).all()
        )
        notices = []
        for number, policy_id in policies.items():
            before_tax = Decimal(100 + int(number[-3:]) % 50)
            notices.append(
                {
                    "organisation_id": organisation_id,
                    "policy_id": policy_id,
                    "number": f"{number}/2-01",
                    "kind": NoticeKind.one_off,
                    "period_start": dt.date(2026, 11, 1),
                    "period_end": dt.date(2026, 12, 1),
                    "due_on": dt.date(2026, 11, 1),
                    "pay_by": dt.date(2026, 11, 11),
                    "amount_before_tax": before_tax,
                    "taxes": Decimal("9.00"),
                    "fees": Decimal("0.00"),
                    "total": before_tax + Decimal("9.00"),
                    "currency": "EUR",
                    "collection": Collection.broker,
                    "status": NoticeStatus.issued,
                    "paid_amount": Decimal("0.00"),
                    "issued_on": dt.date(2026, 11, 1),
                    "stage": UnpaidStage.up_to_date,
                }
            )
        db.session.execute(insert(PremiumNotice), notices)
        db.session.add(
            CommissionRule(
                organisation_id=organisation_id,
                company_id=company.id,
                basis=CommissionBasis.rate,
                first_year_rate=RATE,
                later_years_rate=RATE,
                valid_from=dt.date(2020, 1, 1),
                clawback_first_year=Decimal("100"),
                clawback_second_year=Decimal("50"),
            )
        )
        db.session.flush()
        expected.refresh(db.session, organisation_id, company_id=company.id)
        db.session.commit()
        rows = db.session.execute(
            select(Policy.number, PremiumNotice.number, ExpectedCommission.amount)
            .join(PremiumNotice, PremiumNotice.id == ExpectedCommission.premium_notice_id)
            .join(Policy, Policy.id == PremiumNotice.policy_id)
            .where(ExpectedCommission.company_id == company.id)
            .order_by(Policy.number)
        ).all()
        return {"company": company.id, "lines": [tuple(row) for row in rows]}


def statement_csv(lines, header=("N° police", "Période", "Prime HT", "Commission")) -> bytes:
    out = [";".join(header)]
    for index, (policy, commission) in enumerate(lines):
        # Half the lines with a decimal comma, half with a point and a thousands mark.
        text = f"{commission:.2f}".replace(".", ",") if index % 2 else f"{commission:,.2f}"
        out.append(f"{policy};11/2026;100,00;{text}")
    return ("\n".join(out) + "\n").encode("utf-8")


def upload(http, headers, company_id, data: bytes, name="releve.csv", **form):
    body = {"insurer_id": str(company_id), "period": PERIOD, **form}
    body["file"] = (io.BytesIO(data), name)
    return http.post(URL, data=body, headers=headers, content_type="multipart/form-data")


@pytest.fixture
def manager(make_user):
    return make_user("MANAGER")


@pytest.fixture
def headers(manager, auth_headers):
    return auth_headers(manager)


@pytest.fixture
def organisation(app, manager):
    return user_organisation(app, manager)


def results(http, headers, statement_id, result=None) -> list[dict]:
    query = f"?result={result}&page_size=500" if result else "?page_size=500"
    answer = http.get(f"{URL}{statement_id}/lines{query}", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.json["result"]


# --- the test: 5,000 lines, planted differences, found exactly ------------------


def test_a_5000_line_statement_finds_exactly_its_planted_differences(
    app, http, headers, organisation
):
    book = make_book(app, organisation, 5000)
    lines = [(policy, commission) for policy, _notice, commission in book["lines"]]
    missing_policy = lines.pop(1234)[0]  # expected, not on the statement
    differs_policy, differs_amount = lines[4321]
    lines[4321] = (differs_policy, differs_amount + Decimal("5.00"))
    lines.append(("ZZZ-999999", Decimal("17.40")))  # paid, unknown to the agency
    answer = upload(http, headers, book["company"], statement_csv(lines))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    counts = answer.json["result"]["results"]
    assert counts == {"matched": 4998, "amount_differs": 1, "missing": 1, "unknown": 1}
    statement_id = answer.json["id"]
    (differs,) = results(http, headers, statement_id, "amount_differs")
    assert (differs["policy_number"], differs["difference"]) == (differs_policy, "5.00")
    (missing,) = results(http, headers, statement_id, "missing")
    assert missing["policy_number"] == missing_policy and missing["row"] is None
    (unknown,) = results(http, headers, statement_id, "unknown")
    assert (unknown["policy_number"], unknown["commission"]) == ("ZZZ-999999", "17.40")
    with app.app_context():
        statuses = dict(
            db.session.execute(
                select(ExpectedCommission.status, func.count()).group_by(ExpectedCommission.status)
            ).all()
        )
        assert statuses == {
            ExpectedStatus.received: 4998,
            ExpectedStatus.differs: 1,
            ExpectedStatus.expected: 1,
        }
    # The same file again is refused, whatever its name.
    again = upload(http, headers, book["company"], statement_csv(lines), name="copie.csv")
    assert again.status_code == 409


def test_manual_match_and_unmatch_then_export(app, http, headers, organisation):
    book = make_book(app, organisation, 6)
    lines = [(policy, commission) for policy, _notice, commission in book["lines"]]
    _policy, notice, commission = book["lines"][2]
    lines.pop(2)
    lines.append(("TYPO-000002", commission))  # the insurer mistyped the policy number
    answer = upload(http, headers, book["company"], statement_csv(lines))
    assert answer.json["result"]["results"] == {
        "matched": 5,
        "amount_differs": 0,
        "missing": 1,
        "unknown": 1,
    }
    statement_id = answer.json["id"]
    (unknown,) = results(http, headers, statement_id, "unknown")
    (missing,) = results(http, headers, statement_id, "missing")
    target = missing["expected_commission_id"]
    matched = http.post(
        f"{URL}{statement_id}/lines/{unknown['id']}/match",
        json={"expected_commission_id": target},
        headers=headers,
    )
    assert matched.status_code == 200, matched.get_data(as_text=True)
    assert (matched.json["result"]["result"], matched.json["result"]["manual"]) == ("matched", True)
    assert results(http, headers, statement_id, "missing") == []
    # Another line cannot take the same expected commission.
    first = results(http, headers, statement_id, "matched")[0]
    taken = http.post(
        f"{URL}{statement_id}/lines/{first['id']}/match",
        json={"expected_commission_id": target},
        headers=headers,
    )
    assert taken.status_code == 409
    undone = http.post(f"{URL}{statement_id}/lines/{unknown['id']}/unmatch", headers=headers)
    assert undone.json["result"]["result"] == "unknown"
    assert [
        row["expected_commission_id"] for row in results(http, headers, statement_id, "missing")
    ] == [target]
    with app.app_context():
        assert db.session.get(ExpectedCommission, target).status is ExpectedStatus.expected
    # Exports, for a dispute with the insurer.
    csv_file = http.get(f"{URL}{statement_id}/export?format=csv", headers=headers)
    assert csv_file.status_code == 200 and "attachment" in csv_file.headers["Content-Disposition"]
    text = csv_file.get_data().decode("utf-8-sig")
    assert "TYPO-000002" in text and len(text.strip().splitlines()) == 1 + 7
    xlsx = http.get(f"{URL}{statement_id}/export?format=xlsx&result=unknown", headers=headers)
    sheet = load_workbook(io.BytesIO(xlsx.get_data()), read_only=True).active
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert len(values) == 2 and values[1][1] == "TYPO-000002"
    assert http.get(f"{URL}{statement_id}/export?format=pdf", headers=headers).status_code == 422


def test_a_claw_back_line_matches_what_is_owed_back(app, http, headers, organisation):
    book = make_book(app, organisation, 2)
    policy, _notice, commission = book["lines"][0]
    half = (commission / 2).quantize(Decimal("0.01"))
    with app.app_context():
        # Ended in its second year: the rule takes back 50 % of that year's commission.
        policy_row = db.session.scalar(select(Policy).where(Policy.number == policy))
        db.session.add(
            Cancellation(
                organisation_id=organisation,
                policy_id=policy_row.id,
                ground="hamon",
                requested_on=dt.date(2026, 10, 20),
                received_on=dt.date(2026, 10, 20),
                effective_on=dt.date(2026, 11, 20),
                basis="L113-15-2",
                reason="open",
            )
        )
        db.session.commit()
    data = (
        "Contrat;Période;Commission;Sens\n"
        f"{policy};2026-11;{half};D\n"
        f"{book['lines'][1][0]};2026-11;{book['lines'][1][2]};C\n"
    ).encode()
    answer = upload(http, headers, book["company"], data)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.json["result"]["results"]["matched"] == 2, results(
        http, headers, answer.json["id"]
    )
    clawed = [
        r for r in results(http, headers, answer.json["id"]) if r["commission"].startswith("-")
    ]
    assert clawed[0]["expected_amount"] == f"-{half}"
    with app.app_context():
        statuses = set(db.session.scalars(select(ExpectedCommission.status)))
        assert statuses == {ExpectedStatus.clawed_back, ExpectedStatus.received}


def test_the_column_mapping_is_saved_per_insurer_and_reused(app, http, headers, organisation):
    book = make_book(app, organisation, 3)
    header = ("Ref contrat", "Mois", "Comm.")
    lines = [(policy, commission) for policy, _n, commission in book["lines"]]

    def body(rows):
        return (
            "Ref contrat;Mois;Comm.\n" + "".join(f"{p};2026-11;{c}\n" for p, c in rows)
        ).encode()

    refused = upload(http, headers, book["company"], body(lines))
    assert refused.status_code == 422
    assert "Ref contrat" in str(refused.json["message"])
    mapping = '{"policy_number": "Ref contrat", "period": "Mois", "commission": "Comm."}'
    first = upload(http, headers, book["company"], body(lines[:2]), mapping=mapping)
    assert first.status_code == 201, first.get_data(as_text=True)
    with app.app_context():
        saved = db.session.scalar(select(CommissionColumnMapping.columns))
        assert saved == {"policy_number": header[0], "period": header[1], "commission": header[2]}
    second = upload(http, headers, book["company"], body(lines[2:]))
    assert second.status_code == 201, second.get_data(as_text=True)
    assert second.json["result"]["results"]["matched"] == 1
    preview = http.post(
        f"{URL}preview",
        data={"insurer_id": str(book["company"]), "file": (io.BytesIO(body(lines)), "x.csv")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200
    assert preview.json["row_count"] == 3 and preview.json["columns"]["commission"] == "Comm."


def test_bad_statements_are_refused_whole(
    app, http, headers, organisation, make_user, auth_headers
):
    book = make_book(app, organisation, 3)
    policy = book["lines"][0][0]
    bad = (
        "Police;Période;Commission\n"
        f"{policy};11/2026;douze\n"
        f"{policy};13/2026;12,00\n"
        f"{policy};11/2026;12,00\n"
        f"{policy};11/2026;12,00\n"  # the same line twice
        ";11/2026;3,00\n"
    ).encode()
    answer = upload(http, headers, book["company"], bad)
    assert answer.status_code == 422
    message = answer.json["message"]
    assert set(message) == {"row 2", "row 3", "row 5", "row 6"}, message
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CommissionStatement)) == 0
        assert db.session.scalar(select(func.count()).select_from(CommissionColumnMapping)) == 0
    # An old binary .xls is refused by the import machinery; a wrong period too (XLSX
    # formulas, sizes and the row cap: tests/test_commission_statement_files.py).
    assert (
        upload(http, headers, book["company"], b"\xd0\xcf\x11\xe0xx", name="a.xls").status_code
        == 422
    )
    good = statement_csv([(policy, Decimal("1.00"))])
    assert upload(http, headers, book["company"], good, period="2026-13").status_code == 422
    # Another agency's insurer does not exist for this agency; its manager sees nothing here.
    other_manager = make_user("MANAGER")
    other = make_book(app, user_organisation(app, other_manager), 1, code="OTH")
    assert upload(http, headers, other["company"], good).status_code == 404
    created = upload(http, headers, book["company"], good)
    assert created.status_code == 201
    other_headers = auth_headers(other_manager)
    assert http.get(f"{URL}{created.json['id']}", headers=other_headers).status_code == 404
    assert http.get(f"{URL}{created.json['id']}/lines", headers=other_headers).status_code == 404
    assert (
        http.get(f"{URL}{created.json['id']}/lines?result=bogus", headers=headers).status_code
        == 422
    )
    user = make_user("USER", organisation)
    assert upload(http, auth_headers(user), book["company"], good).status_code == 403
