"""Commissions on the dashboard: expected against received per month and per insurer, the
open differences of the statements, the contracts earning most.

Every number is checked against a sum made by hand from the rows below; another agency's
commissions and a cancelled expectation are there to be left out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import (
    CommissionBasis,
    CommissionRule,
    CommissionStatement,
    CommissionStatementLine,
    ExpectedCommission,
    ExpectedStatus,
    LineResult,
    Policy,
    StatementStatus,
)
from app.services.dashboard import Scope
from app.services.dashboard.commissions import commissions_on
from tests.dashboard_support import TODAY, Agency, column_values
from tests.test_dashboard_collections import Book

START = (TODAY.replace(day=1) - dt.timedelta(days=150)).replace(day=1)
END = (TODAY.replace(day=28) + dt.timedelta(days=10)).replace(day=1)
THIS_MONTH = TODAY.replace(day=1)
LAST_MONTH = (THIS_MONTH - dt.timedelta(days=1)).replace(day=1)


class Commissions:
    def __init__(self, app, agency: Agency) -> None:
        self.app, self.agency, self.book = app, agency, Book(app, agency)

    def rule(self, company_id: int) -> int:
        with self.app.app_context():
            rule = CommissionRule(
                organisation_id=self.agency.organisation_id,
                company_id=company_id,
                basis=CommissionBasis.rate,
                first_year_rate=Decimal("10"),
                valid_from=dt.date(2020, 1, 1),
            )
            db.session.add(rule)
            db.session.commit()
            return rule.id

    def expect(
        self,
        policy_id: int,
        rule_id: int,
        period: dt.date,
        amount: str,
        received: str | None = None,
        status: ExpectedStatus = ExpectedStatus.expected,
    ) -> int:
        notice_id = self.book.notice(policy_id, period, "100.00")
        with self.app.app_context():
            company_id = db.session.get(Policy, policy_id).company_id
            row = ExpectedCommission(
                organisation_id=self.agency.organisation_id,
                premium_notice_id=notice_id,
                rule_id=rule_id,
                policy_id=policy_id,
                company_id=company_id,
                period_start=period,
                base_amount=Decimal("100.00"),
                rate=Decimal("10"),
                amount=Decimal(amount),
                due_on=period,
                status=status,
                received_amount=Decimal(received) if received else None,
            )
            db.session.add(row)
            db.session.commit()
            return row.id

    def statement(self, company_id: int, lines: list[tuple[LineResult, str | None, str | None]]):
        with self.app.app_context():
            statement = CommissionStatement(
                organisation_id=self.agency.organisation_id,
                company_id=company_id,
                period_start=LAST_MONTH,
                period_end=THIS_MONTH - dt.timedelta(days=1),
                file_name="releve.csv",
                sha256=hashlib.sha256(repr(lines).encode()).hexdigest(),
                status=StatementStatus.reconciled,
                tolerance=Decimal("0.50"),
                line_count=len(lines),
                total_commission=Decimal("0.00"),
            )
            for number, (result, received, expected) in enumerate(lines, start=1):
                statement.lines.append(
                    CommissionStatementLine(
                        organisation_id=self.agency.organisation_id,
                        row_number=number,
                        policy_number=f"P{number}",
                        commission=Decimal(received) if received else None,
                        expected_amount=Decimal(expected) if expected else None,
                        result=result,
                    )
                )
            db.session.add(statement)
            db.session.commit()


@pytest.fixture
def book(app, make_organisation):
    agency = Agency(app, make_organisation())
    alpha, beta = agency.insurer("Alpha Assurances"), agency.insurer("Beta Mutuelle")
    made = Commissions(app, agency)
    a1, a2, b1 = made.book.contract(alpha), made.book.contract(alpha), made.book.contract(beta)
    rule_a, rule_b = made.rule(alpha), made.rule(beta)
    made.expect(a1, rule_a, LAST_MONTH, "40.00", "40.00", ExpectedStatus.received)
    made.expect(a2, rule_a, LAST_MONTH, "25.00", "20.00", ExpectedStatus.differs)
    made.expect(a1, rule_a, THIS_MONTH, "40.00")
    made.expect(b1, rule_b, THIS_MONTH, "90.00")
    made.expect(b1, rule_b, LAST_MONTH, "500.00", status=ExpectedStatus.cancelled)  # left out
    made.statement(
        alpha,
        [
            (LineResult.matched, "40.00", "40.00"),
            (LineResult.amount_differs, "20.00", "25.00"),
            (LineResult.unknown, "30.00", None),
            (LineResult.missing, None, "12.00"),
            (LineResult.missing, None, "8.00"),
        ],
    )
    other = Agency(app, make_organisation())
    others = Commissions(app, other)
    gamma = other.insurer("Gamma")
    others.expect(others.book.contract(gamma), others.rule(gamma), THIS_MONTH, "999.00")
    numbers = {}
    with app.app_context():
        for key, policy_id in (("a1", a1), ("a2", a2), ("b1", b1)):
            numbers[key] = db.session.get(Policy, policy_id).number
    return {"agency": agency, "alpha": alpha, "beta": beta, "numbers": numbers}


def scope(organisation_id: int, company_id: int | None = None) -> Scope:
    return Scope(organisation_id, company_id, START, END, TODAY, db.session.get_bind().dialect.name)


def test_expected_and_received_per_month_insurer_difference_and_contract(app, book):
    with app.app_context():
        data = commissions_on(db.session, scope(book["agency"].organisation_id))
    months = dict(zip(data.months, zip(data.expected, data.received, strict=True), strict=True))
    assert months[LAST_MONTH] == (Decimal("65.00"), Decimal("60.00"))
    assert months[THIS_MONTH] == (Decimal("130.00"), Decimal("0.00"))
    assert data.total_expected == Decimal("195.00")
    assert [(row.name, row.expected, row.received) for row in data.by_insurer] == [
        ("Alpha Assurances", Decimal("105.00"), Decimal("60.00")),
        ("Beta Mutuelle", Decimal("90.00"), Decimal("0.00")),
    ]
    assert [(row.result, row.lines, row.gap) for row in data.differences] == [
        (LineResult.amount_differs, 1, Decimal("-5.00")),
        (LineResult.missing, 2, Decimal("-20.00")),
        (LineResult.unknown, 1, Decimal("30.00")),
    ]
    numbers = book["numbers"]
    assert [(row.number, row.amount) for row in data.top] == [
        (numbers["b1"], Decimal("90.00")),
        (numbers["a1"], Decimal("80.00")),
        (numbers["a2"], Decimal("25.00")),
    ]


def test_one_insurer_alone(app, book):
    with app.app_context():
        data = commissions_on(db.session, scope(book["agency"].organisation_id, book["beta"]))
    assert [row.name for row in data.by_insurer] == ["Beta Mutuelle"]
    assert data.total_expected == Decimal("90.00") and data.differences == []


def test_the_manager_sees_the_card_of_the_agency(app, http, login, make_user, book):
    login(make_user("MANAGER", book["agency"].organisation_id))
    page = http.get("/dashboard/?months=6").get_data(as_text=True)
    assert page.count('id="card-commissions"') == 1
    assert sum(column_values(page, "chart-commissions")) == Decimal("195.00")
    table = html.unescape(
        re.search(r'id="table-commission-differences">(.*?)</table>', page, re.S).group(1)
    )
    assert "Montant différent" in table or "Amount differs" in table
    top = re.search(r'id="table-commission-top">(.*?)</table>', page, re.S).group(1)
    assert top.index(book["numbers"]["b1"]) < top.index(book["numbers"]["a1"])
    assert "Gamma" not in page and "999,00" not in page
