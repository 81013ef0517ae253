"""Renewal cycles: opened ahead of each échéance, then proposed, notified and renewed.

A cycle follows one échéance of one tacitly renewed contract in force (active or
suspended). It opens when the échéance comes within the agency's lead time
(``Organisation.renewal_lead_days``, 90 days by default): at once when a contract is
created or changed so (app/services/renewals/terms.py), else by the daily task
(``open_due_cycles``, set-based and idempotent: the unique (policy, échéance) key and
INSERT … ON CONFLICT DO NOTHING keep two workers or a re-run from doubling a cycle).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models import (
    NoticeChannel,
    Organisation,
    Policy,
    PolicyStatus,
    RenewalCycle,
    RenewalDecision,
    RenewalStatus,
    Term,
)
from app.models.policy import MAX_PREMIUM
from app.services import audit
from app.services.errors import ConflictError, InvalidRequestError
from app.services.renewals.contracts import facts_for
from app.services.renewals.rules import chatel_window, last_day_to_refuse
from app.services.renewals.terms import next_term
from app.services.timezones import local_today, zone

# Contracts whose échéance is worked on: in force, even if cover is suspended.
LIVE = (PolicyStatus.active, PolicyStatus.suspended)
INSERT_BATCH = 1000


def lead_horizon(today: dt.date, lead_days: int) -> dt.date:
    return today + dt.timedelta(days=lead_days)


def is_due(policy: Policy, today: dt.date, lead_days: int) -> bool:
    """Whether this contract's coming échéance needs its cycle now."""
    return (
        policy.status in LIVE
        and policy.tacit_renewal is not False
        and today <= policy.expiry_date <= lead_horizon(today, lead_days)
    )


def new_cycle(policy: Policy, echeance: dt.date) -> RenewalCycle:
    return RenewalCycle(
        echeance=echeance,
        last_day_to_refuse=last_day_to_refuse(echeance, policy.notice_months or 2),
        previous_premium=policy.premium,
        status=RenewalStatus.open,
    )


def open_cycle_if_due(session: Session, policy: Policy) -> RenewalCycle | None:
    """Open the cycle of this contract's coming échéance if it is due and not open yet.

    Called in the flush that creates or changes the contract. An open cycle left on an
    échéance the contract no longer has (dates edited, contract ended) is closed.
    """
    for cycle in policy.renewal_cycles:
        stale = cycle.echeance != policy.expiry_date or policy.status not in LIVE
        if cycle.status is RenewalStatus.open and stale:
            cycle.status = RenewalStatus.closed
    if policy.organisation_id is None:
        return None
    organisation = session.get(Organisation, policy.organisation_id)
    if organisation is None:
        return None
    today = local_today(zone(organisation.timezone))
    if not is_due(policy, today, organisation.renewal_lead_days):
        return None
    if any(cycle.echeance == policy.expiry_date for cycle in policy.renewal_cycles):
        return None
    cycle = new_cycle(policy, policy.expiry_date)
    policy.renewal_cycles.append(cycle)
    return cycle


def cycle_for(policy: Policy) -> RenewalCycle:
    """The cycle of the contract's coming échéance, opened now if the daily task has not yet."""
    for cycle in policy.renewal_cycles:
        if cycle.echeance == policy.expiry_date:
            return cycle
    cycle = new_cycle(policy, policy.expiry_date)
    policy.renewal_cycles.append(cycle)
    return cycle


def open_due_cycles(
    session: Session, *, organisation_id: int | None = None, today: dt.date | None = None
) -> dict[int, int]:
    """Open every due cycle not open yet, per agency; returns {organisation id: cycles opened}.

    ``today`` defaults to each agency's own date. One audit entry per agency that got
    cycles (the rows themselves are inserted in bulk, not one ORM object each).
    """
    query = select(Organisation.id, Organisation.timezone, Organisation.renewal_lead_days)
    if organisation_id is not None:
        query = query.where(Organisation.id == organisation_id)
    opened: dict[int, int] = {}
    for org_id, timezone, lead_days in session.execute(query).all():
        day = today or local_today(zone(timezone))
        count = _open_for_organisation(session, org_id, day, lead_days)
        if count:
            opened[org_id] = count
            audit.record(
                session,
                "renewal_cycles_opened",
                "RenewalCycle",
                None,
                {"count": count, "through": lead_horizon(day, lead_days).isoformat()},
                organisation_id=org_id,
            )
    return opened


def propose(
    cycle: RenewalCycle,
    *,
    proposed_premium: Decimal | None = None,
    decision: RenewalDecision | None = None,
    reason: str | None = None,
) -> RenewalCycle:
    """Set the proposed premium (and its change) and the decision of an open cycle."""
    _require_open(cycle)
    if proposed_premium is not None:
        proposed_premium = _valid_premium(proposed_premium)
        cycle.proposed_premium = proposed_premium
        cycle.change_percent = change_percent(cycle.previous_premium, proposed_premium)
    if decision is not None:
        if decision is RenewalDecision.renew:
            _require_renewable(cycle.policy)
        cycle.decision = decision
    if reason is not None:
        cycle.decision_reason = reason.strip() or None
    return cycle


