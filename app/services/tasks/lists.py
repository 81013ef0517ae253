"""The task lists the screens show: mine (home page, "Mes tâches") and the team's.

One query per list, whatever its length: the contract's number and the client's name
come joined, so a row costs no query of its own (tests/test_screens_queries.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from app.models import AppUser, Client, Policy, Task, TaskCategory, TaskStatus, Team
from app.models.task import OPEN_STATUSES
from app.services.tasks.work import mine_clause, scope_of, work_order

HOME_LIMIT = 10
LIST_LIMIT = 200
RECORD_LIMIT = 10  # a record's page shows this many; its filtered list has them all
STATUS_CHOICES = ("open", "done", "cancelled", "all")


@dataclass(frozen=True)
class TaskFilters:
    team: bool = False  # the agency's tasks (managers), not only mine
    status: str = "open"
    overdue: bool = False
    assignee_id: int | None = None
    team_name: str | None = None
    policy_id: int | None = None  # a record's tasks, whoever has them
    client_id: int | None = None
    premium_notice_id: int | None = None


def task_rows(
    session: Session,
    user: Any,
    today: dt.date,
    filters: TaskFilters = TaskFilters(),
    limit: int = LIST_LIMIT,
) -> list[Any]:
    """The tasks, overdue first then by due date, with their record's and owner's names."""
    query = (
        select(
            Task,
            Policy.number.label("policy_number"),
            Client.first_name,
            Client.last_name,
            Client.company_name,
            AppUser.first_name.label("assignee_first_name"),
            AppUser.last_name.label("assignee_last_name"),
        )
        .outerjoin(Policy, Policy.id == Task.policy_id)
        .outerjoin(Client, Client.id == Task.client_id)
        .outerjoin(AppUser, AppUser.id == Task.assignee_id)
    )
    organisation_id = scope_of(user)
    if organisation_id is not None:
        query = query.where(Task.organisation_id == organisation_id)
    record = any(
        value is not None
        for value in (filters.policy_id, filters.client_id, filters.premium_notice_id)
    )
    if filters.policy_id is not None:
        query = query.where(Task.policy_id == filters.policy_id)
    if filters.client_id is not None:
        query = query.where(Task.client_id == filters.client_id)
    if filters.premium_notice_id is not None:
        query = query.where(Task.premium_notice_id == filters.premium_notice_id)
    if not filters.team and not record:
        query = query.where(mine_clause(user))
    if filters.status == "open":
        query = query.where(Task.status.in_(OPEN_STATUSES))
    elif filters.status in ("done", "cancelled"):
        query = query.where(Task.status == TaskStatus(filters.status))
    if filters.overdue:
        query = query.where(Task.status.in_(OPEN_STATUSES), Task.due_on < today)
    if filters.assignee_id is not None:
        query = query.where(Task.assignee_id == filters.assignee_id)
    if filters.team_name is not None:
        query = query.where(Task.assignee_id.is_(None), Task.team == Team(filters.team_name))
    return list(session.execute(query.order_by(*work_order(today)).limit(limit)))


# The records whose page lists their tasks, and the task's column naming each.
RECORD_COLUMNS = {
    "policy": Task.policy_id,
    "client": Task.client_id,
    "premium_notice": Task.premium_notice_id,
}


def record_task_rows(
    session: Session,
    user: Any,
    today: dt.date,
    record: str,
    record_id: int,
    limit: int = RECORD_LIMIT,
) -> list[Any]:
    """A record's tasks for its page: the open ones first (overdue first), then the closed.

    Every task of the record within the user's agency, whoever it is given to (as its
    filtered list shows them); one query, the assignee's name joined.
    """
    query = (
        select(
            Task,
            AppUser.first_name.label("assignee_first_name"),
            AppUser.last_name.label("assignee_last_name"),
        )
        .outerjoin(AppUser, AppUser.id == Task.assignee_id)
        .where(RECORD_COLUMNS[record] == record_id)
    )
    organisation_id = scope_of(user)
    if organisation_id is not None:
        query = query.where(Task.organisation_id == organisation_id)
    # work_order ranks a closed task past its date as overdue: the open ones lead here.
    open_first = case((Task.status.in_(OPEN_STATUSES), 0), else_=1)
    return list(session.execute(query.order_by(open_first, *work_order(today)).limit(limit)))


def agency_users(session: Session, user: Any) -> list[tuple[int, str]]:
    """The people of the user's agency a task can be given to (id, name)."""
    organisation_id = scope_of(user)
    query = select(AppUser.id, AppUser.first_name, AppUser.last_name, AppUser.username).where(
        AppUser.active.is_(True)
    )
    if organisation_id is not None:
        query = query.where(AppUser.organisation_id == organisation_id)
    rows = session.execute(query.order_by(AppUser.last_name, AppUser.first_name))
    return [
        (row.id, " ".join(p for p in (row.first_name, row.last_name) if p) or row.username)
        for row in rows
    ]


def active_categories(session: Session, user: Any) -> list[tuple[int, str]]:
    """The categories of the user's agency a task or a rule can be filed under (id, name)."""
    organisation_id = scope_of(user)
    query = select(TaskCategory.id, TaskCategory.name).where(TaskCategory.active.is_(True))
    if organisation_id is not None:
        query = query.where(TaskCategory.organisation_id == organisation_id)
    return [(row.id, row.name) for row in session.execute(query.order_by(TaskCategory.name))]
