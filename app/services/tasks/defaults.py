"""The categories and rules an agency starts with (the demo agency has them; others on demand).

French, as the agency's people read them: they are the agency's own rows, which it may
rename, change or switch off. Adding them is idempotent by name, so a second call (or a
new version of this list) adds only what is missing and never overwrites an agency's edits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    AssigneeRule,
    TaskCategory,
    TaskPriority,
    TaskRule,
    TaskTrigger,
    TaskType,
    Team,
)

RENEWAL = "Renouvellement"
UNPAID = "Impayé"
CLAIM = "Sinistre"
CATEGORIES = (RENEWAL, UNPAID, "Relation client", CLAIM, "Administratif")


@dataclass(frozen=True)
class DefaultRule:
    name: str
    trigger: TaskTrigger
    offset_days: int
    due_days: int
    title_template: str
    category: str
    type: TaskType = TaskType.action
    priority: TaskPriority = TaskPriority.normal
    assignee_rule: AssigneeRule = AssigneeRule.contract_manager
    team: Team | None = None  # the contract has no manager: the managers (engine.FALLBACK_TEAM)


RULES = (
    DefaultRule(
        name="Revoir le renouvellement",
        trigger=TaskTrigger.renewal_cycle_opened,
        offset_days=0,
        due_days=14,
        title_template=("Revoir le renouvellement de {{ policy.number }} ({{ client.name }})"),
        category=RENEWAL,
    ),
    DefaultRule(
        name="Avis d'échéance non envoyé",
        trigger=TaskTrigger.avis_not_sent,
        offset_days=-15,
        due_days=7,
        title_template=("Envoyer l'avis d'échéance de {{ policy.number }} ({{ client.name }})"),
        category=RENEWAL,
        priority=TaskPriority.high,
    ),
    DefaultRule(
        name="Échéance sans décision",
        trigger=TaskTrigger.echeance_without_decision,
        offset_days=-30,
        due_days=7,
        title_template=("Décider du renouvellement de {{ policy.number }} ({{ client.name }})"),
        category=RENEWAL,
        priority=TaskPriority.high,
    ),
    DefaultRule(
        name="Quittance impayée",
        trigger=TaskTrigger.notice_unpaid,
        offset_days=10,
        due_days=5,
        title_template=(
            "Relancer {{ client.name }} : quittance {{ notice.number }} impayée "
            "({{ notice.balance | money(notice.currency) }})"
        ),
        category=UNPAID,
    ),
    DefaultRule(
        name="Mise en demeure possible",
        trigger=TaskTrigger.notice_formal_possible,
        offset_days=0,
        due_days=3,
        title_template=(
            "Valider la mise en demeure de {{ client.name }} (quittance {{ notice.number }})"
        ),
        category=UNPAID,
        type=TaskType.validation,
        priority=TaskPriority.high,
        assignee_rule=AssigneeRule.team,
        team=Team.MANAGER,
    ),
    DefaultRule(
        name="Suspension des garanties",
        trigger=TaskTrigger.formal_notice_suspension,
        offset_days=0,
        due_days=0,
        title_template=("Garanties suspendues : {{ policy.number }} ({{ client.name }})"),
        category=UNPAID,
        priority=TaskPriority.urgent,
        assignee_rule=AssigneeRule.team,
        team=Team.MANAGER,
    ),
    # A week after the insurer's documents were asked for, the client is chased for them.
    DefaultRule(
        name="Pièces de sinistre manquantes",
        trigger=TaskTrigger.claim_documents_missing,
        offset_days=7,
        due_days=3,
        title_template=(
            "Relancer {{ client.name }} : {{ claim.missing }} pièce(s) manquante(s),"
            " sinistre {{ claim.number }}"
        ),
        category=CLAIM,
    ),
)


def install_defaults(session: Session, organisation_id: int) -> int:
    """Add the missing default categories and rules to an agency (flushed, not committed).

    Returns how many rows were added.
    """
    categories = {
        category.name: category
        for category in session.scalars(
            select(TaskCategory).where(TaskCategory.organisation_id == organisation_id)
        )
    }
    added = 0
    for name in CATEGORIES:
        if name not in categories:
            categories[name] = TaskCategory(organisation_id=organisation_id, name=name)
            session.add(categories[name])
            added += 1
    session.flush()
    existing = set(
        session.scalars(select(TaskRule.name).where(TaskRule.organisation_id == organisation_id))
    )
    for rule in RULES:
        if rule.name in existing:
            continue
        session.add(
            TaskRule(
                organisation_id=organisation_id,
                name=rule.name,
                trigger=rule.trigger,
                offset_days=rule.offset_days,
                due_days=rule.due_days,
                title_template=rule.title_template,
                type=rule.type,
                category_id=categories[rule.category].id,
                priority=rule.priority,
                assignee_rule=rule.assignee_rule,
                team=rule.team,
            )
        )
        added += 1
    session.flush()
    return added
