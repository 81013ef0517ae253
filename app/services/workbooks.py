"""Write-only openpyxl workbooks that leave nothing behind when writing fails.

openpyxl's write-only sheets stream their rows into temporary files that it only
deletes when the workbook is saved or the process exits. A long-lived worker whose
exports, reports or renders fail would otherwise fill the temporary folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

# Dates stay date cells (a spreadsheet sorts and computes them); their display follows
# the reader's language like the screens: day-first in French, the month spelt in English.
DATE_NUMBER_FORMATS = {
    "fr": ("dd/mm/yyyy", "dd/mm/yyyy hh:mm"),
    "en": ("d mmm yyyy", "d mmm yyyy hh:mm"),
}


def date_number_formats() -> tuple[str, str]:
    """(date format, datetime format) of XLSX cells for the current language."""
    from flask_babel import get_locale

    language = getattr(get_locale(), "language", None)
    return DATE_NUMBER_FORMATS.get(language or "fr", DATE_NUMBER_FORMATS["fr"])


def date_number_format(value: dt.date, formats: tuple[str, str]) -> str:
    """The format of one date or datetime cell, from ``date_number_formats()``."""
    return formats[1] if isinstance(value, dt.datetime) else formats[0]


@contextlib.contextmanager
def write_only_workbook() -> Iterator[Any]:
    """A write-only Workbook whose temporary files are deleted if the block fails."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    try:
        yield workbook
    except BaseException:
        discard(workbook)
        raise


def discard(workbook: Any) -> None:
    """Close and delete the temporary files of a workbook that will not be saved."""
    for worksheet in workbook._sheets:
        writer = getattr(worksheet, "_writer", None)
        if writer is None:
            continue
        with contextlib.suppress(Exception):
            if worksheet._rows is not None:
                worksheet._rows.close()
        with contextlib.suppress(Exception):
            writer.close()
        with contextlib.suppress(Exception):
            writer.cleanup()
