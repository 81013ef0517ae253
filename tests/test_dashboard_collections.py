"""Premiums collected and unpaid on the dashboard, and the receipts journal.

Every number is checked against a count made by hand from the notices below; another
agency's notices, cancelled ones and refunds are there to be left out.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import html
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Document,
    Job,
    NoticeKind,
    NoticeStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Policy,
    PremiumNotice,
)
from app.services.dashboard import Scope
from app.services.dashboard.collections import age_bucket, collections_per_month, unpaid_on
from app.services.dashboard.premiums import period_months
from app.services.premiums import payments
from app.services.storage import file_store
from tests.conftest import user_organisation
from tests.dashboard_support import TODAY, Agency, column_values, svg
from tests.reports_support import sheet_rows, workbook_of

START = (TODAY.replace(day=1) - dt.timedelta(days=150)).replace(day=1)
END = (TODAY.replace(day=28) + dt.timedelta(days=10)).replace(day=1)  # next month's first day


def day(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


class Book:
    """Notices of an agency's contracts, made row by row (the dashboard only reads them)."""

    def __init__(self, app, agency: Agency) -> None:
        self.app, self.agency, self.count = app, agency, 0

    def contract(self, insurer_id: int) -> int:
        number = self.agency.policy(insurer_id)
        with self.app.app_context():
            return db.session.scalar(select(Policy.id).where(Policy.number == number))

    def notice(
        self,
        policy_id: int,
        due: dt.date,
        total: str,
        paid: str = "0.00",
        *,
        status: NoticeStatus | None = None,
        kind: NoticeKind = NoticeKind.one_off,
        currency: str = "EUR",
    ) -> int:
        self.count += 1
        total_amount, paid_amount = Decimal(total), Decimal(paid)
        if status is None:
            if paid_amount >= total_amount:
                status = NoticeStatus.paid
            elif paid_amount > 0:
                status = NoticeStatus.partly_paid
            else:
                status = NoticeStatus.unpaid if due < TODAY else NoticeStatus.issued
        with self.app.app_context():
            notice = PremiumNotice(
                organisation_id=self.agency.organisation_id,
                policy_id=policy_id,
                number=f"Q{self.agency.organisation_id}-{self.count}",
                kind=kind,
                period_start=due,
                period_end=due + dt.timedelta(days=30),
                due_on=due,
                pay_by=due,
                amount_before_tax=total_amount,
                taxes=Decimal("0.00"),
                fees=Decimal("0.00"),
                total=total_amount,
                currency=currency,
                status=status,
                paid_amount=paid_amount,
            )
            db.session.add(notice)
            db.session.commit()
            return notice.id


@pytest.fixture
def book(app, make_organisation):
    """Agency A with two insurers; agency B's notices must never count."""
    agency = Agency(app, make_organisation())
    first, second = agency.insurer("Alpha Assurances"), agency.insurer("Beta Mutuelle")
    books = Book(app, agency)
    a1, a2, b1 = books.contract(first), books.contract(first), books.contract(second)
    books.notice(a1, day(-5), "100.00")  # unpaid, 5 days: bucket 1-30
    books.notice(a1, day(-45), "200.00", "50.00")  # partly paid: 150 left, 31-60
    books.notice(a2, day(-75), "300.00")  # 61-90
    books.notice(b1, day(-120), "400.00")  # over 90
    books.notice(b1, day(-20), "80.00", "80.00")  # paid: collected, not unpaid
    books.notice(a2, day(-30), "60.00", status=NoticeStatus.cancelled)  # never counted
    books.notice(a2, day(-30), "-25.00", kind=NoticeKind.refund, status=NoticeStatus.issued)
    books.notice(a1, TODAY, "70.00")  # due today: not unpaid yet
    other = Agency(app, make_organisation())
    other_books = Book(app, other)
    other_books.notice(other_books.contract(other.insurer("Gamma")), day(-10), "999.00")
    return {"agency": agency, "first": first, "second": second}


def scope(organisation_id: int, company_id: int | None = None) -> Scope:
    return Scope(organisation_id, company_id, START, END, TODAY, db.session.get_bind().dialect.name)


