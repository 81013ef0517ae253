"""The terms a document is about, and the renewal an avis d'échéance announces, as plain data.

``term`` is the term covering the render day (app/services/renewals/terms.py ``term_on``):
the period an attestation certifies and the instalments a contract shows. ``renewal`` is
the coming échéance, the end of that term: the term it opens (the one already there when
the contract was renewed ahead, else one year at the proposed premium), its instalments,
and what the law makes the avis say. The cancellation rules themselves stay in
app/services/renewals/rules.py: this module only asks them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from app.models import PaymentFrequency, Policy, RenewalCycle, Term
from app.services.rendering.instalments import CENT, add_months, instalments
from app.services.renewals.contracts import facts_for
from app.services.renewals.facts import DEFAULT_NOTICE_MONTHS, ContractFacts, Ground, Reason
from app.services.renewals.rules import cancellation_rights, chatel_window
from app.services.renewals.terms import term_on

# A ground the rules close only because the first year is not over yet is still a right
# the avis recalls (L113-15-2: "rappelé avec chaque avis d'échéance").
NOT_YET = frozenset({Reason.before_first_anniversary})


def _money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT)


def term_data(
    *,
    sequence: int,
    start: dt.date,
    end: dt.date,
    premium: Decimal,
    status: str,
    frequency: PaymentFrequency | str | None,
) -> dict[str, Any]:
    """One term with its instalments: the annual premium split over the term's dates."""
    premium = _money(premium)
    return {
        "sequence": sequence,
        "start": start,
        "end": end,
        "premium": premium,
        "status": status,
        "instalments": instalments(premium, frequency, start, end),
    }


def _stored_term(term: Term, frequency: PaymentFrequency | str | None) -> dict[str, Any]:
    return term_data(
        sequence=term.sequence,
        start=term.start_date,
        end=term.end_date,
        premium=term.premium,
        status=term.status.value if hasattr(term.status, "value") else term.status,
        frequency=frequency,
    )


def terms_context(
    policy: Policy, today: dt.date, frequency: PaymentFrequency | str | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the current term with its instalments, every term oldest first without them)."""
    current = term_on(policy, today)
    if current is None:
        # A policy always has a term once flushed; read one off the row otherwise.
        single = term_data(
            sequence=1,
            start=policy.effective_date,
            end=policy.expiry_date,
            premium=policy.premium,
            status="open",
            frequency=frequency,
        )
        history = [term_summary(single, current=True)]
        return single, history
    history = [
        term_summary(_stored_term(term, frequency), current=term is current)
        for term in policy.terms
    ]
    return _stored_term(current, frequency), history


def term_summary(term: dict[str, Any], *, current: bool) -> dict[str, Any]:
    """A term of the history: its dates, premium and status, without instalments."""
    return {
        **{key: value for key, value in term.items() if key != "instalments"},
        "current": current,
    }


def renewal_data(
    facts: ContractFacts,
    *,
    echeance: dt.date,
    coming: dict[str, Any],
    previous_premium: Decimal,
    sent_on: dt.date,
    renewed: bool,
    last_day_to_refuse: dt.date | None = None,
) -> dict[str, Any]:
    """The renewal at ``echeance`` as an avis sent on ``sent_on`` states it.

    ``coming`` is the term the échéance opens (``term_data``). Chatel's reading of the
    sending date (late, window end) and whether Hamon and santé's RIA apply are the rules'
    (app/services/renewals/rules.py), for the facts of this contract.
    """
    window = chatel_window(facts, sent_on, echeance)
    rights = {result.ground: result for result in cancellation_rights(facts, echeance)}

    def recalled(ground: Ground) -> bool:
        result = rights[ground]
        return result.open or result.reason in NOT_YET

    return {
        "echeance": echeance,
        "start": coming["start"],
        "end": coming["end"],
        "premium": coming["premium"],
        "previous_premium": _money(previous_premium),
        "instalments": coming["instalments"],
        "renewed": renewed,
        "tacit_renewal": facts.tacit_renewal,
        "notice_months": facts.notice_months,
        "last_day_to_refuse": last_day_to_refuse or window.last_day_to_refuse,
        "avis_sent_on": sent_on,
        "late": window.applies and window.late,
        "chatel_window_end": window.window_ends_on if window.applies else None,
        "chatel_applies": window.applies,
        "annual": rights[Ground.annual].open,
        "hamon": recalled(Ground.hamon),
        "health_ria": recalled(Ground.health_ria),
    }


def renewal_context(
    policy: Policy, today: dt.date, frequency: PaymentFrequency | str | None
) -> dict[str, Any]:
    """The coming échéance of ``policy`` seen on ``today``.

    The échéance is the end of the term covering today (the policy's ``expiry_date`` unless
    the contract was renewed ahead). Its renewal cycle, when one exists, gives the proposed
    premium, the last day to refuse and the day the avis was recorded as sent; without
    one, the avis is projected as sent today.
    """
    current = term_on(policy, today)
    echeance = current.end_date if current is not None else policy.expiry_date
    current_premium = current.premium if current is not None else policy.premium
    cycle: RenewalCycle | None = next(
        (cycle for cycle in policy.renewal_cycles if cycle.echeance == echeance), None
    )
    following = next((term for term in policy.terms if term.start_date == echeance), None)
    if following is not None:
        coming = _stored_term(following, frequency)
    else:
        proposed = cycle.proposed_premium if cycle is not None else None
        coming = term_data(
            sequence=(current.sequence + 1) if current is not None else 2,
            start=echeance,
            end=add_months(echeance, 12),
            premium=proposed or current_premium,
            status="projected",
            frequency=frequency,
        )
    sent_on = cycle.avis_sent_on if cycle is not None and cycle.avis_sent_on else today
    return renewal_data(
        facts_for(policy),
        echeance=echeance,
        coming=coming,
        previous_premium=current_premium,
        sent_on=sent_on,
        renewed=following is not None,
        last_day_to_refuse=cycle.last_day_to_refuse if cycle is not None else None,
    )


def sample_renewal(
    *,
    line: str,
    effective: dt.date,
    expiry: dt.date,
    premium: Decimal,
    proposed_premium: Decimal,
    frequency: PaymentFrequency,
    today: dt.date,
) -> dict[str, Any]:
    """The renewal of the sample policy (previews), read by the same rules."""
    facts = ContractFacts(
        effective_on=effective,
        echeance_day=expiry.day,
        echeance_month=expiry.month,
        line=line,
        notice_months=DEFAULT_NOTICE_MONTHS,
    )
    coming = term_data(
        sequence=2,
        start=expiry,
        end=add_months(expiry, 12),
        premium=proposed_premium,
        status="projected",
        frequency=frequency,
    )
    return renewal_data(
        facts,
        echeance=expiry,
        coming=coming,
        previous_premium=premium,
        sent_on=today,
        renewed=False,
    )
