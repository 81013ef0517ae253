"""The two export files, written as rows come from the database.

CSV is a generator of byte chunks (the response streams it: nothing but the
current chunk is in memory). XLSX cannot be streamed while it is written (it is
a zip whose directory comes last): the workbook writer (app/services/workbooks.py,
constant memory) writes it into a spooled temporary file, kept in memory while
small and moved to disk beyond.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from app.services.exports.cells import Cell, csv_text
from app.services.workbooks import BOLD, Styled, xlsx_book

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
    """The workbook in a spooled temporary file, rewound; the caller closes it.

    Row values come from ``cells.cell`` (text neutralised, dates as dates): the
    writer keeps them typed, dates in the reader's display format.
    """
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)  # noqa: SIM115 (returned)
    try:
        # A database error half-way leaves no temporary sheet file in the web worker.
        with xlsx_book(spool) as book:
            sheet = book.add_sheet(_sheet_title(title))
            sheet.freeze_rows(1)
            sheet.append([Styled(str(label), BOLD) for label in header])
            for row in rows:
                sheet.append(row)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


def _sheet_title(title: str) -> str:
    cleaned = "".join(" " if char in "[]:*?/\\" else char for char in str(title))
    return cleaned.strip()[:SHEET_TITLE_MAX] or "Export"
