"""What each rule trigger watches: the records it matches and their anchor date.

A rule fires for a record once its anchor date plus the rule's offset has come
(``anchor + offset_days <= today``), while the record still needs the work (a cycle
still without a decision, a notice still unpaid…). Each trigger is one SELECT over
the agency's records, so a rule costs one query whatever the portfolio's size; the
records that already have the rule's task are left out in the same query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, exists, func, literal, select
from sqlalchemy.orm import Session

from app.models import (
    Claim,
    ClaimDocument,
    ClaimStatus,
    Client,
    Message,
    NoticeStatus,
    Policy,
    PremiumNotice,
    RenewalCycle,
    RenewalStatus,
    Task,
    TaskRule,
    TaskTrigger,
    UnpaidStage,
)
from app.services.premiums import told

CYCLE_TRIGGERS = frozenset(
    {
        TaskTrigger.renewal_cycle_opened,
        TaskTrigger.echeance_without_decision,
        TaskTrigger.avis_not_sent,
    }
)
CLAIM_TRIGGERS = frozenset({TaskTrigger.claim_documents_missing})
# Notices with something left to pay (a refund is money owed by the agency, not a chase).
UNPAID_STATUSES = (NoticeStatus.issued, NoticeStatus.partly_paid, NoticeStatus.unpaid)


@dataclass(frozen=True)
class Candidate:
    """One record a rule would create a task for, with what its title may print."""

    rule_key: str
    anchor: dt.date
    client_id: int
    policy_id: int
    manager_id: int | None
    renewal_cycle_id: int | None = None
    premium_notice_id: int | None = None
    context: dict[str, Any] | None = None
    claim_id: int | None = None


def _client_name(first_name: str | None, last_name: str, company_name: str | None) -> str:
    if company_name:
        return company_name
    return " ".join(part for part in (first_name, last_name) if part)


def _last_day(cutoff: dt.date) -> dt.datetime:
    # created_at is a UTC timestamp; a cycle created on the cutoff day counts.
    return dt.datetime.combine(cutoff + dt.timedelta(days=1), dt.time())


def _cycle_query(rule: TaskRule, cutoff: dt.date, for_messages: bool) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = [RenewalCycle.status == RenewalStatus.open]
    if rule.trigger is TaskTrigger.renewal_cycle_opened:
        anchor: Any = RenewalCycle.created_at
        conditions.append(RenewalCycle.created_at < _last_day(cutoff))
    elif rule.trigger is TaskTrigger.echeance_without_decision:
        anchor = RenewalCycle.echeance
        conditions += [RenewalCycle.decision.is_(None), RenewalCycle.echeance <= cutoff]
    else:  # avis_not_sent
        anchor = RenewalCycle.last_day_to_refuse
        conditions += [
            RenewalCycle.avis_sent_on.is_(None),
            RenewalCycle.last_day_to_refuse <= cutoff,
        ]
    already = (
        exists().where(Message.rule_id == rule.id, Message.renewal_cycle_id == RenewalCycle.id)
        if for_messages
        else exists().where(Task.rule_id == rule.id, Task.renewal_cycle_id == RenewalCycle.id)
    )
    if for_messages:
        conditions.append(_has_email())
    return (
        select(
            RenewalCycle.id,
            anchor.label("anchor"),
            RenewalCycle.echeance,
            RenewalCycle.last_day_to_refuse,
            Policy.id.label("policy_id"),
            Policy.number,
            Policy.manager_id,
            Client.id.label("client_id"),
            Client.first_name,
            Client.last_name,
            Client.company_name,
        )
        .join(Policy, Policy.id == RenewalCycle.policy_id)
        .join(Client, Client.id == Policy.client_id)
        .where(RenewalCycle.organisation_id == rule.organisation_id, *conditions, ~already)
        .order_by(RenewalCycle.id)
    )


def _notice_query(
    rule: TaskRule, today: dt.date, cutoff: dt.date, for_messages: bool
) -> Select[Any]:
    unpaid = and_(
        PremiumNotice.status.in_(UNPAID_STATUSES), PremiumNotice.total > PremiumNotice.paid_amount
    )
    if rule.trigger is TaskTrigger.notice_unpaid:
        anchor: Any = PremiumNotice.due_on
        conditions: list[ColumnElement[bool]] = [unpaid, PremiumNotice.due_on <= cutoff]
    elif rule.trigger is TaskTrigger.notice_formal_possible:
        anchor = PremiumNotice.due_on
        conditions = [
            unpaid,
            PremiumNotice.stage == UnpaidStage.formal_notice_possible,
            PremiumNotice.due_on <= cutoff,
        ]
    else:  # formal_notice_suspension
        anchor = PremiumNotice.suspension_on
        conditions = [
            unpaid,
            PremiumNotice.suspension_on.is_not(None),
            PremiumNotice.suspension_on <= cutoff,
        ]
    already = (
        exists().where(Message.rule_id == rule.id, Message.premium_notice_id == PremiumNotice.id)
        if for_messages
        else exists().where(Task.rule_id == rule.id, Task.premium_notice_id == PremiumNotice.id)
    )
    if for_messages:
        # Narrowed here; candidates() then leaves out, from the rule's moment (in Python,
        # app/services/premiums/told.py), the notices whose client the daily reminders or
        # another rule told since that moment.
        conditions += [_has_email(), told.maybe_untold(today)]
    return (
        select(
            PremiumNotice.id,
            anchor.label("anchor"),
            PremiumNotice.number.label("notice_number"),
            PremiumNotice.due_on,
            PremiumNotice.total,
            PremiumNotice.paid_amount,
            PremiumNotice.currency,
            PremiumNotice.suspension_on,
            PremiumNotice.formal_notice_sent_on,
            PremiumNotice.reminded_on,
            PremiumNotice.relanced_on,
            Policy.id.label("policy_id"),
            Policy.number,
            Policy.manager_id,
            Client.id.label("client_id"),
            Client.first_name,
            Client.last_name,
            Client.company_name,
        )
        .join(Policy, Policy.id == PremiumNotice.policy_id)
        .join(Client, Client.id == Policy.client_id)
        .where(PremiumNotice.organisation_id == rule.organisation_id, *conditions, ~already)
        .order_by(PremiumNotice.id)
    )


def _claim_query(rule: TaskRule, cutoff: dt.date, for_messages: bool) -> Select[Any]:
    """Open claims with a document asked for on or before ``cutoff`` and still not received;
    the anchor is the oldest such request."""
    missing = (
        select(
            ClaimDocument.claim_id,
            func.min(ClaimDocument.requested_on).label("anchor"),
            func.count(ClaimDocument.id).label("missing"),
        )
        .where(
            ClaimDocument.organisation_id == rule.organisation_id,
            ClaimDocument.received_on.is_(None),
            ClaimDocument.requested_on <= cutoff,
        )
        .group_by(ClaimDocument.claim_id)
        .subquery()
    )
    key = literal("claim:") + cast(Claim.id, String)
    already = (
        exists().where(Message.rule_id == rule.id, Message.rule_key == key)
        if for_messages
        else exists().where(Task.rule_id == rule.id, Task.claim_id == Claim.id)
    )
    conditions: list[ColumnElement[bool]] = [Claim.status != ClaimStatus.closed, ~already]
    if for_messages:
        conditions.append(_has_email())
    return (
        select(
            Claim.id,
            Claim.number.label("claim_number"),
            missing.c.anchor,
            missing.c.missing,
            Policy.id.label("policy_id"),
            Policy.number,
            Policy.manager_id,
            Client.id.label("client_id"),
            Client.first_name,
            Client.last_name,
            Client.company_name,
        )
        .join(missing, missing.c.claim_id == Claim.id)
        .join(Policy, Policy.id == Claim.policy_id)
        .join(Client, Client.id == Claim.client_id)
        .where(Claim.organisation_id == rule.organisation_id, *conditions)
        .order_by(Claim.id)
    )


def _claim_candidates(
    session: Session, rule: TaskRule, cutoff: dt.date, for_messages: bool
) -> list[Candidate]:
    return [
        Candidate(
            rule_key=f"claim:{row.id}",
            anchor=row.anchor,
            client_id=row.client_id,
            policy_id=row.policy_id,
            manager_id=row.manager_id,
            claim_id=row.id,
            context={
                **_record_context(row),
                "claim": {"number": row.claim_number, "missing": row.missing},
            },
        )
        for row in session.execute(_claim_query(rule, cutoff, for_messages))
    ]


def _has_email() -> ColumnElement[bool]:
    # A rule's e-mail goes to the record's client: without an address there is nothing to send.
    return and_(Client.email.is_not(None), Client.email != "")


def candidates(
    session: Session, rule: TaskRule, today: dt.date, *, for_messages: bool = False
) -> list[Candidate]:
    """The records ``rule`` fires for on ``today`` and that do not have its task yet.

    ``for_messages``: those whose client has an e-mail address and that do not have the
    rule's message yet (app/services/tasks/mailing.py).
    """
    cutoff = today - dt.timedelta(days=rule.offset_days)
    if rule.trigger in CLAIM_TRIGGERS:
        return _claim_candidates(session, rule, cutoff, for_messages)
    if rule.trigger in CYCLE_TRIGGERS:
        found = []
        for row in session.execute(_cycle_query(rule, cutoff, for_messages)):
            anchor = row.anchor.date() if isinstance(row.anchor, dt.datetime) else row.anchor
            found.append(
                Candidate(
                    rule_key=f"renewal_cycle:{row.id}",
                    anchor=anchor,
                    client_id=row.client_id,
                    policy_id=row.policy_id,
                    manager_id=row.manager_id,
                    renewal_cycle_id=row.id,
                    context={
                        **_record_context(row),
                        "echeance": row.echeance,
                        "last_day_to_refuse": row.last_day_to_refuse,
                    },
                )
            )
        return found
    found = []
    for row in session.execute(_notice_query(rule, today, cutoff, for_messages)):
        if for_messages and told.told_since(row, today, moment(rule, row.anchor)):
            continue
        found.append(
            Candidate(
                rule_key=f"premium_notice:{row.id}",
                anchor=row.anchor,
                client_id=row.client_id,
                policy_id=row.policy_id,
                manager_id=row.manager_id,
                premium_notice_id=row.id,
                context={
                    **_record_context(row),
                    "notice": {
                        "number": row.notice_number,
                        "due_on": row.due_on,
                        "balance": Decimal(row.total) - Decimal(row.paid_amount),
                        "currency": row.currency,
                    },
                    "suspension_on": row.suspension_on,
                },
            )
        )
    return found


def moment(rule: TaskRule, anchor: dt.date) -> dt.date:
    """The day ``rule`` fires for a record anchored on ``anchor``."""
    return anchor + dt.timedelta(days=rule.offset_days)


def _record_context(row: Any) -> dict[str, Any]:
    return {
        "policy": {"number": row.number},
        "client": {"name": _client_name(row.first_name, row.last_name, row.company_name)},
    }


# What a title template may use, per trigger (the rules screen shows it; samples test it).
SAMPLE_CONTEXT: dict[str, Any] = {
    "policy": {"number": "AUTO-2026-001"},
    "client": {"name": "Jeanne Martin"},
    "echeance": dt.date(2026, 3, 1),
    "last_day_to_refuse": dt.date(2026, 1, 1),
    "notice": {
        "number": "Q-2026-0001",
        "due_on": dt.date(2026, 1, 15),
        "balance": Decimal("120.50"),
        "currency": "EUR",
    },
    "suspension_on": dt.date(2026, 3, 1),
    "due_on": dt.date(2026, 1, 20),
    "claim": {"number": "SIN-2026-00001", "missing": 2},
}
