"""Working on tasks: create, assign, start, complete, approve or refuse, cancel; bulk reassign.

Every use case takes the acting user and finds the task inside the user's agency (another
agency's task is "not found", never "forbidden"). A USER works on the tasks given to them
or to one of their teams; MANAGER and ADMIN work on any task of the agency and alone hand
out tasks in bulk. The changes flush through the ORM, so the audit trail records each one
(app/services/audit.py). The caller commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, and_, case, or_, select
from sqlalchemy.orm import Session

from app.models import (
    AppUser,
    Client,
    Policy,
    PremiumNotice,
    RenewalCycle,
    Task,
    TaskCategory,
    TaskPriority,
    TaskSource,
    TaskStatus,
    TaskType,
    Team,
    ValidationOutcome,
)
from app.models.base import ModelValidationError, utcnow
from app.models.task import OPEN_STATUSES
from app.services.errors import ConflictError, ForbiddenError, InvalidRequestError, NotFoundError
from app.services.scope import is_superadmin

TITLE_LENGTH = 200
NOTE_LENGTH = 5_000
MAX_BULK = 500
MANAGING_ROLES = frozenset({"MANAGER", "ADMIN", "SUPERADMIN"})
LINKS: dict[str, type] = {
    "client_id": Client,
    "policy_id": Policy,
    "renewal_cycle_id": RenewalCycle,
    "premium_notice_id": PremiumNotice,
}


def role_names(user: Any) -> set[str]:
    return {role.name for role in getattr(user, "roles", [])}


def teams_of(user: Any) -> set[Team]:
    """The teams a user belongs to: their roles; an ADMIN leads the managers too."""
    names = role_names(user)
    teams = {team for team in Team if team.value in names}
    if Team.ADMIN in teams:
        teams.add(Team.MANAGER)
    return teams


def is_manager(user: Any) -> bool:
    return bool(role_names(user) & MANAGING_ROLES)


def scope_of(user: Any) -> int | None:
    """The agency whose tasks the user sees (None: every agency, for SUPERADMIN)."""
    if is_superadmin(user):
        return None
    if user.organisation_id is None:
        raise NotFoundError(_("Task not found."))
    return user.organisation_id


def visible(user: Any) -> Select[tuple[Task]]:
    query = select(Task)
    organisation_id = scope_of(user)
    if organisation_id is not None:
        query = query.where(Task.organisation_id == organisation_id)
    return query


def mine_clause(user: Any) -> Any:
    """Given to the user, or to one of their teams and to nobody in particular."""
    teams = teams_of(user)
    clauses = [Task.assignee_id == user.id]
    if teams:
        clauses.append(and_(Task.assignee_id.is_(None), Task.team.in_(teams)))
    return or_(*clauses)


def work_order(today: dt.date) -> tuple[Any, ...]:
    """Overdue first, then by due date, the most urgent first on a day."""
    overdue = case((Task.due_on < today, 0), else_=1)
    urgency = case(
        (Task.priority == TaskPriority.urgent, 0),
        (Task.priority == TaskPriority.high, 1),
        (Task.priority == TaskPriority.normal, 2),
        else_=3,
    )
    return (overdue, Task.due_on, urgency, Task.id)


def get_task(session: Session, user: Any, task_id: int) -> Task:
    task = session.scalar(visible(user).where(Task.id == task_id))
    if task is None:
        raise NotFoundError(_("Task not found."))
    return task


def may_work_on(user: Any, task: Task) -> bool:
    if is_manager(user):
        return True
    return task.assignee_id == user.id or (task.assignee_id is None and task.team in teams_of(user))


def _workable(session: Session, user: Any, task_id: int) -> Task:
    task = get_task(session, user, task_id)
    if not may_work_on(user, task):
        raise ForbiddenError(_("This task is given to someone else."))
    return task


def _open(task: Task) -> None:
    if task.status not in OPEN_STATUSES:
        raise ConflictError(_("This task is already closed."))


def _note(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > NOTE_LENGTH:
        raise ModelValidationError(
            {"result_note": _("Enter at most %(count)d characters.", count=NOTE_LENGTH)},
        )
    return value.strip() or None


def _assignee(
    session: Session, organisation_id: int, assignee_id: Any, team: Any
) -> tuple[int | None, Team | None]:
    """Check an assignment: a user of the agency, or a team, not both."""
    errors: dict[str, str] = {}
    if assignee_id is not None and team is not None:
        errors["team"] = _("Give the task to a user or to a team, not both.")
    chosen_team = None
    if team is not None:
        try:
            chosen_team = Team(team)
        except ValueError:
            errors["team"] = _("Choose USER, MANAGER or ADMIN.")
    if assignee_id is not None:
        found = isinstance(assignee_id, int) and session.scalar(
            select(AppUser.id).where(
                AppUser.id == assignee_id, AppUser.organisation_id == organisation_id
            )
        )
        if not found:
            errors["assignee_id"] = _("Unknown id %(id)s.", id=assignee_id)
    if errors:
        raise ModelValidationError(errors)
    return assignee_id, chosen_team


def _category(session: Session, organisation_id: int, category_id: Any) -> int | None:
    if category_id is None:
        return None
    active = (
        session.scalar(
            select(TaskCategory.active).where(
                TaskCategory.id == category_id, TaskCategory.organisation_id == organisation_id
            )
        )
        if isinstance(category_id, int)
        else None
    )
    if active is None:
        raise ModelValidationError({"category_id": _("Unknown id %(id)s.", id=category_id)})
    if not active:
        # Switched off by a manager (Catégories de tâches): no new task is filed under it.
        raise ModelValidationError({"category_id": _("This category is switched off.")})
    return category_id


def _links(session: Session, organisation_id: int, data: dict[str, Any]) -> dict[str, int | None]:
    """The records the task concerns, each of the agency; a contract brings its client."""
    links: dict[str, int | None] = {}
    errors: dict[str, str] = {}
    for key, model in LINKS.items():
        value = data.get(key)
        if value is None:
            links[key] = None
            continue
        row = session.get(model, value) if isinstance(value, int) else None
        if row is None or row.organisation_id != organisation_id:
            errors[key] = _("Unknown id %(id)s.", id=value)
            continue
        links[key] = value
        if key == "policy_id" and links.get("client_id") is None:
            links["client_id"] = row.client_id
        if key in ("renewal_cycle_id", "premium_notice_id"):
            links["policy_id"] = links.get("policy_id") or row.policy_id
    if errors:
        raise ModelValidationError(errors)
    if links.get("policy_id") and not links.get("client_id"):
        links["client_id"] = session.get(Policy, links["policy_id"]).client_id
    return links


def _title(value: Any) -> str:
    title = " ".join(value.split()) if isinstance(value, str) else ""
    if not title or len(title) > TITLE_LENGTH:
        raise ModelValidationError(
            {"title": _("Enter 1 to %(count)d characters.", count=TITLE_LENGTH)},
        )
    return title


def _due(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ModelValidationError({"due_on": _("Enter a date (YYYY-MM-DD).")}) from None


def _member(enum_type: type, value: Any, field: str, default: Any) -> Any:
    if value is None:
        return default
    try:
        return enum_type(value)
    except ValueError:
        choices = ", ".join(member.value for member in enum_type)
        raise ModelValidationError(
            {field: _("Choose one of: %(choices)s.", choices=choices)}
        ) from None


def create_task(session: Session, user: Any, data: dict[str, Any]) -> Task:
    """A task by hand, in the user's agency; given to the user when nobody is named."""
    organisation_id = user.organisation_id
    if organisation_id is None:
        raise InvalidRequestError(_("Only an agency's people have tasks."))
    title = _title(data.get("title"))
    due_on = _due(data.get("due_on"))
    assignee_id, team = _assignee(
        session, organisation_id, data.get("assignee_id"), data.get("team")
    )
    if assignee_id is None and team is None:
        assignee_id = user.id
    task = Task(
        organisation_id=organisation_id,
        title=title,
        type=_member(TaskType, data.get("type"), "type", TaskType.action),
        priority=_member(TaskPriority, data.get("priority"), "priority", TaskPriority.normal),
        due_on=due_on,
        category_id=_category(session, organisation_id, data.get("category_id")),
        assignee_id=assignee_id,
        team=team,
        status=TaskStatus.todo,
        result_note=_note(data.get("result_note")),
        source=TaskSource.manual,
        created_by_id=user.id,
        **_links(session, organisation_id, data),
    )
    session.add(task)
    session.flush()
    return task


