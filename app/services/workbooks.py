"""The one XLSX writer: xlsxwriter in constant-memory mode, leaving nothing behind.

Every write-only workbook (list exports, report jobs, XLSX documents, commission
statements and remittances, import templates) goes through ``xlsx_book``; openpyxl only reads
(imports, previews). xlsxwriter writes each row to a temporary file as soon as
the next row starts, so memory stays flat whatever the row count, and it writes
faster than openpyxl's write-only mode did (docs/benchmarks.md, "XLSX writers").

Cell safety lives here, once for every caller:
- text is always written as a string cell (never a formula, a URL or a number,
  whatever its first character), with the control characters XML forbids removed;
- Decimal, int and float are number cells; dates and datetimes are date cells in
  the reader's display format unless the cell says otherwise;
- every temporary file of a book (rows, parts being zipped) lives in a folder of its
  own, deleted when the book is closed or abandoned: a long-lived worker whose
  exports, reports or renders fail does not fill the temporary folder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import decimal
import enum
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

# Dates stay date cells (a spreadsheet sorts and computes them); their display follows
# the reader's language like the screens: day-first in French, the month spelt in English.
DATE_NUMBER_FORMATS = {
    "fr": ("dd/mm/yyyy", "dd/mm/yyyy hh:mm"),
    "en": ("d mmm yyyy", "d mmm yyyy hh:mm"),
}
MAX_ROWS = 1_048_576  # Excel's limit per sheet
# XML 1.0 forbids these; xlsxwriter would write them as visible "_x0001_" escapes.
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_BOOK_OPTIONS = {
    "constant_memory": True,
    # Text is data: never turned into a formula, a hyperlink or a number.
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def date_number_formats() -> tuple[str, str]:
    """(date format, datetime format) of XLSX cells for the current language."""
    from flask_babel import get_locale

    language = getattr(get_locale(), "language", None)
    return DATE_NUMBER_FORMATS.get(language or "fr", DATE_NUMBER_FORMATS["fr"])


def date_number_format(value: dt.date, formats: tuple[str, str]) -> str:
    """The format of one date or datetime cell, from ``date_number_formats()``."""
    return formats[1] if isinstance(value, dt.datetime) else formats[0]


@dataclass(frozen=True)
class CellStyle:
    """How a cell looks: an Excel number format and the font."""

    number_format: str | None = None
    bold: bool = False
    italic: bool = False
    size: float | None = None


BOLD = CellStyle(bold=True)


@dataclass(frozen=True, slots=True)
class Styled:
    """A cell value with a style of its own (a plain value is written faster)."""

    value: Any
    style: CellStyle


class XlsxSheet:
    """One sheet; rows are appended in order and leave memory as the next one starts."""

    def __init__(self, book: XlsxBook, worksheet: Any) -> None:
        self._book = book
        self._ws = worksheet
        self._column_formats: list[Any] = []
        self.rows_written = 0

    def column_widths(self, widths: Sequence[float | None]) -> None:
        """Widths in characters, from the first column; None keeps the default."""
        for index, width in enumerate(widths):
            if width:
                self._ws.set_column(index, index, width)

    def column_styles(self, styles: dict[int, CellStyle]) -> None:
        """The style of every non-empty cell of these columns (by index from 0) from now on.

        Cheaper than a ``Styled`` per cell; a ``Styled`` cell keeps its own style.
        """
        formats: list[Any] = [None] * (max(styles, default=-1) + 1)
        for index, style in styles.items():
            formats[index] = self._book.format(style)
        self._column_formats = formats

    def freeze_rows(self, count: int) -> None:
        """Keep the first ``count`` rows in view when scrolling."""
        self._ws.freeze_panes(count, 0)

    def append(self, cells: Sequence[Any]) -> None:
        """Write one row: None is an empty cell, ``Styled`` carries its own style."""
        row = self.rows_written
        if row >= MAX_ROWS:
            raise ValueError(f"a sheet holds at most {MAX_ROWS} rows")
        # The hot loop of every export: the common types are written here directly.
        ws = self._ws
        formats = self._column_formats
        styled = len(formats)
        book = self._book
        for column, value in enumerate(cells):
            if value is None:
                continue
            cell_format = formats[column] if column < styled else None
            kind = type(value)
            if kind is str:
                if not value.isprintable():  # rare: only then look for control characters
                    value = ILLEGAL_CHARACTERS_RE.sub("", value)
                # A string cell: never a formula, whatever its first character.
                ws._write_string(row, column, value, cell_format)
            elif kind is int or kind is decimal.Decimal or kind is float:
                ws._write_number(row, column, value, cell_format)
            elif kind is dt.date:
                ws._write_datetime(row, column, value, cell_format or book.date_format)
            elif kind is dt.datetime:
                ws._write_datetime(row, column, value, cell_format or book.datetime_format)
            elif kind is Styled:
                self._write(row, column, value.value, value.style)
            else:
                self._write(row, column, value, None, cell_format)
        self.rows_written = row + 1

    def _write(
        self, row: int, column: int, value: Any, style: CellStyle | None, cell_format: Any = None
    ) -> None:
        """Any value, with a style (``Styled``) or a column's format; the slow path."""
        ws = self._ws
        book = self._book
        if style is not None:
            cell_format = book.format(style)
        if value is None:
            if cell_format is not None:
                ws._write_blank(row, column, None, cell_format)
        elif isinstance(value, enum.Enum):  # before str: a str-based enum writes its value
            self._write(row, column, value.value, style, cell_format)
        elif isinstance(value, str):
            text = str(value)  # Markup and other str subclasses: their text
            ws._write_string(row, column, ILLEGAL_CHARACTERS_RE.sub("", text), cell_format)
        elif isinstance(value, bool):
            ws._write_boolean(row, column, value, cell_format)
        elif isinstance(value, int | float | decimal.Decimal):
            ws._write_number(row, column, value, cell_format)
        elif isinstance(value, dt.date):
            if style is not None and style.number_format is None:
                # A styled date without a number format still reads as a date.
                number_format = date_number_format(value, book.date_formats)
                cell_format = book.format(dataclasses.replace(style, number_format=number_format))
            elif cell_format is None:
                is_datetime = isinstance(value, dt.datetime)
                cell_format = book.datetime_format if is_datetime else book.date_format
            ws._write_datetime(row, column, value, cell_format)
        else:
            # Lazy strings and anything else: their text.
            self._write(row, column, str(value), style, cell_format)


