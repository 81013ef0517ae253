"""Document generation per day (ready vs failed) and failed jobs per day over the period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Document, DocumentStatus, Job, JobStatus
from app.services.dashboard.scope import Scope, day_key, day_of, scoped


@dataclass(frozen=True)
class DailyCounts:
    days: list[dt.date]  # every day of the period up to today, oldest first
    series: dict[str, list[int]]

    def total(self, name: str) -> int:
        return sum(self.series[name])

    def by_week(self) -> DailyCounts:
        """The same counts summed per week (Monday to Sunday); ``days`` are each week's
        first day in the period (the period's first day for a week it starts inside)."""
        starts: list[dt.date] = []
        series: dict[str, list[int]] = {name: [] for name in self.series}
        for position, day in enumerate(self.days):
            if not starts or day.weekday() == 0:
                starts.append(day)
                for values in series.values():
                    values.append(0)
            for name, values in series.items():
                values[-1] += self.series[name][position]
        return DailyCounts(days=starts, series=series)


def period_days(scope: Scope) -> list[dt.date]:
    """Days in [start, min(end, tomorrow)): the future holds no documents yet."""
    last = min(scope.end, scope.today + dt.timedelta(days=1))
    count = max((last - scope.start).days, 0)
    return [scope.start + dt.timedelta(days=offset) for offset in range(count)]


def _spread(days: list[dt.date], rows: list[tuple[Any, str, int]], names: list[str]) -> DailyCounts:
    index = {day: position for position, day in enumerate(days)}
    series = {name: [0] * len(days) for name in names}
    for key, name, count in rows:
        position = index.get(day_of(key))
        if position is not None and name in series:
            series[name][position] += int(count)
    return DailyCounts(days=days, series=series)


def documents_per_day(session: Session, scope: Scope) -> DailyCounts:
    """Documents created per day (UTC), ready and failed; queued/running ones are in flight."""
    day = day_key(Document.created_at, scope.dialect).label("day")
    wanted = [DocumentStatus.ready, DocumentStatus.failed]
    statement = (
        select(day, Document.status, func.count())
        .where(
            Document.created_at >= scope.start_at,
            Document.created_at < scope.end_at,
            Document.status.in_(wanted),
        )
        .group_by(day, Document.status)
    )
    rows = session.execute(scoped(statement, Document, scope)).all()
    named = [(key, DocumentStatus(status).value, count) for key, status, count in rows]
    return _spread(period_days(scope), named, [status.value for status in wanted])


def failed_jobs_per_day(session: Session, scope: Scope) -> DailyCounts:
    """Jobs created per day (UTC) that ended failed."""
    day = day_key(Job.created_at, scope.dialect).label("day")
    statement = (
        select(day, func.count())
        .where(
            Job.created_at >= scope.start_at,
            Job.created_at < scope.end_at,
            Job.status == JobStatus.failed,
        )
        .group_by(day)
    )
    rows = session.execute(scoped(statement, Job, scope)).all()
    return _spread(period_days(scope), [(key, "failed", count) for key, count in rows], ["failed"])
