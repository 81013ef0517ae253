"""When a client's data may be erased, and when retention says it must be: pure rules.

Everything here is a function of plain facts (``ClientFacts``) and a day, so the rules
are read and tested as tables (tests/test_privacy_rules.py). The sources:

- Open contract. RGPD art. 6(1)(b) and 17(3)(b): data needed to perform a contract are
  not erased while it runs. A contract is open while its status is draft, active or
  suspended, or until its end day (a cancellation's effective day, else its expiry) has
  passed: a contract cancelled for 30 June still covers the client until then.
- Claim not prescribed. Code des assurances L114-1: actions arising from the contract are
  prescribed two years after the loss became known; ``Claim.prescription_on`` is the
  first prescribed day (app/services/claims/rules.py). A claim still being handled
  (not closed) holds whatever its dates; a closed one holds until its prescription day.
- Accounting period not over. Code de commerce L123-12: the books are closed at the end
  of the financial year (the calendar year here), and L123-22 keeps their entries ten
  years. Erasure keeps the entries (ids, amounts, dates) but removes who paid; that is
  refused while money is still owed either way (an issued, partly paid or unpaid notice)
  or while an entry of the client (a notice due, a payment received) falls in the
  current, unclosed year.
- Open complaint. ACPR recommendation 2022-R-01: the agency answers every complaint
  and keeps its register; a complaint without its answer holds.

Retention (CNIL, durées de conservation en assurance; defaults in ../shared/domain.md):
a prospect (a client who never had a contract) is anonymised ``prospect_years`` after
the last contact; a former client ``contract_years`` after the end of their last
contract; either only once no claim of theirs can still be pursued
(``claim_years`` after its prescription day) and no hold above applies.
The day a period ends is the day the data goes: 3 years after 5 March 2023 is 5 March
2026, due that day, not the day before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

OPEN_CONTRACT = "open_contract"
CLAIM_NOT_PRESCRIBED = "claim_not_prescribed"
ACCOUNTING_OPEN = "accounting_open"
OPEN_COMPLAINT = "open_complaint"
HOLD_KINDS = (OPEN_CONTRACT, CLAIM_NOT_PRESCRIBED, ACCOUNTING_OPEN, OPEN_COMPLAINT)

OPEN_CONTRACT_STATUSES = frozenset({"draft", "active", "suspended"})
OPEN_NOTICE_STATUSES = frozenset({"issued", "partly_paid", "unpaid"})


@dataclass(frozen=True)
class ContractFact:
    number: str
    status: str  # PolicyStatus value
    end: dt.date  # the cancellation's effective day, else the expiry date


@dataclass(frozen=True)
class ClaimFact:
    number: str
    closed: bool
    prescription_on: dt.date  # the first prescribed day (L114-1)


@dataclass(frozen=True)
class NoticeFact:
    number: str
    status: str  # NoticeStatus value
    due_on: dt.date


@dataclass(frozen=True)
class ClientFacts:
    contracts: Sequence[ContractFact] = ()
    claims: Sequence[ClaimFact] = ()
    notices: Sequence[NoticeFact] = ()
    payment_days: Sequence[dt.date] = ()  # when the client's payments were received
    open_complaints: int = 0
    last_contact: dt.date | None = None  # its last change, e-mail, proposal, quote, DER or FIC


@dataclass(frozen=True)
class Hold:
    kind: str
    what: str  # the contract, claim or notice number, or a count

    def __str__(self) -> str:
        return f"{self.kind}: {self.what}"


@dataclass(frozen=True)
class RetentionYears:
    """An agency's retention periods (Organisation.retention_*), in whole years."""

    prospect_years: int = 3
    contract_years: int = 5
    claim_years: int = 0

    def __post_init__(self) -> None:
        # A negative period would anonymise clients before their data even ages.
        if min(self.prospect_years, self.contract_years, self.claim_years) < 0:
            raise ValueError("retention periods cannot be negative")


@dataclass(frozen=True)
class Due:
    """A client retention says to anonymise today, and why (kept in the purge report)."""

    reason: str
    since: dt.date  # the first day it was due
    holds: Sequence[Hold] = field(default_factory=tuple)


def legal_holds(facts: ClientFacts, today: dt.date) -> list[Hold]:
    """What forbids erasing this client today (empty: it may be erased)."""
    holds = [
        Hold(OPEN_CONTRACT, contract.number)
        for contract in facts.contracts
        if contract.status in OPEN_CONTRACT_STATUSES or today < contract.end
    ]
    holds += [
        Hold(CLAIM_NOT_PRESCRIBED, claim.number)
        for claim in facts.claims
        if not claim.closed or today < claim.prescription_on
    ]
    owed = [notice.number for notice in facts.notices if notice.status in OPEN_NOTICE_STATUSES]
    holds += [Hold(ACCOUNTING_OPEN, number) for number in owed]
    entries = [notice.due_on for notice in facts.notices] + list(facts.payment_days)
    if not owed and any(day.year >= today.year for day in entries):
        holds.append(Hold(ACCOUNTING_OPEN, str(today.year)))
    if facts.open_complaints:
        holds.append(Hold(OPEN_COMPLAINT, str(facts.open_complaints)))
    return holds


def years_after(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def retention_due(facts: ClientFacts, today: dt.date, years: RetentionYears) -> Due | None:
    """Whether retention says to anonymise this client today, and why; None: keep it."""
    claims_free = [years_after(claim.prescription_on, years.claim_years) for claim in facts.claims]
    if facts.contracts:
        ended = max(contract.end for contract in facts.contracts)
        since = years_after(ended, years.contract_years)
        reason = (
            f"former client: last contract ended on {ended.isoformat()}, "
            f"kept {years.contract_years} years"
        )
    elif facts.last_contact is not None:
        since = years_after(facts.last_contact, years.prospect_years)
        reason = (
            f"prospect: last contact on {facts.last_contact.isoformat()}, "
            f"kept {years.prospect_years} years"
        )
    else:
        return None
    if claims_free:
        latest = max(claims_free)
        if latest > since:
            since = latest
            reason += f"; claims pursued until {latest.isoformat()}"
    if today < since or legal_holds(facts, today):
        return None
    return Due(reason=reason, since=since)
