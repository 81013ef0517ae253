"""The task list's filters beyond its columns: ``mine`` (given to me or to one of my
teams), ``overdue`` and ``open``, each true or false through FAB's ``q`` (app/api/tasks.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column
from sqlalchemy.orm import Query

from app.api.renewal_schemas import UnregisteredFilter
from app.models import Task
from app.models.task import OPEN_STATUSES
from app.services.scope import current_user
from app.services.tasks import work
from app.services.timezones import local_today, reader_zone


class Mine(UnregisteredFilter):
    name = "Equal to"
    arg_name = "eq"

    def apply(self, query: Query, value: Any) -> Query:
        user = current_user()
        if user is None:
            return query.filter(Task.id.is_(None))
        clause = work.mine_clause(user)
        return query.filter(clause if value else ~clause)


class Overdue(UnregisteredFilter):
    name = "Equal to"
    arg_name = "eq"

    def apply(self, query: Query, value: Any) -> Query:
        late = Task.status.in_(OPEN_STATUSES) & (Task.due_on < local_today(reader_zone()))
        return query.filter(late if value else ~late)


class Open(UnregisteredFilter):
    name = "Equal to"
    arg_name = "eq"

    def apply(self, query: Query, value: Any) -> Query:
        still = Task.status.in_(OPEN_STATUSES)
        return query.filter(still if value else ~still)


EXTRA_FILTERS: dict[str, tuple[Column, list[type[UnregisteredFilter]]]] = {
    "mine": (Column("mine", Boolean()), [Mine]),
    "overdue": (Column("overdue", Boolean()), [Overdue]),
    "open": (Column("open", Boolean()), [Open]),
}
