"""Which commission rule applies to a notice, and what it yields: pure, no database.

Resolution: among the rules of the notice's insurer valid on the first day of the
notice's period, a rule naming the contract wins over one naming its product, which
wins over one naming its line of business, which wins over the insurer's general rule.
Among equally specific rules the one valid from the latest date wins (a renegotiated
rate replaces the old one without editing it).

The first contract year is the year from the contract's effective date: a notice whose
period starts within it earns the first-year rate. On an early cancellation the
insurer takes back a share of the commission of the contract year the contract ended
in (clawback_first_year in year 1, clawback_second_year in year 2, nothing later).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from app.models.commission import CommissionBasis, CommissionDue

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class RuleFacts:
    """What resolution and computation read of a rule."""

    id: int
    company_id: int
    line_of_business: str | None
    product: str | None
    policy_id: int | None
    basis: CommissionBasis
    first_year_rate: Decimal | None
    later_years_rate: Decimal | None
    fixed_amount: Decimal | None
    due: CommissionDue
    valid_from: dt.date
    valid_to: dt.date | None
    clawback_first_year: Decimal | None = None
    clawback_second_year: Decimal | None = None

    @property
    def rank(self) -> int:
        """Higher is more specific."""
        if self.policy_id is not None:
            return 3
        if self.product:
            return 2
        if self.line_of_business:
            return 1
        return 0

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class ContractFacts:
    policy_id: int
    company_id: int
    line_of_business: str
    product: str | None
    effective_date: dt.date


@dataclass(frozen=True)
class Computed:
    rule_id: int
    first_year: bool
    base_amount: Decimal
    rate: Decimal | None
    amount: Decimal


def same_product(a: str | None, b: str | None) -> bool:
    return bool(a and b) and " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def resolve(rules: Iterable[RuleFacts], contract: ContractFacts, on: dt.date) -> RuleFacts | None:
    """The rule that applies to a notice of ``contract`` whose period starts ``on``."""
    best: RuleFacts | None = None
    for rule in rules:
        if rule.company_id != contract.company_id or not rule.valid_on(on):
            continue
        if rule.policy_id is not None and rule.policy_id != contract.policy_id:
            continue
        if (
            rule.policy_id is None
            and rule.product
            and not same_product(rule.product, contract.product)
        ):
            continue
        if rule.line_of_business and rule.line_of_business != contract.line_of_business:
            continue
        if best is None or (rule.rank, rule.valid_from, rule.id) > (
            best.rank,
            best.valid_from,
            best.id,
        ):
            best = rule
    return best


def contract_year(effective_date: dt.date, day: dt.date) -> int:
    """1 in the year from the effective date, 2 in the next, and so on."""
    years = day.year - effective_date.year
    if (day.month, day.day) < (effective_date.month, effective_date.day):
        years -= 1
    return max(years, 0) + 1


def compute(
    rule: RuleFacts, contract: ContractFacts, period_start: dt.date, before_tax: Decimal
) -> Computed:
    """The commission ``rule`` yields on a notice of ``before_tax`` starting ``period_start``."""
    first_year = contract_year(contract.effective_date, period_start) == 1
    if rule.basis is CommissionBasis.fixed:
        amount = rule.fixed_amount or Decimal(0)
        if before_tax < 0:  # a refund notice gives the fixed commission back
            amount = -amount
        return Computed(rule.id, first_year, before_tax, None, amount.quantize(CENT))
    rate = rule.first_year_rate if first_year else rule.later_years_rate
    if rate is None:  # a rule giving only a first-year rate earns nothing later
        rate = Decimal(0)
    amount = (before_tax * rate / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
    return Computed(rule.id, first_year, before_tax, rate, amount)


def clawback_share(rule: RuleFacts, effective_date: dt.date, ended_on: dt.date) -> Decimal:
    """The share (0 to 1) of a contract year's commission taken back on an end ``ended_on``."""
    year = contract_year(effective_date, ended_on)
    percent = {1: rule.clawback_first_year, 2: rule.clawback_second_year}.get(year)
    return (percent or Decimal(0)) / HUNDRED


def in_same_contract_year(effective_date: dt.date, a: dt.date, b: dt.date) -> bool:
    return contract_year(effective_date, a) == contract_year(effective_date, b)