class XlsxBook:
    """A workbook being written to ``target`` (a path or a binary file object)."""

    def __init__(self, target: str | Path | IO[bytes], date_formats: tuple[str, str]) -> None:
        import xlsxwriter  # imported by the first workbook, not at every start-up

        self.date_formats = date_formats
        self._scratch = tempfile.mkdtemp(prefix="xlsx-")
        try:
            self._workbook = xlsxwriter.Workbook(
                str(target) if isinstance(target, Path) else target,
                {**_BOOK_OPTIONS, "tmpdir": self._scratch},
            )
        except BaseException:
            shutil.rmtree(self._scratch, ignore_errors=True)
            raise
        self._formats: dict[CellStyle, Any] = {}
        self.date_format = self.format(CellStyle(date_formats[0]))
        self.datetime_format = self.format(CellStyle(date_formats[1]))

    def add_sheet(self, title: str) -> XlsxSheet:
        return XlsxSheet(self, self._workbook.add_worksheet(title))

    def format(self, style: CellStyle) -> Any:
        cached = self._formats.get(style)
        if cached is None:
            properties: dict[str, Any] = {}
            if style.number_format:
                properties["num_format"] = style.number_format
            if style.bold:
                properties["bold"] = True
            if style.italic:
                properties["italic"] = True
            if style.size:
                properties["font_size"] = style.size
            cached = self._formats[style] = self._workbook.add_format(properties)
        return cached

    def close(self) -> None:
        """Write the file and delete the temporary ones."""
        try:
            self._workbook.close()
        finally:
            self.discard()

    def discard(self) -> None:
        """Close and delete the temporary files of a book that will not be (or was) saved."""
        for worksheet in self._workbook.worksheets():
            handle = getattr(worksheet, "row_data_fh", None)
            if handle is not None:
                with contextlib.suppress(Exception):
                    handle.close()
        self._workbook.fileclosed = True  # xlsxwriter's __del__ would try to save it
        shutil.rmtree(self._scratch, ignore_errors=True)


@contextlib.contextmanager
def xlsx_book(
    target: str | Path | IO[bytes], date_formats: tuple[str, str] | None = None
) -> Iterator[XlsxBook]:
    """A book written to ``target`` when the block ends; nothing left behind if it fails.

    ``date_formats`` defaults to the current language's (``date_number_formats()``).
    """
    book = XlsxBook(target, date_formats or date_number_formats())
    try:
        yield book
    except BaseException:
        book.discard()
        raise
    book.close()
