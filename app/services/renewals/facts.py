"""What the cancellation rules take and give: the contract's facts, grounds, reasons, results.

Pure like app/services/renewals/rules.py, which applies them; docs/domain-rules.md lists the
reason keys and what each fact means.
"""

from __future__ import annotations

import datetime as dt
from calendar import monthrange
from dataclasses import dataclass, field
from enum import StrEnum


class Ground(StrEnum):
    annual = "annual"
    chatel = "chatel"
    hamon = "hamon"
    health_ria = "health_ria"
    borrower = "borrower"
    change_of_situation = "change_of_situation"
    after_claim = "after_claim"


class Line(StrEnum):
    """The values of app.models.policy.LineOfBusiness (santé is ``health``)."""

    auto = "auto"
    home = "home"
    health = "health"
    life = "life"
    liability = "liability"
    professional = "professional"
    travel = "travel"


class ClientKind(StrEnum):
    """The values of app.models.client.ClientKind: a natural or a legal person."""

    person = "person"
    business = "business"


class Use(StrEnum):
    consumer = "consumer"
    professional = "professional"


class Reason(StrEnum):
    """Why a ground is open or closed: stable keys that the doors translate."""

    # open
    at_echeance = "at_echeance"
    no_avis_since_renewal = "no_avis_since_renewal"
    late_avis_window = "late_avis_window"
    after_first_year = "after_first_year"
    at_any_time = "at_any_time"
    within_three_months_of_change = "within_three_months_of_change"
    within_one_month_of_claim_cancellation = "within_one_month_of_claim_cancellation"
    # closed
    before_contract_start = "before_contract_start"
    received_before_requested = "received_before_requested"
    not_tacitly_renewed = "not_tacitly_renewed"
    life_insurance_excluded = "life_insurance_excluded"
    group_contract_excluded = "group_contract_excluded"
    legal_person_excluded = "legal_person_excluded"
    professional_use_excluded = "professional_use_excluded"
    line_not_covered = "line_not_covered"
    borrower_own_regime = "borrower_own_regime"
    before_first_anniversary = "before_first_anniversary"
    before_ria_start = "before_ria_start"
    not_borrower_insurance = "not_borrower_insurance"
    before_lemoine_start = "before_lemoine_start"
    renewal_pending = "renewal_pending"
    avis_sent_in_time = "avis_sent_in_time"
    avis_overdue = "avis_overdue"
    late_avis_window_closed = "late_avis_window_closed"
    previous_avis_unknown = "previous_avis_unknown"
    no_change_of_situation = "no_change_of_situation"
    before_change_of_situation = "before_change_of_situation"
    change_of_situation_too_old = "change_of_situation_too_old"
    no_claim_cancellation = "no_claim_cancellation"
    before_claim_cancellation = "before_claim_cancellation"
    claim_cancellation_too_old = "claim_cancellation_too_old"
    # Not the rules' answer: the doors close every ground of a contract already cancelled
    # or ended (app/services/renewals/cancelling.py), whose facts no longer apply.
    contract_ended = "contract_ended"


BASIS: dict[Ground, str] = {
    Ground.annual: "L113-12",
    Ground.chatel: "L113-15-1",
    Ground.hamon: "L113-15-2",
    Ground.health_ria: "L113-15-2 (santé, décret 2020-1438)",
    Ground.borrower: "L113-12-2 (loi 2022-270)",
    Ground.change_of_situation: "L113-16",
    Ground.after_claim: "R113-10",
}

DEFAULT_NOTICE_MONTHS = 2  # L113-12: "au moins deux mois avant la date d'échéance"


class RuleRefusal(Exception):  # noqa: N818 (a refusal is the rule's answer, not a crash)
    """The ground does not apply to this request; ``reason`` is a :class:`Reason` key."""

    def __init__(self, reason: Reason, basis: str) -> None:
        super().__init__(f"{basis}: {reason}")
        self.reason = reason
        self.basis = basis


@dataclass(frozen=True)
class Avis:
    """An avis d'échéance for one échéance; ``sent_on`` None means none was sent."""

    echeance: dt.date
    sent_on: dt.date | None


@dataclass(frozen=True)
class ContractFacts:
    """What the rules need to know about one contract (enum fields also accept their values).

    ``effective_on`` is the first subscription (Hamon's year runs from it); the main
    échéance is a day and a month (29 Feb falls on 28 Feb in common years). ``avis`` lists
    the known avis d'échéance; an échéance without an entry is unknown, not "no avis".
    ``situation_changed_on`` is the L113-16 event (or the day it became known where the
    article allows it); ``claim_cancellation_notified_on`` is the day the same insurer
    notified the after-claim cancellation of another contract of this client (R113-10).
    """

    effective_on: dt.date
    echeance_day: int
    echeance_month: int
    line: Line
    client_kind: ClientKind = ClientKind.person
    use: Use = Use.consumer
    tacit_renewal: bool = True
    notice_months: int = DEFAULT_NOTICE_MONTHS
    borrower: bool = False
    affinity: bool = False
    group_contract: bool = False
    avis: tuple[Avis, ...] = field(default=())
    situation_changed_on: dt.date | None = None
    claim_cancellation_notified_on: dt.date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "line", Line(self.line))
        object.__setattr__(self, "client_kind", ClientKind(self.client_kind))
        object.__setattr__(self, "use", Use(self.use))
        object.__setattr__(self, "avis", tuple(self.avis))
        if not 1 <= self.echeance_month <= 12:
            raise ValueError("echeance_month must be 1..12")
        if not 1 <= self.echeance_day <= monthrange(2000, self.echeance_month)[1]:
            raise ValueError("echeance_day does not exist in that month")
        if not 1 <= self.notice_months <= 12:
            raise ValueError("notice_months must be 1..12")

    @property
    def consumer(self) -> bool:
        """A natural person outside professional activity (a professional line never is)."""
        return (
            self.client_kind is ClientKind.person
            and self.use is Use.consumer
            and self.line is not Line.professional
        )


@dataclass(frozen=True)
class GroundResult:
    ground: Ground
    open: bool
    effective_on: dt.date | None
    basis: str
    reason: Reason

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of the API: dates as ISO strings."""
        effective = self.effective_on.isoformat() if self.effective_on else None
        return {
            "ground": str(self.ground),
            "open": self.open,
            "effective_on": effective,
            "basis": self.basis,
            "reason": str(self.reason),
        }
