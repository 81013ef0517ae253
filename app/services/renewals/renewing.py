"""Renewing through the doors: one cycle, or many at once, as the caller may see them.

``cycles.renew`` adds the next term of one contract; here the cycles are found through
the organisation scope (``notices.visible_cycles``: another agency's id is unknown) and a
cycle renewed already answers its term again instead of a refusal, so a script that
retries after a lost answer gets what it asked for. A batch is all or nothing: the door
runs it in one transaction and the first refusal, naming its renewal, undoes the rest.
Renewing is a few rows per contract (a term, the cycle, the policy's mirror), so a batch
of ``RENEW_BATCH_MAX`` runs within the request rather than as a job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import Policy, RenewalCycle, RenewalStatus, Term
from app.services.errors import DomainError, InvalidRequestError
from app.services.renewals.cycles import renew
from app.services.renewals.notices import visible_cycle, visible_cycles

RENEW_BATCH_MAX = 1000


@dataclass(frozen=True)
class Renewed:
    """A cycle and the term it led to; ``created`` is False when it was renewed before."""

    cycle: RenewalCycle
    term: Term
    created: bool


def renew_visible(session: Session, user: Any, cycle_id: Any) -> Renewed:
    """Renew the contract of one cycle the user may see (flushed, not committed)."""
    renewed = _renew(visible_cycle(session, user, cycle_id))
    session.flush()  # the term's id, for the answer
    return renewed


def renew_visible_batch(session: Session, user: Any, cycle_ids: list[Any]) -> list[Renewed]:
    """Renew every cycle of ``cycle_ids`` (in that order), or refuse the whole batch."""
    if len(cycle_ids) > RENEW_BATCH_MAX:
        raise InvalidRequestError(
            _("Give at most %(limit)d renewals.", limit=RENEW_BATCH_MAX),
            {"ids": _("Give at most %(limit)d renewals.", limit=RENEW_BATCH_MAX)},
        )
    found = visible_cycles(session, user, cycle_ids)
    # The contracts, their terms and cycles in three queries, not three per renewal; held
    # here, as the session's identity map would let them go before they are used.
    contracts = session.scalars(
        select(Policy)
        .where(Policy.id.in_([cycle.policy_id for cycle in found]))
        .options(selectinload(Policy.terms), selectinload(Policy.renewal_cycles))
    ).all()
    done = []
    # One flush for the batch, not one per lazy load: each flush walks the whole session.
    with session.no_autoflush:
        for cycle in found:
            try:
                done.append(_renew(cycle))
            except DomainError as refusal:
                named = _(
                    "Renewal %(id)d (%(number)s): %(reason)s",
                    id=cycle.id,
                    number=cycle.policy.number,
                    reason=refusal.message,
                )
                raise type(refusal)(named, {"ids": named}) from refusal
    session.flush()
    del contracts
    return done


def _renew(cycle: RenewalCycle) -> Renewed:
    if cycle.status is RenewalStatus.renewed and cycle.term is not None:
        return Renewed(cycle, cycle.term, created=False)
    return Renewed(cycle, renew(cycle), created=True)