EDITABLE = ("title", "due_on", "priority", "category_id", "result_note")


def update_task(session: Session, user: Any, task_id: int, data: dict[str, Any]) -> Task:
    """Change an open task's title, due date, priority, category or note."""
    task = _workable(session, user, task_id)
    _open(task)
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise ModelValidationError({key: _("Unknown field.") for key in sorted(unknown)})
    if "title" in data:
        task.title = _title(data["title"])
    if "due_on" in data:
        task.due_on = _due(data["due_on"])
    if "priority" in data:
        task.priority = _member(TaskPriority, data["priority"], "priority", task.priority)
    if "category_id" in data:
        task.category_id = _category(session, task.organisation_id, data["category_id"])
    if "result_note" in data:
        task.result_note = _note(data["result_note"])
    session.flush()
    return task


def assign(
    session: Session, user: Any, task_id: int, *, assignee_id: Any = None, team: Any = None
) -> Task:
    """Give an open task to a user of the agency or to a team."""
    task = _workable(session, user, task_id)
    _open(task)
    if assignee_id is None and team is None:
        raise ModelValidationError({"assignee_id": _("Name a user or a team.")})
    task.assignee_id, task.team = _assignee(session, task.organisation_id, assignee_id, team)
    session.flush()
    return task


def reassign_bulk(
    session: Session, user: Any, task_ids: list[Any], *, assignee_id: Any = None, team: Any = None
) -> list[Task]:
    """A manager hands many open tasks to one user or team at once (all or none)."""
    if not is_manager(user):
        raise ForbiddenError(_("Only a manager hands out tasks in bulk."))
    if (
        not isinstance(task_ids, list)
        or not task_ids
        or len(task_ids) > MAX_BULK
        or not all(isinstance(task_id, int) for task_id in task_ids)
    ):
        raise ModelValidationError(
            {"ids": _("Give 1 to %(count)d task ids.", count=MAX_BULK)},
        )
    if assignee_id is None and team is None:
        raise ModelValidationError({"assignee_id": _("Name a user or a team.")})
    tasks = session.scalars(visible(user).where(Task.id.in_(set(task_ids)))).all()
    if len(tasks) != len(set(task_ids)):
        raise NotFoundError(_("Task not found."))
    organisations = {task.organisation_id for task in tasks}
    if len(organisations) != 1:
        raise InvalidRequestError(_("The tasks belong to several agencies."))
    if any(task.status not in OPEN_STATUSES for task in tasks):
        raise ConflictError(_("Some of these tasks are already closed."))
    chosen = _assignee(session, organisations.pop(), assignee_id, team)
    for task in tasks:
        task.assignee_id, task.team = chosen
    session.flush()
    return list(tasks)


