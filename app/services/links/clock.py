"""The one clock of the link services, so tests can move time without sleeping."""

from __future__ import annotations

import calendar
import datetime as dt

from app.models.base import utcnow

EPOCH = dt.datetime(1970, 1, 1)


def now() -> dt.datetime:
    """Naive UTC, like every datetime column of the schema. Tests monkeypatch this."""
    return utcnow()


def to_seconds(value: dt.datetime) -> int:
    """Unix seconds of a naive UTC datetime."""
    return calendar.timegm(value.utctimetuple())


def to_millis(value: dt.datetime) -> int:
    return to_seconds(value) * 1000 + value.microsecond // 1000


def from_seconds(seconds: int) -> dt.datetime:
    return EPOCH + dt.timedelta(seconds=seconds)


def from_millis(millis: int) -> dt.datetime:
    # Integer arithmetic: a float timestamp could land a millisecond off.
    return EPOCH + dt.timedelta(milliseconds=millis)


def iso_utc(value: dt.datetime) -> str:
    """ISO 8601 with a Z, as the API answers times."""
    return value.replace(microsecond=0).isoformat() + "Z"
