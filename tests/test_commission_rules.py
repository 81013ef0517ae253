"""Commission rules: which one applies, what it yields, the expected commissions kept in step
with the notices (audited), claw-back on an early cancellation, and /api/v1/commission_rule/."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditLog,
    CommissionBasis,
    CommissionDue,
    CommissionRule,
    ExpectedCommission,
    ExpectedStatus,
    NoticeStatus,
    PaymentFrequency,
    Policy,
    PremiumNotice,
)
from app.services.commissions import expected
from app.services.commissions.rules import (
    ContractFacts,
    RuleFacts,
    clawback_share,
    compute,
    contract_year,
    resolve,
)
from app.services.premiums import issuing
from tests.conftest import user_organisation

RULES = "/api/v1/commission_rule/"


def facts(rule_id: int, **kw) -> RuleFacts:
    values = {
        "company_id": 1,
        "line_of_business": None,
        "product": None,
        "policy_id": None,
        "basis": CommissionBasis.rate,
        "first_year_rate": Decimal("20"),
        "later_years_rate": Decimal("10"),
        "fixed_amount": None,
        "due": CommissionDue.on_issue,
        "valid_from": dt.date(2020, 1, 1),
        "valid_to": None,
        **kw,
    }
    return RuleFacts(id=rule_id, **values)


CONTRACT = ContractFacts(
    policy_id=7,
    company_id=1,
    line_of_business="auto",
    product="Auto Confort",
    effective_date=dt.date(2026, 3, 15),
)
INSURER = facts(1)
LINE = facts(2, line_of_business="auto")
PRODUCT = facts(3, product="auto  confort")
CONTRACT_RULE = facts(4, policy_id=7)


@pytest.mark.parametrize(
    ("rules", "expected_id"),
    [
        ([INSURER], 1),
        ([INSURER, LINE], 2),
        ([INSURER, LINE, PRODUCT], 3),
        ([CONTRACT_RULE, INSURER, LINE, PRODUCT], 4),
        ([facts(5, line_of_business="home"), INSURER], 1),  # another line: not this contract
        ([facts(6, product="Habitation"), LINE], 2),
        ([facts(8, policy_id=99), INSURER], 1),  # another contract's override
        ([facts(9, company_id=2)], None),  # another insurer's rule
        # Renegotiated: the later valid rule of the same rank wins; an ended one is ignored.
        ([INSURER, facts(10, valid_from=dt.date(2026, 1, 1))], 10),
        ([facts(11, valid_to=dt.date(2026, 3, 31)), INSURER], 1),
    ],
)
def test_the_most_specific_valid_rule_applies(rules, expected_id):
    rule = resolve(rules, CONTRACT, dt.date(2026, 4, 15))
    assert (rule.id if rule else None) == expected_id


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (dt.date(2026, 3, 15), 1),
        (dt.date(2027, 3, 14), 1),
        (dt.date(2027, 3, 15), 2),
        (dt.date(2029, 1, 1), 3),
    ],
)
def test_contract_years_run_from_the_effective_date(day, year):
    assert contract_year(dt.date(2026, 3, 15), day) == year


def test_first_year_and_later_rates_and_fixed_amounts():
    first = compute(INSURER, CONTRACT, dt.date(2026, 4, 15), Decimal("100.05"))
    assert (first.first_year, first.rate, first.amount) == (True, Decimal("20"), Decimal("20.01"))
    later = compute(INSURER, CONTRACT, dt.date(2027, 4, 15), Decimal("100.00"))
    assert (later.first_year, later.amount) == (False, Decimal("10.00"))
    fixed = facts(12, basis=CommissionBasis.fixed, fixed_amount=Decimal("15.00"))
    assert compute(fixed, CONTRACT, dt.date(2026, 4, 15), Decimal("80")).amount == Decimal("15.00")
    refund = compute(INSURER, CONTRACT, dt.date(2026, 4, 15), Decimal("-50.00"))
    assert refund.amount == Decimal("-10.00")


def test_claw_back_share_by_contract_year():
    rule = facts(13, clawback_first_year=Decimal("100"), clawback_second_year=Decimal("50"))
    effective = CONTRACT.effective_date
    assert clawback_share(rule, effective, dt.date(2026, 9, 1)) == Decimal(1)
    assert clawback_share(rule, effective, dt.date(2027, 9, 1)) == Decimal("0.5")
    assert clawback_share(rule, effective, dt.date(2028, 9, 1)) == Decimal(0)


# --- with the database ------------------------------------------------------------------


@pytest.fixture
def manager(make_user):
    return make_user("MANAGER")


@pytest.fixture
def agency(app, manager, portfolio):
    """A monthly contract that started three months ago, its notices issued to date."""
    organisation_id = user_organisation(app, manager)
    ids = portfolio(organisation_id)
    today = dt.date.today()
    with app.app_context():
        policy = db.session.get(Policy, ids["policy"])
        policy.payment_frequency = PaymentFrequency.monthly
        policy.effective_date = today.replace(day=1) - dt.timedelta(days=80)
        policy.effective_date = policy.effective_date.replace(day=1)
        policy.expiry_date = policy.effective_date.replace(year=policy.effective_date.year + 1)
        db.session.flush()
        issuing.issue_due(
            db.session, policy_id=policy.id, until=today + dt.timedelta(days=20), today=today
        )
        db.session.commit()
    return {"organisation": organisation_id, **ids}


def add_rule(app, agency, **kw) -> int:
    with app.app_context():
        values = {
            "basis": CommissionBasis.rate,
            "first_year_rate": Decimal("15"),
            "later_years_rate": Decimal("10"),
            "valid_from": dt.date(2020, 1, 1),
            **kw,
        }
        rule = CommissionRule(
            organisation_id=agency["organisation"], company_id=agency["company"], **values
        )
        db.session.add(rule)
        db.session.commit()
        return rule.id


def expectations(app, agency) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(
            select(
                PremiumNotice.number,
                PremiumNotice.amount_before_tax,
                ExpectedCommission.amount,
                ExpectedCommission.status,
                ExpectedCommission.clawback_amount,
                ExpectedCommission.rule_id,
            )
            .join(PremiumNotice, PremiumNotice.id == ExpectedCommission.premium_notice_id)
            .where(ExpectedCommission.policy_id == agency["policy"])
            .order_by(PremiumNotice.number, ExpectedCommission.id)
        ).all()
        return [tuple(row) for row in rows]


def refresh(app, agency, **kw):
    with app.app_context():
        outcome = expected.refresh(db.session, agency["organisation"], **kw)
        db.session.commit()
        return outcome


def test_each_notice_expects_its_commission_and_a_refresh_is_idempotent(app, agency):
    add_rule(app, agency)
    first = refresh(app, agency)
    rows = expectations(app, agency)
    assert first.created == len(rows) >= 3
    for _number, before_tax, amount, status, _clawback, _rule in rows:
        assert amount == (before_tax * Decimal("0.15")).quantize(Decimal("0.01"))
        assert status is ExpectedStatus.expected
    again = refresh(app, agency)
    assert again.as_dict() == {"created": 0, "updated": 0, "cancelled": 0}
    with app.app_context():
        audited = db.session.scalar(
            select(func.count()).where(
                AuditLog.object_type == "ExpectedCommission", AuditLog.action == "create"
            )
        )
        assert audited == len(rows)


def test_a_more_specific_rule_replaces_the_old_expectation_and_keeps_it(app, agency):
    add_rule(app, agency)
    refresh(app, agency)
    override = add_rule(app, agency, policy_id=agency["policy"], first_year_rate=Decimal("25"))
    outcome = refresh(app, agency)
    rows = expectations(app, agency)
    live = [row for row in rows if row[3] is ExpectedStatus.expected]
    assert {row[5] for row in live} == {override}
    assert outcome.cancelled == len(live) == len(rows) - len(live)


def test_a_cancelled_notice_cancels_its_commission(app, agency):
    add_rule(app, agency)
    refresh(app, agency)
    with app.app_context():
        notice = db.session.scalars(
            select(PremiumNotice).where(PremiumNotice.policy_id == agency["policy"])
        ).first()
        notice.status = NoticeStatus.cancelled
        number = notice.number
        db.session.commit()
    refresh(app, agency, changed_since=dt.datetime(2000, 1, 1))
    statuses = {row[0]: row[3] for row in expectations(app, agency)}
    assert statuses[number] is ExpectedStatus.cancelled
    assert list(statuses.values()).count(ExpectedStatus.cancelled) == 1


def test_a_contract_cancelled_in_its_first_year_claws_back(
    app, http, agency, manager, auth_headers
):
    add_rule(app, agency, clawback_first_year=Decimal("100"), clawback_second_year=Decimal("50"))
    refresh(app, agency)
    today = dt.date.today()
    answer = http.post(
        "/api/v1/cancellation/",
        json={
            "policy_id": agency["policy"],
            "ground": "change_of_situation",
            "situation_changed_on": (today - dt.timedelta(days=5)).isoformat(),
            "requested_on": today.isoformat(),
            "received_on": today.isoformat(),
        },
        headers=auth_headers(manager),
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    rows = expectations(app, agency)
    clawed = [row for row in rows if row[3] is ExpectedStatus.clawed_back]
    assert clawed, rows
    for row in clawed:
        assert row[4] == row[2]  # 100 % of the first year's commission is owed back


def test_the_rule_api_validates_recomputes_and_is_scoped(
    app, http, agency, manager, auth_headers, make_user, portfolio
):
    headers = auth_headers(manager)
    body = {
        "company_id": agency["company"],
        "basis": "rate",
        "first_year_rate": "12.50",
        "later_years_rate": "8",
        "due": "on_issue",
        "valid_from": "2020-01-01",
    }
    created = http.post(RULES, json=body, headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert expectations(app, agency), "saving a rule recomputes its insurer's expectations"
    bad = http.post(RULES, json={**body, "first_year_rate": "120"}, headers=headers)
    assert bad.status_code == 422
    assert "first_year_rate" in bad.json["message"]
    no_rate = http.post(RULES, json={**body, "first_year_rate": None}, headers=headers)
    assert no_rate.status_code == 422
    # Another agency's insurer is an unknown id; its user does not see this rule.
    other_manager = make_user("MANAGER")
    other = portfolio(user_organisation(app, other_manager), suffix="9")
    foreign = http.post(RULES, json={**body, "company_id": other["company"]}, headers=headers)
    assert foreign.status_code == 422
    other_headers = auth_headers(other_manager)
    rule_id = created.json["id"]
    assert http.get(f"{RULES}{rule_id}", headers=other_headers).status_code == 404
    # A plain user has no access to the agency's revenue.
    user = make_user("USER", agency["organisation"])
    assert http.get(RULES, headers=auth_headers(user)).status_code == 403
    # A rule is ended, not deleted.
    assert http.delete(f"{RULES}{rule_id}", headers=headers).status_code in (404, 405)
    ended = http.put(f"{RULES}{rule_id}", json={"valid_to": "2020-06-30"}, headers=headers)
    assert ended.status_code == 200, ended.get_data(as_text=True)
    assert {row[3] for row in expectations(app, agency)} == {ExpectedStatus.cancelled}