def change_percent(previous: Decimal, proposed: Decimal) -> Decimal | None:
    """The premium change in percent, two decimals (None when there was no premium)."""
    if not previous:
        return None
    return ((proposed - previous) * 100 / previous).quantize(Decimal("0.01"))


def record_notice(
    cycle: RenewalCycle,
    *,
    sent_on: dt.date,
    channel: NoticeChannel = NoticeChannel.post,
    document_id: int | None = None,
) -> RenewalCycle:
    """Record the avis d'échéance as sent; a late one opens the Chatel window (L113-15-1)."""
    if cycle.status is RenewalStatus.closed:
        raise ConflictError(_("This renewal is closed."))
    if sent_on > cycle.echeance:
        raise InvalidRequestError(
            _("An avis d'échéance cannot be sent after its échéance."),
            {"sent_on": _("Enter a date on or before %(date)s.", date=cycle.echeance.isoformat())},
        )
    window = chatel_window(facts_for(cycle.policy), sent_on, cycle.echeance)
    cycle.avis_sent_on = sent_on
    cycle.avis_channel = channel
    if document_id is not None:
        cycle.avis_document_id = document_id
    cycle.chatel_window_end = window.window_ends_on if window.applies else None
    return cycle


def renew(cycle: RenewalCycle) -> Term:
    """Renew the contract at this échéance: its next term, at the proposed premium if any."""
    _require_open(cycle)
    policy = cycle.policy
    _require_renewable(policy)
    if cycle.decision in (RenewalDecision.not_renew, RenewalDecision.remarket):
        raise ConflictError(_("This renewal was decided against: change the decision first."))
    if cycle.echeance != policy.expiry_date:
        raise ConflictError(_("The contract's échéance has moved since this renewal was opened."))
    term = next_term(policy, cycle.proposed_premium or cycle.previous_premium)
    cycle.decision = RenewalDecision.renew
    cycle.status = RenewalStatus.renewed
    cycle.term = term
    return term


# --- internals ---------------------------------------------------------------


def _require_open(cycle: RenewalCycle) -> None:
    if cycle.status is not RenewalStatus.open:
        raise ConflictError(_("This renewal is no longer open."))


def _require_renewable(policy: Policy) -> None:
    if policy.status not in LIVE:
        raise InvalidRequestError(_("Only a contract in force can be renewed."))
    if not policy.tacit_renewal:
        raise InvalidRequestError(
            _("This contract is not tacitly renewed: place a new contract instead.")
        )


def _valid_premium(value: Any) -> Decimal:
    try:
        premium = Decimal(str(value))
    except ArithmeticError:
        premium = Decimal("NaN")
    if not premium.is_finite() or premium <= 0 or premium > MAX_PREMIUM:
        raise InvalidRequestError(
            _("The proposed premium must be a positive amount."),
            {"proposed_premium": _("Enter an amount above 0.")},
        )
    return premium.quantize(Decimal("0.01"))


def _open_for_organisation(
    session: Session, organisation_id: int, today: dt.date, lead_days: int
) -> int:
    already = exists().where(
        and_(RenewalCycle.policy_id == Policy.id, RenewalCycle.echeance == Policy.expiry_date)
    )
    due = (
        select(Policy.id, Policy.expiry_date, Policy.premium, Policy.notice_months)
        .where(
            Policy.organisation_id == organisation_id,
            Policy.expiry_date.between(today, lead_horizon(today, lead_days)),
            Policy.status.in_(LIVE),
            Policy.tacit_renewal.is_(True),
            ~already,
        )
        .order_by(Policy.expiry_date, Policy.id)
    )
    count = 0
    batch: list[dict[str, Any]] = []
    for policy_id, echeance, premium, notice_months in session.execute(due).all():
        batch.append(
            {
                "organisation_id": organisation_id,
                "policy_id": policy_id,
                "echeance": echeance,
                "last_day_to_refuse": last_day_to_refuse(echeance, notice_months),
                "previous_premium": premium,
                "status": RenewalStatus.open,
            }
        )
        if len(batch) >= INSERT_BATCH:
            count += _insert_new(session, batch)
            batch = []
    if batch:
        count += _insert_new(session, batch)
    return count


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert the cycles no one inserted meanwhile; returns how many this call added."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = (
        module.insert(RenewalCycle)
        .on_conflict_do_nothing(index_elements=["policy_id", "echeance"])
        .returning(RenewalCycle.id)  # rowcount of a batched insert is not reliable
    )
    return len(session.execute(statement, rows).all())
