"""The client's cancellation rights under the Code des assurances: dates in, dates and reasons out.

Pure: the standard library only, no Flask, no database. Each rule, its article and the
assumptions it makes are in docs/domain-rules.md; the table of cases is
tests/test_renewal_rules.py. All delays are calendar days or months: weekends and public
holidays never move a date. Months are added with the day clamped to the month's end
(31 Jan + 1 month = 28/29 Feb), as délais expressed in months are counted in French law.
"""

from __future__ import annotations

import datetime as dt
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass

from app.services.renewals.facts import (
    BASIS,
    DEFAULT_NOTICE_MONTHS,
    Avis,
    ClientKind,
    ContractFacts,
    Ground,
    GroundResult,
    Line,
    Reason,
    RuleRefusal,
    Use,
)

__all__ = [
    "BASIS",
    "Avis",
    "ChatelWindow",
    "ClientKind",
    "ContractFacts",
    "Ground",
    "GroundResult",
    "Line",
    "Reason",
    "RuleRefusal",
    "Use",
    "add_months",
    "cancellation_effect",
    "cancellation_rights",
    "chatel_applies",
    "chatel_window",
    "echeance_in",
    "insurer_after_claim_effective_on",
    "last_day_to_refuse",
    "next_echeance",
    "previous_echeance",
]

CHATEL_LATE_DAYS = 15  # L113-15-1: avis sent "moins de quinze jours avant cette date"
CHATEL_WINDOW_DAYS = 20  # L113-15-1: "un délai de vingt jours suivant la date d'envoi"
RIA_FROM = dt.date(2020, 12, 1)  # loi 2019-733, décret 2020-1438
LEMOINE_NEW_LOANS_FROM = dt.date(2022, 6, 1)  # loi 2022-270 art. 8 I
LEMOINE_ALL_CONTRACTS_FROM = dt.date(2022, 9, 1)  # loi 2022-270 art. 8 II
BORROWER_EFFECT_DAYS = 10  # L113-12-2: ten days after the insurer receives the lender's decision
HAMON_LINES = frozenset({Line.auto, Line.home})


@dataclass(frozen=True)
class ChatelWindow:
    """The L113-15-1 reading of one avis: late, and until when the client may refuse renewal."""

    echeance: dt.date
    last_day_to_refuse: dt.date
    sent_on: dt.date
    applies: bool  # False for contracts outside Chatel: nothing below is then owed
    late: bool
    too_early: bool
    window_ends_on: dt.date | None


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months``, the day clamped to the month's end (31 Mar − 1 = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, monthrange(year, month)[1]))


def echeance_in(facts: ContractFacts, year: int) -> dt.date:
    """The main échéance of ``year`` (29 Feb → 28 Feb in a common year)."""
    last = monthrange(year, facts.echeance_month)[1]
    return dt.date(year, facts.echeance_month, min(facts.echeance_day, last))


def next_echeance(facts: ContractFacts, on: dt.date) -> dt.date:
    """The first échéance strictly after ``on`` and after the contract starts."""
    ref = max(on, facts.effective_on)
    candidate = echeance_in(facts, ref.year)
    return candidate if candidate > ref else echeance_in(facts, ref.year + 1)


def previous_echeance(facts: ContractFacts, on: dt.date) -> dt.date | None:
    """The last renewal on or before ``on`` (None before the first one, or without renewal)."""
    if not facts.tacit_renewal:
        return None
    candidate = echeance_in(facts, on.year)
    if candidate > on:
        candidate = echeance_in(facts, on.year - 1)
    return candidate if candidate > facts.effective_on else None


def last_day_to_refuse(echeance: dt.date, notice_months: int = DEFAULT_NOTICE_MONTHS) -> dt.date:
    """The last postmark date to refuse renewal: the échéance minus the notice, same day clamped.

    L113-12 asks for "au moins deux mois avant la date d'échéance", counted backwards from
    the échéance: 1 Jan → 1 Nov; 31 Jan → 30 Nov; 30 Apr → 28/29 Feb; 28 Feb → 28 Dec.
    """
    return add_months(echeance, -notice_months)


