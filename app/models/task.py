"""The work queue: tasks for the agency's people, and the rules that create them.

A :class:`Task` is something to do by a date, for a user or a team (a role within the
agency), about a record (a client, a contract, a renewal cycle, a premium notice). A
:class:`TaskRule` creates tasks from the records' deadlines every day
(app/services/tasks/engine.py); its ``rule_key`` names the record, and the unique
(rule_id, rule_key) pair is what keeps a re-run or a second worker from doubling a task.
"""

from __future__ import annotations

import datetime as dt
import enum

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.models.base import OrganisationOwned, Timestamped
from app.models.validators import clean_text


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # VARCHAR + CHECK, as every enum of the schema (app/models/policy.py).
    return Enum(cls, name=name, native_enum=False, length=30, validate_strings=True)


class TaskType(enum.Enum):
    action = "action"  # something to do (call, review, send)
    reminder = "reminder"  # a date to keep in mind
    waiting = "waiting"  # waiting on someone else (an insurer, a client)
    validation = "validation"  # a decision to approve or refuse


class TaskPriority(enum.Enum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class TaskStatus(enum.Enum):
    todo = "todo"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


OPEN_STATUSES = (TaskStatus.todo, TaskStatus.in_progress)


class ValidationOutcome(enum.Enum):
    approved = "approved"
    refused = "refused"


class TaskSource(enum.Enum):
    manual = "manual"
    rule = "rule"


class Team(enum.Enum):
    """The roles of an agency a task can be given to as a whole."""

    USER = "USER"
    MANAGER = "MANAGER"
    ADMIN = "ADMIN"


class TaskTrigger(enum.Enum):
    """What a rule watches; each has its anchor date (app/services/tasks/triggers.py)."""

    renewal_cycle_opened = "renewal_cycle_opened"
    echeance_without_decision = "echeance_without_decision"
    avis_not_sent = "avis_not_sent"
    notice_unpaid = "notice_unpaid"
    notice_formal_possible = "notice_formal_possible"
    formal_notice_suspension = "formal_notice_suspension"
    # A claim's expected documents still missing N days after they were asked for.
    claim_documents_missing = "claim_documents_missing"


class AssigneeRule(enum.Enum):
    contract_manager = "contract_manager"  # the contract's manager, else the rule's team
    team = "team"
    user = "user"


class TaskCategory(OrganisationOwned, Timestamped, Model):
    """One entry of an agency's own list of task categories (Renouvellement, Impayé…)."""

    __tablename__ = "task_category"
    __table_args__ = (
        UniqueConstraint("organisation_id", "name", name="uq_task_category_organisation_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    active: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=text("true")
    )

    @validates("name")
    def _check_name(self, key: str, value: str | None) -> str | None:
        return clean_text(key, value, required=True, max_length=80)

    def __repr__(self) -> str:
        return self.name


class TaskRule(OrganisationOwned, Timestamped, Model):
    """Creates one task per matching record once ``offset_days`` after its anchor date."""

    __tablename__ = "task_rule"
    __table_args__ = (
        UniqueConstraint("organisation_id", "name", name="uq_task_rule_organisation_name"),
        CheckConstraint(
            "offset_days BETWEEN -366 AND 366", name="ck_task_rule_offset_days_bounded"
        ),
        CheckConstraint("due_days BETWEEN 0 AND 366", name="ck_task_rule_due_days_bounded"),
        Index("ix_task_rule_organisation_active", "organisation_id", "active"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    trigger: Mapped[TaskTrigger] = mapped_column(_enum(TaskTrigger, "task_trigger"), nullable=False)
    # Days after the anchor date (negative: before it) from which the task is created.
    offset_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The task is due this many days after the day it fires.
    due_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    title_template: Mapped[str] = mapped_column(Text, nullable=False)
    type: Mapped[TaskType] = mapped_column(
        _enum(TaskType, "task_type"), nullable=False, default=TaskType.action
    )
    category_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("task_category.id", ondelete="SET NULL")
    )
    priority: Mapped[TaskPriority] = mapped_column(
        _enum(TaskPriority, "task_priority"), nullable=False, default=TaskPriority.normal
    )
    assignee_rule: Mapped[AssigneeRule] = mapped_column(
        _enum(AssigneeRule, "task_assignee_rule"),
        nullable=False,
        default=AssigneeRule.contract_manager,
    )
    team: Mapped[Team | None] = mapped_column(_enum(Team, "task_team"))
    assignee_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL")
    )
    active: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=text("true")
    )
    # A rule may create a task, e-mail the record's client, or both (app/services/tasks/mailing.py).
    creates_task: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=text("true")
    )
    # A published e-mail template of the agency (or shared): one message per record.
    # A plain number (migration 0027: SQLite adds no constrained column); check_rule keeps
    # it an e-mail template the agency may use.
    email_template_id: Mapped[int | None] = mapped_column(Integer)

    category = relationship("TaskCategory")
    assignee = relationship("AppUser")

    def __repr__(self) -> str:
        return self.name


