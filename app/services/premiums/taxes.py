"""The insurance tax inside a premium: taxes included → before tax + taxes, to the cent.

Premiums are stored taxes included (prime TTC). The split uses one rate per line of
business: the taxe spéciale sur les conventions d'assurance (CGI art. 991 and 1001)
as commonly applied to each kind of contract. These are defaults, not a tax engine:
real contracts mix covers taxed at different rates and add contributions (e.g. the
FGAO on motor liability), which the insurer's own notice states. The rates are listed
in docs/domain-rules.md.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from app.models.policy import LineOfBusiness

CENT = Decimal("0.01")
DEFAULT_TAX_RATES: dict[LineOfBusiness, Decimal] = {
    LineOfBusiness.auto: Decimal("0.18"),  # motor: 18 %
    LineOfBusiness.home: Decimal("0.09"),  # multirisque habitation: 9 %
    LineOfBusiness.health: Decimal("0.1327"),  # contrat santé responsable: 13.27 %
    LineOfBusiness.life: Decimal("0"),  # life: exempt
    LineOfBusiness.liability: Decimal("0.09"),
    LineOfBusiness.professional: Decimal("0.09"),
    LineOfBusiness.travel: Decimal("0.09"),
}


def split_taxes(
    total: Decimal,
    line: LineOfBusiness | str,
    rates: dict[LineOfBusiness, Decimal] | None = None,
) -> tuple[Decimal, Decimal]:
    """(amount before tax, taxes) of a total taxes included; they add up to the total."""
    rate = (rates or DEFAULT_TAX_RATES)[LineOfBusiness(line)]
    total = Decimal(total).quantize(CENT)
    before = (total / (1 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    return before, total - before
