"""Reading an XLSX workbook without trusting it.

An XLSX is a zip of XML parts. Before openpyxl sees it we check the zip's directory:
the declared uncompressed sizes (zipfile never inflates a member past its declared
size, so the check holds), the number of parts and the compression ratio, which stops
zip bombs. XML entity bombs are stopped by expat itself (>= 2.4 limits amplification).
Formula cells are refused, not evaluated nor taken as text: a formula's cached value
may be stale or absent, and importing "=A1+B1" as a client's name helps nobody.
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


def read_xlsx(data: bytes, limits: Limits) -> Table:
    check_zip(data, limits)
    from openpyxl import load_workbook  # heavy: only when a workbook is uploaded

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises KeyError, ValueError, XML errors... on broken files
        log.info("unreadable XLSX upload", exc_info=True)
        raise ImportRefusedError(_("This file is not a valid XLSX workbook.")) from None
    try:
        if not workbook.worksheets:
            raise ImportRefusedError(_("The workbook has no sheet."))
        return collect_rows(_rows(workbook.worksheets[0]), limits)
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


def _rows(sheet: Any) -> Iterator[tuple[int, list[Any]]]:
    for number, row in enumerate(sheet.iter_rows(), start=1):
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