def chatel_window(
    facts: ContractFacts,
    avis_sent_on: dt.date,
    echeance: dt.date | None = None,
    *,
    outer_months: int | None = None,
) -> ChatelWindow:
    """How L113-15-1 reads an avis sent on ``avis_sent_on`` for ``echeance``.

    ``echeance`` defaults to the first échéance on or after the sending date; pass it for an
    avis sent after its échéance. Late: sent less than 15 days before the last day to refuse,
    or after it; the client then has 20 days from the sending date. ``outer_months`` (None by
    default: unconfirmed for insurance) treats an avis sent earlier than that many months
    before the last day as not informing the client at all.
    """
    if echeance is None:
        echeance = next_echeance(facts, avis_sent_on - dt.timedelta(days=1))
    last_day = last_day_to_refuse(echeance, facts.notice_months)
    applies = _chatel_exclusion(facts) is None
    late = applies and (last_day - avis_sent_on).days < CHATEL_LATE_DAYS
    too_early = (
        applies and outer_months is not None and avis_sent_on < add_months(last_day, -outer_months)
    )
    window = avis_sent_on + dt.timedelta(days=CHATEL_WINDOW_DAYS) if late else None
    return ChatelWindow(echeance, last_day, avis_sent_on, applies, late, too_early, window)


def insurer_after_claim_effective_on(notified_on: dt.date) -> dt.date:
    """R113-10 al. 1: the insurer's after-claim cancellation takes effect one month after notice."""
    return add_months(notified_on, 1)


def cancellation_rights(
    facts: ContractFacts, on: dt.date, *, outer_months: int | None = None
) -> list[GroundResult]:
    """Every ground on ``on``, open or not, for a request sent and received that day."""
    if on < facts.effective_on:
        return [_closed(ground, Reason.before_contract_start) for ground in Ground]
    return [_RULES[ground](facts, on, on, outer_months) for ground in Ground]


def cancellation_effect(
    facts: ContractFacts,
    ground: Ground | str,
    requested_on: dt.date,
    received_on: dt.date,
    *,
    substitute_starts_on: dt.date | None = None,
    outer_months: int | None = None,
) -> GroundResult:
    """The effective date and basis of a request sent (postmark) and received on those dates.

    Raises :class:`RuleRefusal` when the ground does not apply. For ``borrower``,
    ``received_on`` is the day the insurer receives the lender's acceptance of the
    substitute contract, which starts on ``substitute_starts_on`` when known.
    """
    ground = Ground(ground)
    basis = BASIS[ground]
    if requested_on < facts.effective_on:
        raise RuleRefusal(Reason.before_contract_start, basis)
    if received_on < requested_on:
        raise RuleRefusal(Reason.received_before_requested, basis)
    result = _RULES[ground](facts, requested_on, received_on, outer_months)
    if not result.open:
        raise RuleRefusal(result.reason, basis)
    if ground is Ground.borrower and substitute_starts_on and result.effective_on:
        return _opened(ground, max(result.effective_on, substitute_starts_on), result.reason)
    return result


# --- one function per ground: (facts, sent, received, outer_months) -> GroundResult ---------


def _closed(ground: Ground, reason: Reason) -> GroundResult:
    return GroundResult(ground, False, None, BASIS[ground], reason)


def _opened(ground: Ground, effective_on: dt.date, reason: Reason) -> GroundResult:
    return GroundResult(ground, True, effective_on, BASIS[ground], reason)


