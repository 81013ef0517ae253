"""The client's withdrawal window after a sale away from the agency, as a pure function.

Code des assurances:
- L112-9 (démarchage: a sale at the client's home, workplace or any place not meant for
  selling insurance, which the client did not ask for): 14 calendar days from the
  conclusion of the contract to withdraw, with no reason and no penalty;
- L112-2-1 (distance selling to a consumer: phone, e-mail, web): 14 calendar days from
  the conclusion of the contract (or from the receipt of the contractual terms, when
  later), 30 days for life insurance;
- L132-5-1: life insurance, 30 calendar days (also after démarchage).
A sale at the agency opens no window. The window runs from the day the contract is
concluded (the conversion of the accepted quote), that day not counting, and ends on
the last of the days counted (calendar days, no postponement to a working day: the
articles count calendar days).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.models.policy import LineOfBusiness
from app.models.proposal import SaleChannel

WITHDRAWAL_DAYS = 14
LIFE_WITHDRAWAL_DAYS = 30


@dataclass(frozen=True)
class Withdrawal:
    days: int
    ends_on: dt.date
    article: str


def withdrawal_window(
    channel: SaleChannel, line: LineOfBusiness, concluded_on: dt.date
) -> Withdrawal | None:
    """The client's window to withdraw from a contract concluded on ``concluded_on``.

    None for a sale at the agency: the client came to buy, no withdrawal right applies.
    """
    if channel is SaleChannel.in_person:
        return None
    life = line is LineOfBusiness.life
    days = LIFE_WITHDRAWAL_DAYS if life else WITHDRAWAL_DAYS
    # Life after démarchage: L132-5-1 rather than L112-9, which leaves life aside.
    articles = {SaleChannel.distance: "L112-2-1", SaleChannel.door_to_door: "L112-9"}
    article = "L132-5-1" if life and channel is SaleChannel.door_to_door else articles[channel]
    return Withdrawal(days, concluded_on + dt.timedelta(days=days), article)
