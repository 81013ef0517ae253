"""Reading an XLSX workbook without trusting it.

An XLSX is a zip of XML parts. Before openpyxl sees it we check the zip's directory:
the declared uncompressed sizes (zipfile never inflates a member past its declared
size, so the check holds), the number of parts and the compression ratio, which stops
zip bombs. XML entity bombs are stopped by expat itself (>= 2.4 limits amplification).
Formula cells are refused, not evaluated nor taken as text: a formula's cached value
may be stale or absent, and importing "=A1+B1" as a client's name helps nobody.

Nor is the sheet's own account of its size trusted: the declared used range
(``<dimension ref="A1:B2"/>``) is forgotten and rows are read from A1 until they end,
so the row limit counts the rows really there. Row numbers and cell references, which
openpyxl pads up to, are bounded (Excel's last row, MAX_COLUMNS columns).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import zipfile
from collections.abc import Iterator
from typing import Any

from flask_babel import gettext as _

from app.services.imports.common import ImportRefusedError, Limits, Table, collect_rows

log = logging.getLogger(__name__)

MAX_PARTS = 1_000
MAX_RATIO = 200  # XML of a real sheet compresses 10-30x; bombs go far beyond
MAX_COLUMNS = 256  # Excel 2003's width; an import file needs a dozen columns
EXCEL_MAX_ROWS = 1_048_576


def read_xlsx(data: bytes, limits: Limits) -> Table:
    check_zip(data, limits)
    from openpyxl import load_workbook  # heavy: only when a workbook is uploaded

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises KeyError, ValueError, XML errors... on broken files
        log.info("unreadable XLSX upload", exc_info=True)
        raise ImportRefusedError(_("This file is not a valid XLSX workbook.")) from None
    try:
        sheet = _first_visible_sheet(workbook)
        if sheet is None:
            raise ImportRefusedError(_("The workbook has no sheet."))
        return collect_rows(_rows(sheet), limits)
    except ImportRefusedError:
        raise
    except Exception:
        log.info("unreadable XLSX sheet", exc_info=True)
        raise ImportRefusedError(_("This file is not a valid XLSX workbook.")) from None
    finally:
        workbook.close()


def check_zip(data: bytes, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            names = {part.filename for part in parts}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise ImportRefusedError(_("This file is not a valid XLSX workbook.")) from None
    if "xl/workbook.xml" not in names:
        raise ImportRefusedError(_("This file is not a valid XLSX workbook."))
    total = sum(part.file_size for part in parts)
    bomb = len(parts) > MAX_PARTS or total > limits.max_uncompressed_bytes
    bomb = bomb or any(
        part.file_size > 1024 * 1024 and part.file_size > MAX_RATIO * max(part.compress_size, 1)
        for part in parts
    )
    if bomb:
        raise ImportRefusedError(
            _("The workbook expands to too much data once uncompressed: it was refused.")
        )


def _first_visible_sheet(workbook: Any) -> Any:
    """The first sheet the user sees: a hidden sheet before it is not what they mean to import."""
    return next((s for s in workbook.worksheets if s.sheet_state == "visible"), None)


def _rows(sheet: Any) -> Iterator[tuple[int, list[Any]]]:
    """The sheet's rows from A1 on, lazily: the row limit stops the reading, not the sheet's end."""
    # In read-only mode openpyxl reads only the rows and columns the sheet's <dimension>
    # names, from its first cell: a wrong or forged range would drop data silently and
    # hide rows from the row limit. Forget it, and start at A1 whatever it says.
    sheet.reset_dimensions()
    for number, row in enumerate(sheet.iter_rows(min_row=1, min_col=1), start=1):
        if number > EXCEL_MAX_ROWS:
            # Reached only through a forged row number: openpyxl yields an empty row for
            # every number skipped, so r="2000000000" alone would keep us here for hours.
            raise ImportRefusedError(_("This file is not a valid XLSX workbook."))
        if len(row) > MAX_COLUMNS:
            # openpyxl pads a row up to its last cell's column: one far cell per row would
            # make thousands of values per row. The last cell is always a real one.
            from openpyxl.utils import get_column_letter

            raise ImportRefusedError(
                _(
                    "Cell %(cell)s lies beyond column %(column)s: at most %(n)d columns are "
                    "read. Delete the columns after the last one you use (even empty cells "
                    "may hold formatting) and upload the file again.",
                    cell=getattr(row[-1], "coordinate", f"row {number}"),
                    column=get_column_letter(MAX_COLUMNS),
                    n=MAX_COLUMNS,
                )
            )
        values = []
        for cell in row:
            if getattr(cell, "data_type", None) == "f":
                raise ImportRefusedError(
                    _(
                        "Cell %(cell)s holds a formula: formulas are not imported. Paste the "
                        "values instead (Paste special > Values) and upload the file again.",
                        cell=getattr(cell, "coordinate", f"row {number}"),
                    )
                )
            values.append(_plain(cell.value))
        yield number, values


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    if isinstance(value, str):
        return value.strip()
    return value
