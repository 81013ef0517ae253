"""List filters on dates and times, read as the reader means them.

FAB's filters parse a value with dateutil (month first: "10/12/2025" is 12 October)
and compare a datetime with the stored UTC value, so "after 14:00" typed in Paris
meant 15:00 there. Ours read ISO (what the browser's date inputs send) or a
day-first date in French, and turn wall-clock time in the reader's zone into UTC
(app/services/timezones.py). A datetime filter covers what the screen shows: a
whole day when only a date is given, else the minute.

- equal: within that day (or minute); not equal: outside it;
- greater: after it; smaller: before it.

Same filter names and order as FAB's, so list URLs (``_flt_<n>_<column>``) keep
their meaning.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dateutil import parser as dateutil_parser
from flask_appbuilder.models.sqla.filters import (
    FilterEqual,
    FilterGreater,
    FilterNotEqual,
    FilterSmaller,
    SQLAFilterConverter,
    get_field_setup_query,
)
from sqlalchemy import or_
from sqlalchemy.orm import Query

from app.services.timezones import reader_zone, to_utc
from app.views.dates import reader_language

DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)


def typed_moment(value: Any) -> tuple[dt.datetime, bool] | None:
    """(the datetime typed, True when only a date was) or None for no date at all."""
    text = str(value or "").strip()
    if not text or len(text) > 40:
        return None
    whole_day = ":" not in text
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = dateutil_parser.parse(text, dayfirst=reader_language() == "fr")
        except (ValueError, OverflowError):
            return None
    return parsed, whole_day


def utc_range(value: Any) -> tuple[dt.datetime, dt.datetime] | None:
    """[start, end) in stored UTC of the day or minute typed in the reader's zone."""
    typed = typed_moment(value)
    if typed is None:
        return None
    moment, whole_day = typed
    if whole_day:
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + DAY
    else:
        start = moment.replace(second=0, microsecond=0)
        end = start + MINUTE
    zone = reader_zone()
    try:
        return to_utc(start, zone), to_utc(end, zone)
    except OverflowError:  # year 1 or 9999 in a far zone
        return None


class _LocalTime:
    column_name: str
    model: Any

    def _field(self, query: Query) -> tuple[Query, Any]:
        return get_field_setup_query(query, self.model, self.column_name)


class LocalTimeEqual(_LocalTime, FilterEqual):
    def apply(self, query: Query, value: Any) -> Query:
        bounds = utc_range(value)
        if bounds is None:
            return query
        query, field = self._field(query)
        return query.filter(field >= bounds[0], field < bounds[1])


class LocalTimeGreater(_LocalTime, FilterGreater):
    def apply(self, query: Query, value: Any) -> Query:
        bounds = utc_range(value)
        if bounds is None:
            return query
        query, field = self._field(query)
        return query.filter(field >= bounds[1])


class LocalTimeSmaller(_LocalTime, FilterSmaller):
    def apply(self, query: Query, value: Any) -> Query:
        bounds = utc_range(value)
        if bounds is None:
            return query
        query, field = self._field(query)
        return query.filter(field < bounds[0])


class LocalTimeNotEqual(_LocalTime, FilterNotEqual):
    def apply(self, query: Query, value: Any) -> Query:
        bounds = utc_range(value)
        if bounds is None:
            return query
        query, field = self._field(query)
        return query.filter(or_(field < bounds[0], field >= bounds[1]))


def _typed_day(value: Any) -> dt.date | None:
    typed = typed_moment(value)
    return typed[0].date() if typed is not None else None


class DayEqual(FilterEqual):
    def apply(self, query: Query, value: Any) -> Query:
        day = _typed_day(value)
        return query if day is None else super().apply(query, day)


class DayGreater(FilterGreater):
    def apply(self, query: Query, value: Any) -> Query:
        day = _typed_day(value)
        return query if day is None else super().apply(query, day)


class DaySmaller(FilterSmaller):
    def apply(self, query: Query, value: Any) -> Query:
        day = _typed_day(value)
        return query if day is None else super().apply(query, day)


class DayNotEqual(FilterNotEqual):
    def apply(self, query: Query, value: Any) -> Query:
        day = _typed_day(value)
        return query if day is None else super().apply(query, day)


def _with_local_dates(table: tuple[Any, ...]) -> tuple[Any, ...]:
    replaced = {
        "is_date": [DayEqual, DayGreater, DaySmaller, DayNotEqual],
        "is_datetime": [LocalTimeEqual, LocalTimeGreater, LocalTimeSmaller, LocalTimeNotEqual],
    }
    return tuple((marker, replaced.get(marker, filters)) for marker, filters in table)


class LocalDateFilterConverter(SQLAFilterConverter):
    """FAB's filters, with ours for date and datetime columns."""

    conversion_table = _with_local_dates(SQLAFilterConverter.conversion_table)