def _annual(facts: ContractFacts, sent: dt.date, _r: dt.date, _o: int | None) -> GroundResult:
    if facts.line is Line.life:
        return _closed(Ground.annual, Reason.life_insurance_excluded)
    if facts.borrower:
        return _closed(Ground.annual, Reason.borrower_own_regime)
    if not facts.tacit_renewal:
        return _closed(Ground.annual, Reason.not_tacitly_renewed)
    # A notice too late for the coming échéance is still "at least two months" before the next.
    echeance = next_echeance(facts, sent)
    while last_day_to_refuse(echeance, facts.notice_months) < sent:
        echeance = echeance_in(facts, echeance.year + 1)
    return _opened(Ground.annual, echeance, Reason.at_echeance)


def chatel_applies(facts: ContractFacts) -> bool:
    """True when the loi Chatel protects the contract (a consumer's, tacitly renewed, not life
    or group): only then is a late avis d'échéance a fault with consequences."""
    return _chatel_exclusion(facts) is None


def _chatel_exclusion(facts: ContractFacts) -> Reason | None:
    if not facts.tacit_renewal:
        return Reason.not_tacitly_renewed
    if facts.line is Line.life:
        return Reason.life_insurance_excluded
    if facts.group_contract:
        return Reason.group_contract_excluded
    if facts.client_kind is ClientKind.business:
        return Reason.legal_person_excluded
    if not facts.consumer:
        return Reason.professional_use_excluded
    return None


def _avis_as_of(
    facts: ContractFacts, echeance: dt.date, on: dt.date, outer: int | None
) -> ChatelWindow | None | bool:
    """The avis for ``echeance`` as the client knew it on ``on``.

    A window when a conforming avis was sent by then; False when none was (recorded as not
    sent, sent later, or too early to count); None when nothing is recorded.
    """
    record = next((a for a in facts.avis if a.echeance == echeance), None)
    if record is None:
        return None
    if record.sent_on is None or record.sent_on > on:
        return False
    window = chatel_window(facts, record.sent_on, echeance, outer_months=outer)
    return False if window.too_early else window


def _chatel(facts: ContractFacts, sent: dt.date, _r: dt.date, outer: int | None) -> GroundResult:
    excluded = _chatel_exclusion(facts)
    if excluded is not None:
        return _closed(Ground.chatel, excluded)
    earlier: Reason | None = None  # what the last renewal says when nothing is open
    previous = previous_echeance(facts, sent)
    if previous is not None:
        # The renewal that already happened: without a conforming avis, at any time (al. 2).
        before = _avis_as_of(facts, previous, sent, outer)
        day_after = sent + dt.timedelta(days=1)
        if before is False:
            return _opened(Ground.chatel, day_after, Reason.no_avis_since_renewal)
        window_end = before.window_ends_on if isinstance(before, ChatelWindow) else None
        if window_end is not None and sent <= window_end:
            # The renewal has happened: it cannot end before the request (assumption).
            return _opened(Ground.chatel, day_after, Reason.late_avis_window)
        if before is None:
            earlier = Reason.previous_avis_unknown
        elif window_end is not None:
            earlier = Reason.late_avis_window_closed
    coming = next_echeance(facts, sent)
    ahead = _avis_as_of(facts, coming, sent, outer)
    if isinstance(ahead, ChatelWindow):
        if ahead.window_ends_on is None:
            reason = Reason.avis_sent_in_time
        elif sent <= ahead.window_ends_on:
            return _opened(Ground.chatel, coming, Reason.late_avis_window)
        else:
            reason = Reason.late_avis_window_closed
    elif sent > last_day_to_refuse(coming, facts.notice_months):
        reason = Reason.avis_overdue
    else:
        reason = Reason.renewal_pending
    # What the last renewal says (a gap in the record, a closed window) beats "nothing yet".
    if earlier is not None and reason is Reason.renewal_pending:
        reason = earlier
    return _closed(Ground.chatel, reason)


