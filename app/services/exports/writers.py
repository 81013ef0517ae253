"""The two export files, written as rows come from the database.

CSV is a generator of byte chunks (the response streams it: nothing but the
current chunk is in memory). XLSX cannot be streamed while it is written (it is
a zip whose directory comes last): openpyxl's write-only mode writes it into a
spooled temporary file, kept in memory while small and moved to disk beyond.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from app.services.exports.cells import Cell, csv_text, xlsx_value
from app.services.workbooks import date_number_format, date_number_formats, write_only_workbook

CSV_DELIMITER = ";"  # French Excel's list separator (the comma is its decimal symbol)
CSV_CHUNK_BYTES = 64 * 1024
SPOOL_MAX_BYTES = 8 * 1024 * 1024
SHEET_TITLE_MAX = 31  # Excel's limit


def csv_chunks(
    header: Sequence[Any], rows: Iterable[Sequence[Cell]], *, decimal_symbol: str = ","
) -> Iterator[bytes]:
    """UTF-8 with a BOM (so Excel reads the accents right), ';'-separated, in ~64 KB chunks."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow([str(label) for label in header])
    for row in rows:
        writer.writerow([csv_text(value, decimal_symbol) for value in row])
        if buffer.tell() >= CSV_CHUNK_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def xlsx_file(header: Sequence[Any], rows: Iterable[Sequence[Cell]], *, title: str) -> IO[bytes]:
    """The workbook in a spooled temporary file, rewound; the caller closes it."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    date_formats = date_number_formats()
    # A database error half-way leaves no temporary sheet file in the web worker.
    with write_only_workbook() as workbook:
        sheet = workbook.create_sheet(_sheet_title(title))
        sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        header_cells = []
        for label in header:
            header_cell = WriteOnlyCell(sheet, value=xlsx_value(str(label)))
            header_cell.font = bold
            header_cells.append(header_cell)
        sheet.append(header_cells)
        for row in rows:
            sheet.append([_xlsx_cell(sheet, value, WriteOnlyCell, date_formats) for value in row])
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)  # noqa: SIM115 (returned)
        try:
            workbook.save(spool)
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
    return spool


def _xlsx_cell(sheet: Any, value: Cell, cell_class: Any, date_formats: tuple[str, str]) -> Any:
    # Dates get the reader's display format; other values go in as they are (cheaper).
    if isinstance(value, dt.datetime | dt.date):
        date_cell = cell_class(sheet, value=value)
        date_cell.number_format = date_number_format(value, date_formats)
        return date_cell
    return xlsx_value(value)


def _sheet_title(title: str) -> str:
    cleaned = "".join(" " if char in "[]:*?/\\" else char for char in str(title))
    return cleaned.strip()[:SHEET_TITLE_MAX] or "Export"
