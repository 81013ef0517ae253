"""The demo agency's commission rules and a sample insurer statement with planted differences.

``add_demo_collections`` gives the insurers their bank accounts and has clients pay
last month's notices of one insurer, so a remittance bordereau of last month has lines
(and its transfer file an account to go to). The demo portfolio's dates follow the day it
is loaded, so its statement cannot be a fixed file: ``sample_statement`` writes, for an
insurer and a month, the CSV that insurer would send, built from the expected commissions
due that month with three differences planted (one amount changed, one commission left
out, one contract the agency does not know). ``flask monassurance demo-statement`` saves
it, and the demo agency's statement upload screen offers it, for a new user to upload.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Collection,
    CommissionBasis,
    CommissionDue,
    CommissionRule,
    Company,
    ExpectedCommission,
    ExpectedStatus,
    LineOfBusiness,
    NoticeStatus,
    PaymentMethod,
    Policy,
    PremiumNotice,
)
from app.services.commissions import expected
from app.services.premiums.payments import record_payment

# code -> (first-year %, later years %, due, claw-back year 1 %, year 2 %), and a line rule.
RULES = {
    "ATL": (Decimal("15"), Decimal("10"), CommissionDue.on_issue, Decimal("100"), Decimal("50")),
    "MTV": (Decimal("12"), Decimal("12"), CommissionDue.on_payment, Decimal("50"), None),
    "GAR": (Decimal("20"), Decimal("8"), CommissionDue.on_issue, Decimal("100"), None),
}
HEALTH_RULE = ("GAR", LineOfBusiness.health, Decimal("10"), Decimal("10"))
PLANTED_DIFFERENCE = Decimal("7.50")
# Valid French IBANs (RIB key and check digits) of no real account.
INSURER_IBANS = {
    "ATL": "FR7630004000010001234560167",
    "MTV": "FR7610278080000002223330264",
    "GAR": "FR7613135000800004445550345",
}
REMITTED_INSURER = "ATL"
SHOWN_STATEMENT_INSURER = "GAR"  # not ATL: the new user uploads ATL's statement of the month
PAID_LAST_MONTH = 8
UNKNOWN_POLICY = "INCONNU-2024-001"


def add_demo_rules(session: Session, organisation_id: int, valid_from: dt.date) -> int:
    """One rule per demo insurer (and a health rule for one): the count added."""
    companies = {
        company.code: company
        for company in session.scalars(
            select(Company).where(Company.organisation_id == organisation_id)
        )
    }
    added = 0
    for code, (first, later, due, claw1, claw2) in RULES.items():
        company = companies.get(code)
        if company is None:
            continue
        session.add(
            CommissionRule(
                organisation_id=organisation_id,
                company_id=company.id,
                basis=CommissionBasis.rate,
                first_year_rate=first,
                later_years_rate=later,
                due=due,
                valid_from=valid_from,
                clawback_first_year=claw1,
                clawback_second_year=claw2,
            )
        )
        added += 1
    code, line, first, later = HEALTH_RULE
    if code in companies:
        session.add(
            CommissionRule(
                organisation_id=organisation_id,
                company_id=companies[code].id,
                line_of_business=line,
                basis=CommissionBasis.rate,
                first_year_rate=first,
                later_years_rate=later,
                valid_from=valid_from,
                note="Santé : taux unique négocié",
            )
        )
        added += 1
    return added


def sample_statement(
    session: Session, organisation_id: int, company_id: int, first: dt.date, last: dt.date
) -> bytes:
    """The insurer's statement of the month as CSV (French layout), three differences planted.

    Needs at least three expected commissions due in the month.
    """
    rows = session.execute(
        select(
            Policy.number,
            PremiumNotice.period_start,
            PremiumNotice.amount_before_tax,
            ExpectedCommission.amount,
        )
        .join(PremiumNotice, PremiumNotice.id == ExpectedCommission.premium_notice_id)
        .join(Policy, Policy.id == ExpectedCommission.policy_id)
        .where(
            ExpectedCommission.organisation_id == organisation_id,
            ExpectedCommission.company_id == company_id,
            ExpectedCommission.status == ExpectedStatus.expected,
            ExpectedCommission.due_on.between(first, last),
        )
        .order_by(Policy.number, PremiumNotice.period_start)
    ).all()
    if len(rows) < 3:
        raise ValueError("fewer than three commissions are due that month")
    lines = [list(row) for row in rows]
    lines.pop(len(lines) // 2)  # left out: "expected, missing"
    lines[0][3] = lines[0][3] + PLANTED_DIFFERENCE  # "amount differs"
    lines.append([UNKNOWN_POLICY, first, Decimal("250.00"), Decimal("30.00")])  # "unknown"
    out = ["N° police;Période;Prime HT;Commission"]
    for policy, start, premium, commission in lines:
        out.append(f"{policy};{start:%m/%Y};{_fr(premium)};{_fr(commission)}")
    return ("\r\n".join(out) + "\r\n").encode("utf-8")


def _fr(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",")


def add_demo_collections(session: Session, organisation_id: int, today: dt.date) -> int:
    """Bank accounts for the insurers, and up to eight of last month's notices of one insurer
    paid by transfer within last month; the expected commissions brought up to date. The
    count of notices paid."""
    companies = {
        company.code: company
        for company in session.scalars(
            select(Company).where(Company.organisation_id == organisation_id)
        )
    }
    for code, iban in INSURER_IBANS.items():
        if code in companies:
            companies[code].iban = iban
    last = today.replace(day=1) - dt.timedelta(days=1)
    first = last.replace(day=1)
    company = companies.get(REMITTED_INSURER)
    paid = 0
    if company is not None:
        notices = session.scalars(
            select(PremiumNotice)
            .join(Policy, Policy.id == PremiumNotice.policy_id)
            .where(
                PremiumNotice.organisation_id == organisation_id,
                Policy.company_id == company.id,
                PremiumNotice.collection == Collection.broker,
                PremiumNotice.status.in_((NoticeStatus.issued, NoticeStatus.unpaid)),
                PremiumNotice.due_on.between(first, last),
            )
            .order_by(PremiumNotice.due_on, PremiumNotice.id)
            .limit(PAID_LAST_MONTH)
        ).all()
        for number, notice in enumerate(notices, start=1):
            record_payment(
                session,
                organisation_id,
                amount=notice.balance,
                received_on=min(notice.due_on + dt.timedelta(days=3), last),
                method=PaymentMethod.transfer,
                reference=f"VIR DEMO {number + 1:04d}",
                client_id=notice.policy.client_id,
                today=today,
                allocations=[(notice.id, notice.balance)],
            )
            paid += 1
    expected.refresh(session, organisation_id)
    return paid


def add_demo_statement_and_bordereau(
    session: Session, organisation_id: int, today: dt.date
) -> None:
    """Garonne's statement of this month already reconciled (so the statement screens show
    one), and last month's Atlantique bordereau drafted, for the new user to issue."""
    from app.services.commissions import remittances, statements
    from app.services.errors import DomainError

    companies = {
        company.code: company
        for company in session.scalars(
            select(Company).where(Company.organisation_id == organisation_id)
        )
    }
    first = today.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    shown = companies.get(SHOWN_STATEMENT_INSURER)
    if shown is not None:
        try:
            data = sample_statement(
                session, organisation_id, shown.id, first, following - dt.timedelta(days=1)
            )
        except ValueError:
            data = None  # too few commissions due this month: no statement to show
        if data is not None:
            statements.import_statement(
                session,
                organisation_id,
                company_id=shown.id,
                period=f"{first:%Y-%m}",
                data=data,
                file_name=f"releve-{shown.code}-{first:%Y-%m}.csv",
                user_id=None,
            )
    remitted = companies.get(REMITTED_INSURER)
    if remitted is not None:
        last = first - dt.timedelta(days=1)
        # Nothing collected last month (DomainError): no bordereau to draft.
        with contextlib.suppress(DomainError):
            remittances.create(
                session,
                organisation_id,
                company_id=remitted.id,
                period_from=last.replace(day=1),
                period_to=last,
            )
