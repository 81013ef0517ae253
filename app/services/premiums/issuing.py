"""Issuing premium notices: each term's instalments, a set number of days before they fall due.

The daily task and ``POST /api/v1/premium_notice/issue`` call ``issue_due``. It is
idempotent: a notice is keyed by (term, kind, instalment) and inserted with
ON CONFLICT DO NOTHING, so a re-run or two workers never issue one twice. Without a
policy, instalments due more than BACKDATE_DAYS before today are left alone: the first
run on an existing book does not bill years of history as unpaid; and the terms whose
instalments up to the horizon are all issued are not read at all (a second run is cheap).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Exists, exists, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models import (
    Collection,
    NoticeKind,
    NoticeStatus,
    Organisation,
    Policy,
    PolicyStatus,
    PremiumNotice,
    Term,
    TermStatus,
    UnpaidStage,
)
from app.services import audit
from app.services.premiums.schedule import instalment_schedule
from app.services.premiums.taxes import split_taxes
from app.services.renewals.unpaid import PAYMENT_GRACE_DAYS
from app.services.timezones import local_today, zone

LIVE = (PolicyStatus.active, PolicyStatus.suspended)
BACKDATE_DAYS = 60
INSERT_BATCH = 1000
ZERO = Decimal("0.00")


def notice_number(policy_number: str, term_sequence: int, instalment: int) -> str:
    """POL-1/2-03: the contract, its term and the instalment (unique within the agency)."""
    return f"{policy_number}/{term_sequence}-{instalment:02d}"


def issue_due(
    session: Session,
    *,
    until: dt.date | None = None,
    organisation_id: int | None = None,
    policy_id: int | None = None,
    today: dt.date | None = None,
) -> dict[int, int]:
    """Issue every instalment due up to ``until`` not issued yet; {organisation id: count}.

    ``until`` defaults to each agency's today + its ``premium_issue_days``. With
    ``policy_id`` every instalment of that contract due by then is issued, however old.
    """
    query = select(Organisation.id, Organisation.timezone, Organisation.premium_issue_days)
    if organisation_id is not None:
        query = query.where(Organisation.id == organisation_id)
    issued: dict[int, int] = {}
    for org_id, timezone, issue_days in session.execute(query).all():
        day = today or local_today(zone(timezone))
        horizon = until or day + dt.timedelta(days=issue_days)
        floor = None if policy_id is not None else day - dt.timedelta(days=BACKDATE_DAYS)
        count = _issue_for_organisation(session, org_id, day, horizon, floor, policy_id)
        if count:
            issued[org_id] = count
            audit.record(
                session,
                "premium_notices_issued",
                "PremiumNotice",
                None,
                {"count": count, "until": horizon.isoformat()},
                organisation_id=org_id,
            )
    return issued


def _issue_for_organisation(
    session: Session,
    organisation_id: int,
    today: dt.date,
    horizon: dt.date,
    floor: dt.date | None,
    policy_id: int | None,
) -> int:
    terms = (
        select(
            Term.id,
            Term.sequence,
            Term.start_date,
            Term.end_date,
            Term.premium,
            Policy.id,
            Policy.number,
            Policy.line_of_business,
            Policy.payment_frequency,
            Policy.currency,
        )
        .join(Policy, Policy.id == Term.policy_id)
        .where(
            Policy.organisation_id == organisation_id,
            Policy.status.in_(LIVE),
            Term.status != TermStatus.cancelled,
            Term.start_date <= horizon,
        )
        .order_by(Term.id)
    )
    if floor is not None:
        terms = terms.where(Term.end_date > floor, ~_nothing_left_by(horizon))
    if policy_id is not None:
        terms = terms.where(Policy.id == policy_id)
    count = 0
    batch: list[dict[str, Any]] = []
    for row in session.execute(terms).yield_per(INSERT_BATCH):
        term_id, sequence, start, end, premium, pol_id, number, line, frequency, currency = row
        for instalment in instalment_schedule(premium, frequency, start, end):
            if instalment.due_on > horizon or (floor is not None and instalment.due_on < floor):
                continue
            before_tax, taxes = split_taxes(instalment.total, line)
            batch.append(
                {
                    "organisation_id": organisation_id,
                    "policy_id": pol_id,
                    "term_id": term_id,
                    "number": notice_number(number, sequence, instalment.number),
                    "kind": NoticeKind.instalment,
                    "instalment": instalment.number,
                    "period_start": instalment.period_start,
                    "period_end": instalment.period_end,
                    "due_on": instalment.due_on,
                    "pay_by": instalment.due_on + dt.timedelta(days=PAYMENT_GRACE_DAYS),
                    "amount_before_tax": before_tax,
                    "taxes": taxes,
                    "fees": ZERO,
                    "total": instalment.total,
                    "currency": currency,
                    "collection": Collection.broker,
                    "status": NoticeStatus.issued,
                    "paid_amount": ZERO,
                    "issued_on": today,
                    "stage": UnpaidStage.up_to_date,
                }
            )
        if len(batch) >= INSERT_BATCH:
            count += _insert_new(session, batch)
            batch = []
    if batch:
        count += _insert_new(session, batch)
    return count


def _nothing_left_by(horizon: dt.date) -> Exists:
    """The term has an instalment whose period runs past ``horizon`` (or is its last): no
    instalment of it can fall due by then that is not issued already.

    Instalments are issued in due-date order, so the one covering the horizon being there
    means each earlier one was issued, or fell before the backdating floor and stays
    unissued anyway. A quiet day's re-run then reads only the terms with work left instead
    of recomputing every schedule (docs/benchmarks.md). Runs for one contract, which
    issue however old, do not use it.
    """
    return exists().where(
        PremiumNotice.term_id == Term.id,
        PremiumNotice.kind == NoticeKind.instalment,
        or_(PremiumNotice.period_end > horizon, PremiumNotice.period_end >= Term.end_date),
    )


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> int:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = (
        module.insert(PremiumNotice)
        .on_conflict_do_nothing(index_elements=["term_id", "kind", "instalment"])
        .returning(PremiumNotice.id)
    )
    return len(session.execute(statement, rows).all())
