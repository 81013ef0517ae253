"""The rules' view of a stored contract: its facts, and the day it is for its agency."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from app.models import ClientKind, ContractUse, Policy
from app.services.renewals.facts import DEFAULT_NOTICE_MONTHS, Avis, ContractFacts
from app.services.timezones import local_today, organisation_zone


def agency_today(session: Session, organisation_id: int | None) -> dt.date:
    """Today in the agency's time zone: deadlines are calendar days where the agency is."""
    return local_today(organisation_zone(session, organisation_id))


def facts_for(
    policy: Policy,
    *,
    situation_changed_on: dt.date | None = None,
    claim_cancellation_notified_on: dt.date | None = None,
    with_avis: bool = True,
) -> ContractFacts:
    """The facts app/services/renewals/rules.py reads, from the policy and its renewal cycles.

    Each renewal cycle is what is known of the avis for its échéance (sent on a day, or not
    sent); échéances before the first cycle are unknown to the rules, not "no avis".
    ``with_avis=False`` leaves the cycles unread, for questions about the contract alone
    (a list asking it per row must not load every row's cycles).
    """
    day, month = policy.echeance_day_month()
    return ContractFacts(
        effective_on=policy.effective_date,
        echeance_day=day,
        echeance_month=month,
        line=policy.line_of_business.value,
        client_kind=(policy.client.kind or ClientKind.person).value,
        # Unflushed rows have no column defaults yet: read them as the defaults.
        use=(policy.use or ContractUse.consumer).value,
        tacit_renewal=policy.tacit_renewal is not False,
        notice_months=policy.notice_months or DEFAULT_NOTICE_MONTHS,
        borrower=bool(policy.borrower),
        group_contract=bool(policy.group_contract),
        avis=tuple(Avis(cycle.echeance, cycle.avis_sent_on) for cycle in policy.renewal_cycles)
        if with_avis
        else (),
        situation_changed_on=situation_changed_on,
        claim_cancellation_notified_on=claim_cancellation_notified_on,
    )
