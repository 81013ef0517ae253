"""Dates and times as the reader writes them: one format per language, local time.

French is day-first (10/12/2025, 10/12/2025 14:05); English spells the month, so
no reader takes 10/12 for October (10 Dec 2025, 10 Dec 2025 14:05). Datetimes
are stored in UTC and shown in the reader's organisation's time zone
(app/services/timezones.py), to the minute. Forms use the browser's own date
input (app/views/fields.py), which shows the reader's format and posts ISO.

Every screen goes through ``format_when``: FAB cells through ``date_formatter``
(app/views/labels.py), our templates through the ``when`` filter.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from babel.dates import format_date, format_datetime
from flask import Flask, g, has_request_context
from flask_babel import get_locale

from app.services.timezones import local_today, reader_zone, to_local

# Babel (CLDR) patterns, per language.
DATE_PATTERNS = {"fr": "dd/MM/yyyy", "en": "d MMM yyyy"}
DATETIME_PATTERNS = {"fr": "dd/MM/yyyy HH:mm", "en": "d MMM yyyy HH:mm"}
DEFAULT_LANGUAGE = "fr"


def reader_language() -> str:
    locale = get_locale()
    language = getattr(locale, "language", None) or DEFAULT_LANGUAGE
    return language if language in DATE_PATTERNS else DEFAULT_LANGUAGE


def format_day(value: dt.date, language: str | None = None) -> str:
    """10/12/2025 in French, 10 Dec 2025 in English."""
    language = language or reader_language()
    return format_date(value, DATE_PATTERNS[language], locale=language)


def format_moment(
    value: dt.datetime, language: str | None = None, tz: dt.tzinfo | None = None
) -> str:
    """A stored (UTC) datetime in the reader's zone: 10/12/2025 14:05, 10 Dec 2025 14:05."""
    language = language or reader_language()
    local = to_local(value, tz or reader_zone())
    return format_datetime(local, DATETIME_PATTERNS[language], locale=language)


def format_when(value: Any) -> str:
    """Any cell: a datetime or a date as above, blank for none, other values as text."""
    if isinstance(value, dt.datetime):
        return format_moment(value)
    if isinstance(value, dt.date):
        return format_day(value)
    return "" if value is None else str(value)


def format_iso_text(value: Any) -> str:
    """A value recorded as ISO text (an audit entry's dates), shown like any date."""
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            parsed: dt.date = (
                dt.datetime.fromisoformat(value)
                if len(value) > 10
                else dt.date.fromisoformat(value)
            )
        except ValueError:
            return value
        if isinstance(parsed, dt.datetime) and parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
        return format_when(parsed)
    return "" if value is None else str(value)


def init_dates(app: Flask) -> None:
    """``{{ value|when }}`` in every template."""
    app.add_template_filter(format_when, "when")


def reader_today() -> dt.date:
    """Today where the reader's agency is (an export job reads for the job's agency).

    Kept for the request: a streamed export reads its rows after the request's session
    is gone, when the user's agency can no longer be loaded.
    """
    if not has_request_context():
        return local_today(reader_zone())
    if "renewals_today" not in g:
        g.renewals_today = local_today(reader_zone())
    return g.renewals_today
