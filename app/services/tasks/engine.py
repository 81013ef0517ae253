"""Apply the task rules: one task per rule and record, however often and by whomever run.

Per rule, one SELECT finds the records it fires for (app/services/tasks/triggers.py) and
one INSERT … ON CONFLICT DO NOTHING writes their tasks: the unique (rule_id, rule_key)
is the guarantee, so a re-run, or two workers running at once, inserts nothing twice
(the second INSERT finds the first's rows and skips them). Each agency is one
transaction, as the renewals' and premiums' daily runs; a rule whose title template
fails is logged and skipped, the agency's other rules still run.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models import (
    AssigneeRule,
    Organisation,
    Task,
    TaskRule,
    TaskSource,
    TaskStatus,
    Team,
)
from app.models.base import utcnow
from app.ops.outages import DATABASE_DOWN
from app.services import audit
from app.services.mail.outbox import enqueue_messages, insert_rule_messages
from app.services.rendering.compiling import compile_template, render_text
from app.services.rendering.errors import RenderError
from app.services.rendering.sandbox import render_locale
from app.services.tasks import mailing
from app.services.tasks.mailing import PlannedMessage
from app.services.tasks.triggers import Candidate, candidates
from app.services.timezones import local_today, zone

log = logging.getLogger(__name__)

TITLE_LENGTH = 200  # Task.title
TITLE_RENDER_LIMIT = 2_000  # stop a runaway template early; the title is cut to 200 anyway
TITLE_LOCALE = "fr"  # the agency's people read the titles in French
# A contract with no manager: its tasks go to the rule's team, else to the managers.
FALLBACK_TEAM = Team.MANAGER


@dataclass(frozen=True)
class Planned:
    """A task a rule creates (or, in a dry run, would create)."""

    rule_id: int
    rule_name: str
    title: str
    due_on: dt.date
    assignee_id: int | None
    team: str | None
    policy_id: int
    renewal_cycle_id: int | None
    premium_notice_id: int | None
    claim_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "title": self.title,
            "due_on": self.due_on.isoformat(),
            "assignee_id": self.assignee_id,
            "team": self.team,
            "policy_id": self.policy_id,
            "renewal_cycle_id": self.renewal_cycle_id,
            "premium_notice_id": self.premium_notice_id,
            "claim_id": self.claim_id,
        }


@dataclass
class Run:
    """What one application of the rules did (or would do, ``dry_run``)."""

    dry_run: bool = False
    created: dict[int, int] = field(default_factory=dict)  # organisation id -> tasks
    planned: list[Planned] = field(default_factory=list)  # dry run: the tasks, listed
    queued: dict[int, int] = field(default_factory=dict)  # organisation id -> messages
    planned_messages: list[PlannedMessage] = field(default_factory=list)  # dry run
    failed: dict[int, str] = field(default_factory=dict)  # organisation id -> error class
    failed_rules: dict[int, str] = field(default_factory=dict)  # rule id -> message

    def summary(self) -> dict[str, object]:
        return {
            "created": sum(self.created.values()),
            "queued": sum(self.queued.values()),
            "organisations": len(self.created),
            "failed": sorted(self.failed),
            "failed_rules": sorted(self.failed_rules),
            "dry_run": self.dry_run,
        }


def render_title(template: str, context: dict[str, Any]) -> str:
    """The rule's title for one record, in the documents' sandbox; RenderError if it fails."""
    token = render_locale.set(TITLE_LOCALE)
    try:
        text = render_text(compile_template(template), context, TITLE_RENDER_LIMIT)
    finally:
        render_locale.reset(token)
    # The sandbox escapes for HTML; a title is plain text, escaped where it is shown.
    title = " ".join(html.unescape(text).split())
    return title[:TITLE_LENGTH] or "—"


def assignee_for(rule: TaskRule, candidate: Candidate) -> tuple[int | None, Team | None]:
    """Who the rule's task goes to: (user id, None) or (None, team)."""
    if rule.assignee_rule is AssigneeRule.user and rule.assignee_id is not None:
        return rule.assignee_id, None
    if rule.assignee_rule is AssigneeRule.contract_manager and candidate.manager_id is not None:
        return candidate.manager_id, None
    return None, rule.team or FALLBACK_TEAM