class Task(OrganisationOwned, Timestamped, Model):
    """Something to do by a date, for a user or a team, about a record."""

    __tablename__ = "task"
    __table_args__ = (
        # One task per rule and record: the daily run inserts with ON CONFLICT DO NOTHING.
        UniqueConstraint("rule_id", "rule_key", name="uq_task_rule_key"),
        # "Mes tâches" and the team view: open tasks of a person or a team, by due date.
        Index(
            "ix_task_organisation_assignee_status_due",
            "organisation_id",
            "assignee_id",
            "status",
            "due_on",
        ),
        Index(
            "ix_task_organisation_team_status_due", "organisation_id", "team", "status", "due_on"
        ),
        Index("ix_task_organisation_status_due", "organisation_id", "status", "due_on"),
        # A record's page lists its tasks.
        Index("ix_task_client", "client_id"),
        Index("ix_task_policy", "policy_id"),
        Index("ix_task_renewal_cycle", "renewal_cycle_id"),
        Index("ix_task_premium_notice", "premium_notice_id"),
        Index("ix_task_claim", "claim_id"),
        CheckConstraint(
            "outcome IS NULL OR type = 'validation'", name="ck_task_outcome_for_validation"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    type: Mapped[TaskType] = mapped_column(
        _enum(TaskType, "task_type"), nullable=False, default=TaskType.action
    )
    category_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("task_category.id", ondelete="SET NULL")
    )
    assignee_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL")
    )
    team: Mapped[Team | None] = mapped_column(_enum(Team, "task_team"))
    due_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    priority: Mapped[TaskPriority] = mapped_column(
        _enum(TaskPriority, "task_priority"), nullable=False, default=TaskPriority.normal
    )
    status: Mapped[TaskStatus] = mapped_column(
        _enum(TaskStatus, "task_status"), nullable=False, default=TaskStatus.todo
    )
    outcome: Mapped[ValidationOutcome | None] = mapped_column(
        _enum(ValidationOutcome, "task_outcome")
    )
    result_note: Mapped[str | None] = mapped_column(Text)
    # The record it concerns: a task goes with its record.
    client_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("client.id", ondelete="CASCADE")
    )
    policy_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("policy.id", ondelete="CASCADE")
    )
    renewal_cycle_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("renewal_cycle.id", ondelete="CASCADE")
    )
    premium_notice_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("premium_notice.id", ondelete="CASCADE")
    )
    # A plain number (migration 0032: SQLite adds no constrained column in place); the
    # task is about the claim, which claims are never deleted (kept until prescription).
    claim_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[TaskSource] = mapped_column(
        _enum(TaskSource, "task_source"), nullable=False, default=TaskSource.manual
    )
    rule_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("task_rule.id", ondelete="SET NULL")
    )
    rule_key: Mapped[str | None] = mapped_column(String(60))
    created_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL")
    )
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    category = relationship("TaskCategory")
    assignee = relationship("AppUser", foreign_keys=[assignee_id])
    created_by = relationship("AppUser", foreign_keys=[created_by_id])
    client = relationship("Client")
    policy = relationship("Policy")
    renewal_cycle = relationship("RenewalCycle")
    premium_notice = relationship("PremiumNotice")
    claim = relationship("Claim", primaryjoin="foreign(Task.claim_id) == Claim.id")
    rule = relationship("TaskRule")

    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, today: dt.date) -> bool:
        return self.is_open() and self.due_on < today

    def __repr__(self) -> str:
        return self.title
