"""What a commission rule may name, against the agency's rows, and what saving one redoes."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.models import CommissionRule, Policy
from app.models.base import ModelValidationError
from app.services.commissions.expected import Refreshed, refresh


def check_rule(session: Session, rule: CommissionRule) -> None:
    """A contract override names a contract placed with the rule's insurer."""
    if rule.policy_id is not None:
        policy = session.get(Policy, rule.policy_id)
        if policy is not None and policy.company_id != rule.company_id:
            raise ModelValidationError(
                {"policy_id": _("This contract is placed with another insurer.")}
            )


def rule_saved(session: Session, rule: CommissionRule) -> Refreshed:
    """Recompute the expected commissions of the rule's insurer (no commit)."""
    return refresh(session, rule.organisation_id, company_id=rule.company_id)