def start(session: Session, user: Any, task_id: int) -> Task:
    task = _workable(session, user, task_id)
    if task.status is not TaskStatus.todo:
        raise ConflictError(_("Only a task to do can be started."))
    task.status = TaskStatus.in_progress
    session.flush()
    return task


def _close(task: Task, status: TaskStatus, note: Any) -> None:
    _open(task)
    task.status = status
    task.result_note = _note(note) if note is not None else task.result_note
    task.completed_at = utcnow()


def complete(session: Session, user: Any, task_id: int, result_note: Any = None) -> Task:
    task = _workable(session, user, task_id)
    if task.type is TaskType.validation:
        raise ConflictError(_("A validation task is approved or refused."))
    _close(task, TaskStatus.done, result_note)
    session.flush()
    return task


def decide(
    session: Session, user: Any, task_id: int, outcome: ValidationOutcome, result_note: Any = None
) -> Task:
    """Approve or refuse a validation task (it is then done)."""
    task = _workable(session, user, task_id)
    if task.type is not TaskType.validation:
        raise ConflictError(_("Only a validation task is approved or refused."))
    _close(task, TaskStatus.done, result_note)
    task.outcome = outcome
    session.flush()
    return task


def cancel(session: Session, user: Any, task_id: int, result_note: Any = None) -> Task:
    task = _workable(session, user, task_id)
    _close(task, TaskStatus.cancelled, result_note)
    session.flush()
    return task
