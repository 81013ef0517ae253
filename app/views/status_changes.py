"""Which status changes staff may apply to a policy by hand, and applying them.

Expired is set by the calendar, not by hand; a cancelled policy is final (a new
policy is issued instead), so neither can be reactivated from the list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.models import Policy, PolicyStatus

ALLOWED_FROM: dict[PolicyStatus, frozenset[PolicyStatus]] = {
    PolicyStatus.active: frozenset({PolicyStatus.draft, PolicyStatus.suspended}),
    PolicyStatus.suspended: frozenset({PolicyStatus.active}),
    PolicyStatus.cancelled: frozenset(
        {PolicyStatus.draft, PolicyStatus.active, PolicyStatus.suspended}
    ),
}


@dataclass(frozen=True)
class StatusChange:
    changed: int
    refused: int


def change_status(policies: Iterable[Policy], target: PolicyStatus) -> StatusChange:
    """Set ``target`` on every policy whose current status allows it; the caller commits."""
    allowed = ALLOWED_FROM[target]
    changed = refused = 0
    for policy in policies:
        if policy.status in allowed:
            policy.status = target
            changed += 1
        else:
            refused += 1
    return StatusChange(changed=changed, refused=refused)