def plan_rule(session: Session, rule: TaskRule, today: dt.date) -> list[tuple[Planned, dict]]:
    """The tasks ``rule`` creates today, with the row each inserts."""
    planned = []
    for candidate in candidates(session, rule, today):
        fires_on = candidate.anchor + dt.timedelta(days=rule.offset_days)
        due_on = fires_on + dt.timedelta(days=rule.due_days)
        title = render_title(rule.title_template, {**(candidate.context or {}), "due_on": due_on})
        assignee_id, team = assignee_for(rule, candidate)
        row = {
            "organisation_id": rule.organisation_id,
            "title": title,
            "type": rule.type,
            "category_id": rule.category_id,
            "assignee_id": assignee_id,
            "team": team,
            "due_on": due_on,
            "priority": rule.priority,
            "status": TaskStatus.todo,
            "client_id": candidate.client_id,
            "policy_id": candidate.policy_id,
            "renewal_cycle_id": candidate.renewal_cycle_id,
            "premium_notice_id": candidate.premium_notice_id,
            "claim_id": candidate.claim_id,
            "source": TaskSource.rule,
            "rule_id": rule.id,
            "rule_key": candidate.rule_key,
            "created_at": utcnow(),
            "updated_at": utcnow(),
        }
        planned.append(
            (
                Planned(
                    rule_id=rule.id,
                    rule_name=rule.name,
                    title=title,
                    due_on=due_on,
                    assignee_id=assignee_id,
                    team=team.value if team else None,
                    policy_id=candidate.policy_id,
                    renewal_cycle_id=candidate.renewal_cycle_id,
                    premium_notice_id=candidate.premium_notice_id,
                    claim_id=candidate.claim_id,
                ),
                row,
            )
        )
    return planned


def insert_tasks(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert the rule tasks that do not exist yet; how many were new."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(Task)
    elif dialect == "sqlite":
        statement = sqlite.insert(Task)
    else:  # pragma: no cover (the two databases the project runs on)
        raise RuntimeError(f"no ON CONFLICT for {dialect}")
    statement = statement.on_conflict_do_nothing(index_elements=["rule_id", "rule_key"])
    inserted = session.execute(statement.returning(Task.id), rows).all()
    return len(inserted)


def apply_for_organisation(
    session: Session, organisation_id: int, today: dt.date, run: Run
) -> tuple[int, list[int]]:
    """Apply one agency's active rules in the session's transaction.

    Returns the tasks created and the ids of the messages written (to queue once committed).
    """
    rules = session.scalars(
        select(TaskRule)
        .where(TaskRule.organisation_id == organisation_id, TaskRule.active.is_(True))
        .order_by(TaskRule.id)
    ).all()
    created = 0
    message_ids: list[int] = []
    by_rule: dict[str, int] = {}
    for rule in rules:
        try:
            planned = plan_rule(session, rule, today) if rule.creates_task else []
            messages = mailing.plan_messages(session, rule, today)
            # Marks the notices told today (a dry run's rollback undoes it), so that a
            # later rule, or the daily run, whose moment has come does not tell again.
            messages = mailing.untold(session, messages, today)
        except RenderError as error:
            log.warning("task rule %s: its title or e-mail does not render: %s", rule.id, error)
            run.failed_rules[rule.id] = str(error)
            continue
        if run.dry_run:
            run.planned.extend(plan for plan, _row in planned)
            run.planned_messages.extend(plan for plan, _message in messages)
            created += len(planned)
            continue
        count = insert_tasks(session, [row for _plan, row in planned])
        if count:
            by_rule[rule.name] = count
        created += count
        message_ids += insert_rule_messages(session, [message for _plan, message in messages])
    if (created or message_ids) and not run.dry_run:
        audit.record(
            session,
            "tasks_created",
            "Organisation",
            organisation_id,
            {
                "created": created,
                "rules": by_rule,
                "messages": len(message_ids),
                "day": today.isoformat(),
            },
            organisation_id=organisation_id,
        )
    return created, message_ids


def apply_rules(
    session: Session,
    organisation_id: int | None = None,
    today: dt.date | None = None,
    dry_run: bool = False,
) -> Run:
    """Apply the rules of every agency (or one), committing each agency on its own.

    ``today`` defaults to each agency's own date. ``dry_run`` writes nothing: ``planned``
    lists the tasks a real run would create.
    """
    query = select(Organisation.id, Organisation.timezone).order_by(Organisation.id)
    if organisation_id is not None:
        query = query.where(Organisation.id == organisation_id)
    organisations = session.execute(query).all()
    session.rollback()  # no transaction held open across agencies
    run = Run(dry_run=dry_run)
    for org_id, timezone in organisations:
        day = today or local_today(zone(timezone))
        try:
            created, message_ids = apply_for_organisation(session, org_id, day, run)
            if dry_run:
                session.rollback()
            else:
                session.commit()
                # Committed first: a queue that is down delays them (the sweeper), never loses.
                enqueue_messages(session, message_ids)
        except DATABASE_DOWN:
            session.rollback()
            raise  # every agency would fail alike: the task fails and the worker says so
        except Exception as error:  # noqa: BLE001 (one agency's bad row must not stop the rest)
            session.rollback()
            log.exception("applying task rules failed for organisation %s", org_id)
            run.failed[org_id] = type(error).__name__
            continue
        if created:
            run.created[org_id] = created
        if message_ids:
            run.queued[org_id] = len(message_ids)
    return run