def _hamon(facts: ContractFacts, _s: dt.date, received: dt.date, _o: int | None) -> GroundResult:
    if facts.line not in HAMON_LINES and not facts.affinity:
        return _closed(Ground.hamon, Reason.line_not_covered)
    return _after_first_year(facts, Ground.hamon, received, consumer_only=True)


def _health(facts: ContractFacts, _s: dt.date, received: dt.date, _o: int | None) -> GroundResult:
    if facts.line is not Line.health:
        return _closed(Ground.health_ria, Reason.line_not_covered)
    if received < RIA_FROM:
        return _closed(Ground.health_ria, Reason.before_ria_start)
    # L113-15-2 al. 5: a group contract's souscripteur (the employer) holds the right too.
    return _after_first_year(
        facts, Ground.health_ria, received, consumer_only=not facts.group_contract
    )


def _after_first_year(
    facts: ContractFacts, ground: Ground, received: dt.date, *, consumer_only: bool
) -> GroundResult:
    if consumer_only and facts.client_kind is ClientKind.business:
        return _closed(ground, Reason.legal_person_excluded)
    if consumer_only and not facts.consumer:
        return _closed(ground, Reason.professional_use_excluded)
    if not facts.tacit_renewal:
        return _closed(ground, Reason.not_tacitly_renewed)
    # The year of cover ends on the first anniversary (29 Feb 2024 → 28 Feb 2025).
    if received < add_months(facts.effective_on, 12):
        return _closed(ground, Reason.before_first_anniversary)
    return _opened(ground, add_months(received, 1), Reason.after_first_year)


def _borrower(
    facts: ContractFacts, sent: dt.date, received: dt.date, _o: int | None
) -> GroundResult:
    if not facts.borrower:
        return _closed(Ground.borrower, Reason.not_borrower_insurance)
    new_loan = facts.effective_on >= LEMOINE_NEW_LOANS_FROM
    opens = LEMOINE_NEW_LOANS_FROM if new_loan else LEMOINE_ALL_CONTRACTS_FROM
    if sent < opens:
        return _closed(Ground.borrower, Reason.before_lemoine_start)
    effective = received + dt.timedelta(days=BORROWER_EFFECT_DAYS)
    return _opened(Ground.borrower, effective, Reason.at_any_time)


def _change(facts: ContractFacts, sent: dt.date, received: dt.date, _o: int | None) -> GroundResult:
    if facts.line is Line.life:
        return _closed(Ground.change_of_situation, Reason.life_insurance_excluded)
    event = facts.situation_changed_on
    if event is None:
        return _closed(Ground.change_of_situation, Reason.no_change_of_situation)
    if sent < event:
        return _closed(Ground.change_of_situation, Reason.before_change_of_situation)
    if sent > add_months(event, 3):
        return _closed(Ground.change_of_situation, Reason.change_of_situation_too_old)
    effective = add_months(received, 1)
    return _opened(Ground.change_of_situation, effective, Reason.within_three_months_of_change)


def _claim(facts: ContractFacts, sent: dt.date, received: dt.date, _o: int | None) -> GroundResult:
    notified = facts.claim_cancellation_notified_on
    if notified is None:
        return _closed(Ground.after_claim, Reason.no_claim_cancellation)
    if sent < notified:
        return _closed(Ground.after_claim, Reason.before_claim_cancellation)
    if sent > add_months(notified, 1):
        return _closed(Ground.after_claim, Reason.claim_cancellation_too_old)
    effective = add_months(received, 1)
    return _opened(Ground.after_claim, effective, Reason.within_one_month_of_claim_cancellation)


_Rule = Callable[[ContractFacts, dt.date, dt.date, int | None], GroundResult]

_RULES: dict[Ground, _Rule] = {
    Ground.annual: _annual,
    Ground.chatel: _chatel,
    Ground.hamon: _hamon,
    Ground.health_ria: _health,
    Ground.borrower: _borrower,
    Ground.change_of_situation: _change,
    Ground.after_claim: _claim,
}
