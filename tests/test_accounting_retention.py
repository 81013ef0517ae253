"""Accounting past its legal retention, deleted through `flask purge` (Code de commerce L123-22).

An agency keeps its accounting ``retention_accounting_years`` (10, the law's minimum) after
the closing of each financial year (the calendar year): a notice of year Y may go from
1 January of Y + 11, and only when its client was erased or its contract's retention is
over. A payment goes when all its notices go; the dry run lists and deletes nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import (
    Allocation,
    AuditLog,
    Client,
    Company,
    LineOfBusiness,
    NoticeKind,
    Organisation,
    Payment,
    PaymentMethod,
    Policy,
    PolicyStatus,
    PremiumNotice,
    Task,
)
from app.services.purge.accounting import first_kept_day, year_past_retention
from app.services.renewals.contracts import agency_today
from app.services.storage import open_store
from tests.purge_factory import using_store


@pytest.fixture
def store(app, tmp_path):
    with using_store(app, open_store(f"osfs://{tmp_path}")) as store:
        yield store


# Code de commerce L123-22: kept 10 years from the closing of the financial year (31 Dec).
@pytest.mark.parametrize(
    ("year", "today", "years", "past"),
    [
        (2015, dt.date(2026, 1, 1), 10, True),  # closed 2015-12-31, kept through 2025
        (2015, dt.date(2025, 12, 31), 10, False),  # the last day of its 10 years
        (2016, dt.date(2026, 12, 31), 10, False),  # 10 years after its closing: still kept
        (2016, dt.date(2027, 1, 1), 10, True),
        (2015, dt.date(2026, 6, 1), 12, False),  # an agency keeping longer than the law
        (2013, dt.date(2026, 6, 1), 12, True),
    ],
)
def test_a_financial_year_is_past_retention_after_its_years_from_closing(year, today, years, past):
    assert year_past_retention(year, today, years) is past
    # The day that separates the two is the first day of the oldest kept year.
    assert (dt.date(year, 12, 31) < first_kept_day(today, years)) is past


def purge(app, *args: str):
    return app.test_cli_runner().invoke(args=["purge", *args])


class Agency:
    """One agency's clients, contracts, notices and payments, made directly as rows."""

    def __init__(self, app, organisation_id: int) -> None:
        self.app, self.id = app, organisation_id
        with app.app_context():
            self.today = agency_today(db.session, organisation_id)
            company = Company(organisation_id=organisation_id, name="Assureur", code="AS")
            db.session.add(company)
            db.session.commit()
            self.company_id = company.id
        self.count = 0

    def contract(self, *, erased: bool, status: PolicyStatus, expiry: dt.date) -> int:
        self.count += 1
        with self.app.app_context():
            client = Client(organisation_id=self.id, last_name=f"Client{self.count}")
            db.session.add(client)
            db.session.flush()
            if erased:
                client.erased_at = dt.datetime(self.today.year - 1, 1, 1)
            policy = Policy(
                organisation_id=self.id,
                number=f"POL-{self.id}-{self.count}",
                client_id=client.id,
                company_id=self.company_id,
                line_of_business=LineOfBusiness.auto,
                status=status,
                effective_date=dt.date(self.today.year - 20, 1, 1),
                expiry_date=expiry,
                premium=Decimal("100.00"),
            )
            db.session.add(policy)
            db.session.commit()
            return policy.id

    def notice(self, policy_id: int, due_on: dt.date) -> int:
        self.count += 1
        with self.app.app_context():
            notice = PremiumNotice(
                organisation_id=self.id,
                policy_id=policy_id,
                number=f"AV-{self.id}-{self.count}",
                kind=NoticeKind.one_off,
                period_start=due_on,
                period_end=due_on + dt.timedelta(days=30),
                due_on=due_on,
                pay_by=due_on + dt.timedelta(days=10),
                amount_before_tax=Decimal("90.00"),
                taxes=Decimal("10.00"),
                total=Decimal("100.00"),
            )
            db.session.add(notice)
            db.session.flush()
            # A task about the notice: it goes with it.
            db.session.add(
                Task(
                    organisation_id=self.id,
                    title="Relancer",
                    due_on=due_on,
                    premium_notice_id=notice.id,
                )
            )
            db.session.commit()
            return notice.id

    def payment(self, received_on: dt.date, *notice_ids: int) -> int:
        with self.app.app_context():
            client_id = db.session.scalar(
                select(Policy.client_id)
                .join(PremiumNotice, PremiumNotice.policy_id == Policy.id)
                .where(PremiumNotice.id == notice_ids[0])
            )
            payment = Payment(
                organisation_id=self.id,
                client_id=client_id,
                amount=Decimal("100.00") * len(notice_ids),
                allocated_amount=Decimal("100.00") * len(notice_ids),
                received_on=received_on,
                method=PaymentMethod.transfer,
            )
            db.session.add(payment)
            db.session.flush()
            for notice_id in notice_ids:
                db.session.add(
                    Allocation(
                        organisation_id=self.id,
                        payment_id=payment.id,
                        premium_notice_id=notice_id,
                        amount=Decimal("100.00"),
                    )
                )
            db.session.commit()
            return payment.id


def existing(app, model, ids) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(select(model.id).where(model.id.in_(ids))))