def test_collections_per_month_are_the_notices_falling_due(app, book):
    months = period_months(START, END)
    expected_collected = [Decimal(0)] * len(months)
    expected_outstanding = [Decimal(0)] * len(months)
    for due, total, paid in (
        (day(-5), "100.00", "0"),
        (day(-45), "200.00", "50.00"),
        (day(-75), "300.00", "0"),
        (day(-120), "400.00", "0"),
        (day(-20), "80.00", "80.00"),
        (TODAY, "70.00", "0"),
    ):
        position = months.index(due.replace(day=1))
        expected_collected[position] += Decimal(paid)
        expected_outstanding[position] += Decimal(total) - Decimal(paid)
    with app.app_context():
        result = collections_per_month(db.session, scope(book["agency"].organisation_id))
        assert list(result.collected) == ["EUR"]
        assert result.collected["EUR"] == expected_collected
        assert result.outstanding["EUR"] == expected_outstanding
        assert result.issued("EUR") == Decimal("1150.00")
        # One insurer: Beta's two notices only.
        beta = collections_per_month(
            db.session, scope(book["agency"].organisation_id, book["second"])
        )
        assert beta.issued("EUR") == Decimal("480.00")
        assert sum(beta.collected["EUR"]) == Decimal("80.00")


@pytest.mark.parametrize(
    ("days", "bucket"), [(1, 0), (30, 0), (31, 1), (60, 1), (61, 2), (90, 2), (91, 3), (900, 3)]
)
def test_age_buckets_follow_the_days_past_due(days, bucket):
    assert age_bucket(days) == bucket


def test_unpaid_by_age_and_insurer(app, book):
    with app.app_context():
        unpaid = unpaid_on(db.session, scope(book["agency"].organisation_id))
    assert unpaid.by_age == {
        "EUR": [Decimal("100.00"), Decimal("150.00"), Decimal("300.00"), Decimal("400.00")]
    }
    assert unpaid.notices_by_age == [1, 1, 1, 1]
    rows = [(row.name, row.amount, row.notices) for row in unpaid.by_insurer["EUR"]]
    assert rows == [
        ("Alpha Assurances", Decimal("550.00"), 3),
        ("Beta Mutuelle", Decimal("400.00"), 1),
    ]


def _amounts(page: str, chart_id: str) -> dict[str, Decimal]:
    values = {}
    for value, body in re.findall(
        r'<g class="bar" data-value="([^"]+)">(.*?)</g>', svg(page, chart_id), re.S
    ):
        title = html.unescape(re.search(r"<title>(.*?)</title>", body, re.S).group(1))
        values[title.rsplit(": ", 1)[0]] = Decimal(value)
    return values


def test_the_dashboard_draws_them_for_the_managers_agency(app, http, login, make_user, book):
    login(make_user("MANAGER", book["agency"].organisation_id))
    page = http.get("/dashboard/?months=6").get_data(as_text=True)
    assert page.count('id="card-collections"') == 1 and 'id="card-unpaid"' in page
    assert sum(column_values(page, "chart-collections-EUR")) == Decimal("1150.00")
    ages = _amounts(page, "chart-unpaid-age-EUR")
    assert list(ages.values()) == [Decimal("100"), Decimal("150"), Decimal("300"), Decimal("400")]
    insurers = _amounts(page, "chart-unpaid-insurers-EUR")
    assert insurers == {"Alpha Assurances": Decimal("550"), "Beta Mutuelle": Decimal("400")}
    assert "Gamma" not in page and "999,00" not in page


def test_the_receipts_journal_lists_each_allocation_and_the_credit(
    app, http, make_user, auth_headers, portfolio
):
    manager = make_user("MANAGER")
    organisation_id = user_organisation(app, manager)
    ids = portfolio(organisation_id)
    books = Book(app, Agency(app, organisation_id))
    first = books.notice(ids["policy"], day(-40), "100.00")
    second = books.notice(ids["policy"], day(-10), "50.00")
    with app.app_context():
        cheque = payments.record_payment(
            db.session,
            organisation_id,
            amount="160.00",
            received_on=day(-3),
            method=PaymentMethod.cheque,
            reference="CHQ 42",
            client_id=ids["client"],
            today=TODAY,
            allocations=[(first, "100.00"), (second, "50.00")],
        )
        returned = payments.record_payment(
            db.session,
            organisation_id,
            amount="20.00",
            received_on=day(-2),
            method=PaymentMethod.transfer,
            today=TODAY,
        )
        db.session.flush()
        payments.reject_payment(returned, rejected_on=day(-1), reason="AC04", today=TODAY)
        db.session.commit()
        assert returned.status is PaymentStatus.rejected
        cheque_id = cheque.id
    headers = auth_headers(manager)
    started = http.post("/api/v1/report/receipts", json={}, headers=headers)
    assert started.status_code == 202, started.json
    job = http.get(started.headers["Location"], headers=headers).json
    assert job["status"] == "succeeded", job
    workbook = workbook_of(app, job["document_id"])
    rows = sheet_rows(workbook, 0)[1:]
    assert [(row[2], row[3], Decimal(str(row[4])), row[7]) for row in rows] == [
        ("POL-1", f"Q{organisation_id}-1", Decimal("100"), cheque_id),
        ("POL-1", f"Q{organisation_id}-2", Decimal("50"), cheque_id),
        (None, "Non affecté (avoir du client)", Decimal("10"), cheque_id),  # an empty cell
    ]
    assert all(row[5] == "Chèque" and row[6] == "CHQ 42" for row in rows)
    summary = sheet_rows(workbook, 1)
    assert summary[-1][0] == "Total" and Decimal(str(summary[-1][2])) == Decimal("160")
    with app.app_context():
        assert db.session.scalar(select(Payment.id).where(Payment.id == cheque_id))


