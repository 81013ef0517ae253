"""Cell values of a list export, in the form both writers (CSV and XLSX) take.

A list screen formats for the eye ("31/12/2026", "420,50 €"); an export is read
by a spreadsheet, so dates stay dates (ISO text in CSV, date cells in XLSX shown
in the reader's format), amounts stay numbers (their currency in a column of its
own), enums are translated labels. Datetimes are the organisation's local time,
like on the screens (docs/operations.md, "Dates and time zones"). Text a
spreadsheet would run as a formula is neutralised here, once, for both formats.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _
from markupsafe import Markup

from app.services.workbooks import ILLEGAL_CHARACTERS_RE

# OWASP "CSV injection": a cell starting with one of these is run (or split) by
# Excel and LibreOffice, in CSV and in XLSX pasted elsewhere.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DATETIME_TEXT = "%Y-%m-%d %H:%M:%S"  # ISO 8601 with a space: what Excel reads as a date

Cell = None | str | int | float | decimal.Decimal | dt.date | dt.datetime


@dataclass(frozen=True)
class ExportColumn:
    """One exported column: its header (translated when written) and its value for a row."""

    label: Any  # str or lazy string
    value: Callable[[Any], Any]
    # Datetimes are written in the reader's time zone, unless the column says UTC.
    in_utc: bool = False


def neutralise(text: str) -> str:
    """Text that no spreadsheet runs as a formula: a leading quote makes it literal."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def cell(value: Any) -> Cell:
    """A plain, safe cell value: text neutralised, numbers and dates kept as they are."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, int | float | decimal.Decimal | dt.date):
        return value
    if isinstance(value, Markup):
        value = value.striptags()
    elif isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    # Control characters first: removing one must not uncover a formula ("\x01=1+1").
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def csv_text(value: Cell, decimal_symbol: str = ",") -> str:
    """The CSV text of a cell: ISO dates, numbers with the reader's decimal symbol.

    French Excel splits on ";" and reads "420,50" as a number but "420.50" as text.
    """
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime(DATETIME_TEXT)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f").replace(".", decimal_symbol)
    if isinstance(value, float):
        return repr(value).replace(".", decimal_symbol)
    return str(value)
