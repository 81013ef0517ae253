"""Expected commissions, recomputed from the premium notices and the rules.

``refresh`` is idempotent: it computes what each notice should earn now and writes
only the differences, through the ORM so that every change is audited
(app/services/audit.py lists ExpectedCommission). A notice keeps one live expected
commission: when another rule comes to apply, the old row is cancelled (kept, with its
history) and a new one is created. The daily premium run refreshes what changed since
the day before; recording a cancellation refreshes its contract (the claw-back); a
change of rules refreshes its insurer's notices.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from app.models import (
    Allocation,
    Cancellation,
    CommissionRule,
    ExpectedCommission,
    ExpectedStatus,
    NoticeStatus,
    Payment,
    PaymentStatus,
    Policy,
    PremiumNotice,
)
from app.models.commission import CommissionDue
from app.services.commissions.rules import (
    CENT,
    ContractFacts,
    RuleFacts,
    clawback_share,
    compute,
    in_same_contract_year,
    resolve,
)

CHUNK = 500
# Settled by a statement: a refresh changes their amounts but not what the insurer said.
SETTLED = (ExpectedStatus.received, ExpectedStatus.differs)


@dataclass
class Refreshed:
    created: int = 0
    updated: int = 0
    cancelled: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "cancelled": self.cancelled}


def rule_facts(rule: CommissionRule) -> RuleFacts:
    return RuleFacts(
        id=rule.id,
        company_id=rule.company_id,
        line_of_business=rule.line_of_business.value if rule.line_of_business else None,
        product=rule.product,
        policy_id=rule.policy_id,
        basis=rule.basis,
        first_year_rate=rule.first_year_rate,
        later_years_rate=rule.later_years_rate,
        fixed_amount=rule.fixed_amount,
        due=rule.due,
        valid_from=rule.valid_from,
        valid_to=rule.valid_to,
        clawback_first_year=rule.clawback_first_year,
        clawback_second_year=rule.clawback_second_year,
    )


def refresh(
    session: Session,
    organisation_id: int,
    *,
    policy_ids: Sequence[int] | None = None,
    company_id: int | None = None,
    changed_since: dt.datetime | None = None,
) -> Refreshed:
    """Bring the expected commissions of an agency's notices up to date (no commit).

    Narrowed to some contracts, one insurer, or the notices changed since a moment (and
    those that have no expected commission yet).
    """
    rules = [
        rule_facts(rule)
        for rule in session.scalars(
            select(CommissionRule).where(CommissionRule.organisation_id == organisation_id)
        )
    ]
    by_company: dict[int, list[RuleFacts]] = defaultdict(list)
    for rule in rules:
        by_company[rule.company_id].append(rule)
    outcome = Refreshed()
    query = (
        select(
            PremiumNotice.id,
            PremiumNotice.policy_id,
            PremiumNotice.period_start,
            PremiumNotice.amount_before_tax,
            PremiumNotice.status,
            PremiumNotice.issued_on,
            PremiumNotice.due_on,
            Policy.company_id,
            Policy.line_of_business,
            Policy.product,
            Policy.effective_date,
        )
        .join(Policy, Policy.id == PremiumNotice.policy_id)
        .where(
            PremiumNotice.organisation_id == organisation_id,
            PremiumNotice.status != NoticeStatus.draft,
        )
        .order_by(PremiumNotice.id)
    )
    if policy_ids is not None:
        query = query.where(PremiumNotice.policy_id.in_(list(policy_ids)))
    if company_id is not None:
        query = query.where(Policy.company_id == company_id)
    if changed_since is not None:
        no_row = ~exists().where(ExpectedCommission.premium_notice_id == PremiumNotice.id)
        query = query.where((PremiumNotice.updated_at >= changed_since) | no_row)
    notices = session.execute(query).all()
    for chunk in _chunks(notices, CHUNK):
        _refresh_chunk(session, organisation_id, chunk, by_company, outcome)
    session.flush()
    return outcome


def _refresh_chunk(
    session: Session,
    organisation_id: int,
    notices: Sequence[Any],
    by_company: dict[int, list[RuleFacts]],
    outcome: Refreshed,
) -> None:
    notice_ids = [row.id for row in notices]
    policy_ids = sorted({row.policy_id for row in notices})
    existing: dict[int, list[ExpectedCommission]] = defaultdict(list)
    for row in session.scalars(
        select(ExpectedCommission).where(ExpectedCommission.premium_notice_id.in_(notice_ids))
    ):
        existing[row.premium_notice_id].append(row)
    paid_on = _paid_dates(session, [row.id for row in notices if row.status is NoticeStatus.paid])
    ended_on = dict(
        session.execute(
            select(Cancellation.policy_id, Cancellation.effective_on).where(
                Cancellation.policy_id.in_(policy_ids)
            )
        ).all()
    )
    for notice in notices:
        contract = ContractFacts(
            policy_id=notice.policy_id,
            company_id=notice.company_id,
            line_of_business=notice.line_of_business.value,
            product=notice.product,
            effective_date=notice.effective_date,
        )
        rule = resolve(by_company.get(notice.company_id, ()), contract, notice.period_start)
        rows = existing.get(notice.id, [])
        for row in rows:
            if (rule is None or row.rule_id != rule.id) and row.status is ExpectedStatus.expected:
                row.status = ExpectedStatus.cancelled
                outcome.cancelled += 1
        if rule is None:
            continue
        computed = compute(rule, contract, notice.period_start, notice.amount_before_tax)
        if rule.due is CommissionDue.on_issue:
            due_on = notice.issued_on or notice.due_on
        else:
            due_on = paid_on.get(notice.id)
        status, clawback = _wanted_status(rule, contract, notice, computed.amount, ended_on)
        row = next((r for r in rows if r.rule_id == rule.id), None)
        if row is None:
            session.add(
                ExpectedCommission(
                    organisation_id=organisation_id,
                    premium_notice_id=notice.id,
                    rule_id=rule.id,
                    policy_id=notice.policy_id,
                    company_id=notice.company_id,
                    period_start=notice.period_start,
                    first_year=computed.first_year,
                    base_amount=computed.base_amount,
                    rate=computed.rate,
                    amount=computed.amount,
                    due_on=due_on,
                    status=status,
                    clawback_amount=clawback,
                )
            )
            outcome.created += 1
            continue
        values = {
            "period_start": notice.period_start,
            "first_year": computed.first_year,
            "base_amount": computed.base_amount,
            "rate": computed.rate,
            "amount": computed.amount,
            "due_on": due_on,
            "clawback_amount": clawback,
        }
        if row.status not in SETTLED or status is not ExpectedStatus.expected:
            values["status"] = status
        changed = False
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
                changed = True
        if changed:
            outcome.updated += 1


def _wanted_status(
    rule: RuleFacts,
    contract: ContractFacts,
    notice: Any,
    amount: Decimal,
    ended_on: dict[int, dt.date],
) -> tuple[ExpectedStatus, Decimal | None]:
    if notice.status is NoticeStatus.cancelled:
        return ExpectedStatus.cancelled, None
    end = ended_on.get(notice.policy_id)
    if end is not None and in_same_contract_year(contract.effective_date, notice.period_start, end):
        share = clawback_share(rule, contract.effective_date, end)
        if share > 0:
            clawback = (amount * share).quantize(CENT, rounding=ROUND_HALF_UP)
            return ExpectedStatus.clawed_back, clawback
    return ExpectedStatus.expected, None


def _paid_dates(session: Session, notice_ids: list[int]) -> dict[int, dt.date]:
    """The day each paid notice's last payment was received (when a commission on payment
    falls due)."""
    if not notice_ids:
        return {}
    rows = session.execute(
        select(Allocation.premium_notice_id, func.max(Payment.received_on))
        .join(
            Payment,
            and_(Payment.id == Allocation.payment_id, Payment.status == PaymentStatus.received),
        )
        .where(Allocation.premium_notice_id.in_(notice_ids))
        .group_by(Allocation.premium_notice_id)
    ).all()
    return dict(rows)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
