"""The RGPD rules as tables (app/services/privacy/holds.py): holds and retention boundaries.

Sources: RGPD art. 6(1)(b) and 17(3)(b) (a running contract), Code des assurances L114-1
(two-year prescription; ``prescription_on`` is the first prescribed day), Code de commerce
L123-12 and L123-22 (the year's books, closed at its end), ACPR 2022-R-01 (complaints),
CNIL durées de conservation en assurance (3 years for prospects, 5 after the contract).
"""

from __future__ import annotations

import datetime as dt

import pytest

from app.services.privacy.holds import (
    ACCOUNTING_OPEN,
    CLAIM_NOT_PRESCRIBED,
    OPEN_COMPLAINT,
    OPEN_CONTRACT,
    ClaimFact,
    ClientFacts,
    ContractFact,
    NoticeFact,
    RetentionYears,
    legal_holds,
    retention_due,
)

D = dt.date
TODAY = D(2026, 6, 15)


def kinds(facts: ClientFacts, today: dt.date = TODAY) -> list[str]:
    return [hold.kind for hold in legal_holds(facts, today)]


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (ClientFacts(), []),
        # A running contract holds whatever its dates (art. 17(3)(b)).
        (ClientFacts(contracts=[ContractFact("P1", "active", D(2027, 1, 1))]), [OPEN_CONTRACT]),
        (ClientFacts(contracts=[ContractFact("P1", "draft", D(2020, 1, 1))]), [OPEN_CONTRACT]),
        (ClientFacts(contracts=[ContractFact("P1", "suspended", D(2020, 1, 1))]), [OPEN_CONTRACT]),
        # Cancelled for the 30th of June: it still covers the client until then.
        (ClientFacts(contracts=[ContractFact("P1", "cancelled", D(2026, 6, 30))]), [OPEN_CONTRACT]),
        (ClientFacts(contracts=[ContractFact("P1", "cancelled", TODAY)]), []),
        (ClientFacts(contracts=[ContractFact("P1", "expired", D(2024, 1, 1))]), []),
        # A claim being handled holds; a closed one until its prescription day (L114-1).
        (ClientFacts(claims=[ClaimFact("S1", False, D(2020, 1, 1))]), [CLAIM_NOT_PRESCRIBED]),
        (
            ClientFacts(claims=[ClaimFact("S1", True, TODAY + dt.timedelta(days=1))]),
            [CLAIM_NOT_PRESCRIBED],
        ),
        (ClientFacts(claims=[ClaimFact("S1", True, TODAY)]), []),
        # Money still owed either way (L123-22 keeps the entry; who owes is needed).
        (ClientFacts(notices=[NoticeFact("N1", "unpaid", D(2024, 3, 1))]), [ACCOUNTING_OPEN]),
        (ClientFacts(notices=[NoticeFact("N1", "partly_paid", D(2024, 3, 1))]), [ACCOUNTING_OPEN]),
        (ClientFacts(notices=[NoticeFact("N1", "paid", D(2025, 12, 31))]), []),
        # An entry of the current, unclosed year (L123-12).
        (ClientFacts(notices=[NoticeFact("N1", "paid", D(2026, 1, 1))]), [ACCOUNTING_OPEN]),
        (ClientFacts(payment_days=[D(2026, 2, 1)]), [ACCOUNTING_OPEN]),
        (ClientFacts(payment_days=[D(2025, 12, 31)]), []),
        (ClientFacts(open_complaints=1), [OPEN_COMPLAINT]),
    ],
)
def test_legal_holds(facts: ClientFacts, expected: list[str]) -> None:
    assert kinds(facts) == expected


def test_holds_name_what_holds() -> None:
    facts = ClientFacts(
        contracts=[ContractFact("POL-9", "active", D(2027, 1, 1))],
        claims=[ClaimFact("SIN-1", False, D(2028, 1, 1))],
    )
    assert [str(hold) for hold in legal_holds(facts, TODAY)] == [
        "open_contract: POL-9",
        "claim_not_prescribed: SIN-1",
    ]


YEARS = RetentionYears(prospect_years=3, contract_years=5, claim_years=0)


@pytest.mark.parametrize(
    ("facts", "today", "due"),
    [
        # A prospect: 3 years after the last contact, due that day, not the day before.
        (ClientFacts(last_contact=D(2023, 3, 5)), D(2026, 3, 4), False),
        (ClientFacts(last_contact=D(2023, 3, 5)), D(2026, 3, 5), True),
        # A former client: 5 years after its last contract's end.
        (
            ClientFacts(contracts=[ContractFact("P", "expired", D(2021, 3, 5))]),
            D(2026, 3, 4),
            False,
        ),
        (
            ClientFacts(contracts=[ContractFact("P", "expired", D(2021, 3, 5))]),
            D(2026, 3, 5),
            True,
        ),
        # The latest contract decides.
        (
            ClientFacts(
                contracts=[
                    ContractFact("P", "expired", D(2018, 1, 1)),
                    ContractFact("Q", "cancelled", D(2022, 1, 1)),
                ]
            ),
            D(2026, 3, 5),
            False,
        ),
        # A claim prescribed after the contract's period: kept until its prescription day.
        (
            ClientFacts(
                contracts=[ContractFact("P", "expired", D(2020, 1, 1))],
                claims=[ClaimFact("S", True, D(2026, 4, 1))],
            ),
            D(2026, 3, 31),
            False,
        ),
        (
            ClientFacts(
                contracts=[ContractFact("P", "expired", D(2020, 1, 1))],
                claims=[ClaimFact("S", True, D(2026, 4, 1))],
            ),
            D(2026, 4, 1),
            True,
        ),
        # A running contract is never due, however old.
        (ClientFacts(contracts=[ContractFact("P", "active", D(2010, 1, 1))]), TODAY, False),
        # Nothing known: nothing decided.
        (ClientFacts(), TODAY, False),
    ],
)
def test_retention_boundaries(facts: ClientFacts, today: dt.date, due: bool) -> None:
    assert (retention_due(facts, today, YEARS) is not None) is due


def test_each_period_is_the_agencys_and_never_negative() -> None:
    facts = ClientFacts(last_contact=D(2025, 3, 5))
    assert retention_due(facts, D(2026, 3, 5), RetentionYears(prospect_years=1)) is not None
    assert retention_due(facts, D(2026, 3, 5), RetentionYears(prospect_years=2)) is None
    with pytest.raises(ValueError):
        RetentionYears(contract_years=-1)
    # 29 February: the period ends on the 28th.
    leap = ClientFacts(last_contact=D(2024, 2, 29))
    assert retention_due(leap, D(2027, 2, 28), YEARS) is not None
    assert retention_due(leap, D(2027, 2, 27), YEARS) is None