def test_dry_run_lists_and_apply_deletes_only_the_accounting_past_retention(
    app, store, make_organisation
):
    agency, other = Agency(app, make_organisation()), Agency(app, make_organisation())
    year = agency.today.year
    old = dt.date(year - 11, 12, 31)  # financial year closed 10 years ago and a day
    recent = dt.date(year - 10, 1, 1)  # its 10 years end on 31 December of this year
    # An erased client whose contract ended two years ago: the erasure settles it.
    erased = agency.contract(
        erased=True, status=PolicyStatus.expired, expiry=dt.date(year - 2, 6, 1)
    )
    gone = agency.notice(erased, old)
    paid_alone = agency.payment(old, gone)
    split_a, split_b = agency.notice(erased, old), agency.notice(erased, dt.date(year - 12, 3, 1))
    paid_twice = agency.payment(dt.date(year - 11, 4, 1), split_a, split_b)
    # An old notice paid together with a kept one waits, with its payment.
    waits = agency.notice(erased, old)
    kept = agency.notice(erased, recent)
    spans = agency.payment(old, waits, kept)  # paid in a past year, with a kept notice
    nine_years = agency.notice(erased, dt.date(year - 9, 5, 1))
    # An old notice paid late, in a year still kept, waits for its payment's year.
    paid_late = agency.notice(erased, old)
    late = agency.payment(recent, paid_late)
    # A former client (not erased) whose contract ended 6 years ago: past its 5 years.
    ended = agency.contract(
        erased=False, status=PolicyStatus.cancelled, expiry=dt.date(year - 6, 1, 1)
    )
    ended_notice = agency.notice(ended, dt.date(year - 15, 1, 1))
    # A live client: its history stays, however old.
    live = agency.contract(erased=False, status=PolicyStatus.active, expiry=dt.date(year + 1, 1, 1))
    live_notice = agency.notice(live, dt.date(year - 14, 1, 1))
    live_payment = agency.payment(dt.date(year - 14, 1, 2), live_notice)
    # Another agency's erased client: not in this purge's scope.
    elsewhere = other.contract(
        erased=True, status=PolicyStatus.expired, expiry=dt.date(year - 2, 6, 1)
    )
    elsewhere_notice = other.notice(elsewhere, old)

    notices = {
        gone,
        split_a,
        split_b,
        waits,
        kept,
        nine_years,
        paid_late,
        ended_notice,
        live_notice,
        elsewhere_notice,
    }
    payments = {paid_alone, paid_twice, spans, late, live_payment}
    going_notices = {gone, split_a, split_b, ended_notice}

    dry = purge(app, "--organisation-id", str(agency.id))
    assert dry.exit_code == 0, dry.output
    assert f"accounting of financial years up to {year - 11}" in dry.output
    assert "4 premium notice(s), 2 payment(s)" in dry.output
    assert "Code de commerce L123-22" in dry.output
    assert "4 accounting premium notice(s) past retention" in dry.output
    assert existing(app, PremiumNotice, notices) == notices
    assert existing(app, Payment, payments) == payments

    applied = purge(app, "--apply", "--organisation-id", str(agency.id))
    assert applied.exit_code == 0, applied.output
    assert existing(app, PremiumNotice, notices) == notices - going_notices
    assert existing(app, Payment, payments) == {spans, late, live_payment}
    with app.app_context():
        assert not db.session.scalars(
            select(Allocation.id).where(Allocation.premium_notice_id.in_(going_notices))
        ).all()
        assert not db.session.scalars(
            select(Task.id).where(Task.premium_notice_id.in_(going_notices))
        ).all()
        # The waiting notice keeps its allocation to the payment that also pays a kept one.
        assert db.session.scalar(select(Allocation.id).where(Allocation.premium_notice_id == waits))
        entry = db.session.scalars(
            select(AuditLog.changes).where(
                AuditLog.action == "accounting.purged", AuditLog.organisation_id == agency.id
            )
        ).one()
        summary = db.session.scalars(
            select(AuditLog.changes).where(AuditLog.action == "purge.run")
        ).all()[-1]
    assert (entry["notices"], entry["payments"], entry["allocations"], entry["tasks"]) == (
        4,
        2,
        3,
        4,
    )
    assert entry["years"] == 10 and entry["first_kept_day"] == f"{year - 10}-01-01"
    assert summary["accounting_notices"] == 4

    again = purge(app, "--apply", "--organisation-id", str(agency.id))
    assert "0 accounting premium notice(s) past retention" in again.output


def test_an_agency_keeping_longer_keeps_its_eleven_year_old_accounting(
    app, store, make_organisation
):
    agency = Agency(app, make_organisation())
    with app.app_context():
        db.session.execute(
            update(Organisation)
            .where(Organisation.id == agency.id)
            .values(retention_accounting_years=12)
        )
        db.session.commit()
    year = agency.today.year
    erased = agency.contract(
        erased=True, status=PolicyStatus.expired, expiry=dt.date(year - 2, 6, 1)
    )
    eleven, thirteen = (
        agency.notice(erased, dt.date(year - 11, 6, 1)),
        agency.notice(erased, dt.date(year - 13, 12, 31)),
    )
    result = purge(app, "--apply", "--organisation-id", str(agency.id))
    assert result.exit_code == 0, result.output
    assert existing(app, PremiumNotice, {eleven, thirteen}) == {eleven}


def test_accounting_retention_below_the_law_is_refused(
    app, http, make_organisation, make_user, auth_headers
):
    org = make_organisation()
    headers = auth_headers(make_user("SUPERADMIN"))
    path = f"/api/v1/organisation/{org}"
    assert http.get(path, headers=headers).json["result"]["retention_accounting_years"] == 10
    refused = http.put(path, json={"retention_accounting_years": 9}, headers=headers)
    assert refused.status_code == 422
    assert "L123-22" in str(refused.json)
    changed = http.put(path, json={"retention_accounting_years": 12}, headers=headers)
    assert changed.status_code == 200, changed.json
    with app.app_context():
        assert db.session.get(Organisation, org).retention_accounting_years == 12
