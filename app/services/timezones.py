"""Time zones: the database keeps UTC, people read their organisation's local time.

Every stored datetime is naive UTC (app.models.base.utcnow). Each organisation
names its IANA time zone (``Organisation.timezone``, Europe/Paris by default);
screens, exports and exported files convert with ``to_local``. Users who belong
to no organisation (the platform operator) read the default zone.

``reader_zone()`` is the zone of whoever reads: the logged-in user's
organisation in a request, or the one a worker chose with ``reading_in``
(an export job reads for the job's organisation).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import select
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
_READER_ZONE: ContextVar[dt.tzinfo | None] = ContextVar("reader_zone", default=None)

DEFAULT_TIMEZONE = "Europe/Paris"
TIMEZONE_MAX_LENGTH = 64  # the column's width; the longest IANA name has 32 characters


@functools.cache
def timezone_names() -> tuple[str, ...]:
    """Every IANA zone name this system knows, sorted (the choices of the organisation form)."""
    return tuple(sorted(zoneinfo.available_timezones()))


def is_valid_timezone(name: object) -> bool:
    """True for a zone name of the IANA database; never reads a path built from input."""
    # Membership in the known names, not ZoneInfo(name): ZoneInfo opens files named by its key.
    return isinstance(name, str) and name in _known_names()


@functools.cache
def _known_names() -> frozenset[str]:
    return frozenset(timezone_names())


def zone(name: str | None) -> dt.tzinfo:
    """The zone called ``name``, else the default one (and UTC if the system has no zone data)."""
    for candidate in (name, DEFAULT_TIMEZONE):
        if candidate and is_valid_timezone(candidate):
            try:
                return zoneinfo.ZoneInfo(candidate)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # pragma: no cover (broken data)
                log.warning("time zone %s cannot be loaded", candidate)
    return dt.UTC


def organisation_zone(session: Session, organisation_id: int | None) -> dt.tzinfo:
    """The zone of this organisation (the default one for none)."""
    if organisation_id is None:
        return zone(None)
    from app.models import Organisation

    name = session.scalar(select(Organisation.timezone).where(Organisation.id == organisation_id))
    return zone(name)


def to_local(value: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """A stored (naive UTC) datetime as wall-clock time in ``tz``, naive, to the second."""
    moment = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return moment.astimezone(tz).replace(tzinfo=None, microsecond=0)


def reader_zone() -> dt.tzinfo:
    """The zone times are shown in: the worker's choice, else the user's organisation's."""
    chosen = _READER_ZONE.get()
    if chosen is not None:
        return chosen
    from app.services.scope import current_user

    # The user is loaded with its organisation (app/security.py): no query here.
    organisation = getattr(current_user(), "organisation", None)
    return zone(getattr(organisation, "timezone", None))


@contextmanager
def reading_in(tz: dt.tzinfo) -> Iterator[dt.tzinfo]:
    """Show and read times in ``tz`` inside the block (tasks, which have no user)."""
    token = _READER_ZONE.set(tz)
    try:
        yield tz
    finally:
        _READER_ZONE.reset(token)


def to_utc(value: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """Wall-clock time typed in ``tz`` (naive) as a stored value (naive UTC)."""
    moment = value.replace(tzinfo=tz) if value.tzinfo is None else value
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def local_today(tz: dt.tzinfo) -> dt.date:
    """Today's date where the agency is (its day may not be UTC's)."""
    return dt.datetime.now(tz).date()