def _csv_rows(app, document_id: int) -> list[list[str]]:
    with app.app_context():
        document = db.session.get(Document, document_id)
        data = file_store().get(document.storage_key, compressed=False, encrypted=False)
    assert data.startswith(codecs.BOM_UTF8)  # Excel reads the accents right
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def _delivered(http, headers, body: dict) -> tuple[int, dict]:
    started = http.post("/api/v1/report/receipts", json=body, headers=headers)
    assert started.status_code == 202, started.json
    job = http.get(started.headers["Location"], headers=headers).json
    assert job["status"] == "succeeded", job
    return job["document_id"], job


def test_the_receipts_journal_as_csv_has_the_rows_and_total_of_the_xlsx(
    app, http, make_user, auth_headers, portfolio
):
    manager = make_user("MANAGER")
    organisation_id = user_organisation(app, manager)
    ids = portfolio(organisation_id)
    books = Book(app, Agency(app, organisation_id))
    first = books.notice(ids["policy"], day(-40), "100.00")
    second = books.notice(ids["policy"], day(-10), "50.10")
    with app.app_context():
        payments.record_payment(
            db.session,
            organisation_id,
            amount="160.35",
            received_on=day(-3),
            method=PaymentMethod.cheque,
            reference="=HYPERLINK(1)",  # what a spreadsheet would run
            client_id=ids["client"],
            today=TODAY,
            allocations=[(first, "100.00"), (second, "50.10")],
        )
        payments.record_payment(
            db.session,
            organisation_id,
            amount="0.05",
            received_on=day(-2),
            method=PaymentMethod.transfer,
            payer="Jean Dupont",
            today=TODAY,
        )
        db.session.commit()
    headers = auth_headers(manager)
    xlsx_id, _job = _delivered(http, headers, {"format": "xlsx"})
    csv_id, _job = _delivered(http, headers, {"format": "csv"})
    workbook = workbook_of(app, xlsx_id)
    sheet = sheet_rows(workbook, 0)
    lines = _csv_rows(app, csv_id)
    assert lines[0] == [str(title) for title in sheet[0]]
    assert len(lines) == len(sheet) == 5  # header, two allocations, the credit, the transfer

    def plain(value) -> str:
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        return str(value)

    for row, line in zip(sheet[1:], lines[1:], strict=True):
        assert Decimal(line[4]) == Decimal(str(row[4]))
        assert re.fullmatch(r"[0-9]+\.[0-9]{2}", line[4]), line[4]  # a plain decimal
        assert [line[i] for i in (0, 1, 2, 3, 5, 7)] == [plain(row[i]) for i in (0, 1, 2, 3, 5, 7)]
    assert [line[6] for line in lines[1:]] == ["'=HYPERLINK(1)"] * 3 + [""]
    assert [line[4] for line in lines[1:]] == ["100.00", "50.10", "10.25", "0.05"]
    summary = sheet_rows(workbook, 1)
    assert summary[-1][0] == "Total"
    assert sum(Decimal(line[4]) for line in lines[1:]) == Decimal(str(summary[-1][2]))
    assert sum(Decimal(line[4]) for line in lines[1:]) == Decimal("160.40")
    with app.app_context():
        names = [db.session.get(Document, i).file_name for i in (xlsx_id, csv_id)]
    assert names[0].endswith(".xlsx") and names[1].endswith(".csv")


def test_the_receipts_journal_refuses_another_format(app, http, make_user, auth_headers):
    manager = make_user("MANAGER")
    response = http.post(
        "/api/v1/report/receipts", json={"format": "pdf"}, headers=auth_headers(manager)
    )
    assert response.status_code == 422 and "format" in str(response.json)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 0
