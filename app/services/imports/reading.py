"""Reading an uploaded file into a table: CSV (sniffed encoding and delimiter) or XLSX.

Everything here refuses garbage with an ImportRefusedError carrying a message for the
user; no other exception may escape, so a hostile file can never become a 500.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from flask_babel import format_decimal
from flask_babel import gettext as _

from app.services.imports.common import ImportRefusedError, Limits, Table, collect_rows
from app.services.imports.xlsx import read_xlsx

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the binary .xls of Excel 97-2003
DELIMITERS = (";", ",", "\t")


def read_table(data: bytes, file_name: str, limits: Limits, known: Callable[[str], bool]) -> Table:
    """The first sheet as a Table; ``known`` recognises a header (to sniff the delimiter)."""
    if len(data) > limits.max_bytes:
        raise ImportRefusedError(too_large_message(limits))
    if not data.strip():
        raise ImportRefusedError(_("The file is empty."))
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if data.startswith(OLE_MAGIC) or extension == "xls":
        raise ImportRefusedError(
            _("Excel 97-2003 workbooks (.xls) are not accepted: save the file as .xlsx or CSV.")
        )
    if extension == "xlsx":
        if not data.startswith(ZIP_MAGIC):
            raise ImportRefusedError(_("This file is not a valid XLSX workbook."))
        table = read_xlsx(data, limits)
    elif extension == "csv":
        if data.startswith(ZIP_MAGIC):
            raise ImportRefusedError(_("This file is not a CSV text file."))
        table = read_csv(data, limits, known)
    else:
        raise ImportRefusedError(_("Only CSV and XLSX files are accepted."))
    if not any(header for header in table.headers):
        raise ImportRefusedError(_("The first row must hold the column names."))
    if not table.rows:
        raise ImportRefusedError(_("The file has no data rows."))
    return table


def too_large_message(limits: Limits) -> str:
    return _(
        "The file is too large: at most %(size)s MB.",
        size=format_decimal(max(limits.max_bytes / 1024 / 1024, 0.01), format="#,##0.##"),
    )


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252 (Excel's French CSV)."""
    if data.startswith(b"\xef\xbb\xbf"):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    else:
        if b"\x00" in data:
            raise ImportRefusedError(_("This file is not a CSV text file."))
        encodings = ("utf-8", "cp1252")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise ImportRefusedError(
        _('The file\'s encoding is not recognised: save it as "CSV UTF-8" and upload it again.')
    )


def read_csv(data: bytes, limits: Limits, known: Callable[[str], bool]) -> Table:
    text = decode_text(data)
    delimiter = sniff_delimiter(text, known)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return collect_rows(enumerate(reader, start=1), limits)
    except csv.Error:
        # The csv module's own field limit (128 KiB), or a broken quote at the end of the file.
        raise ImportRefusedError(
            _("The file could not be read as CSV: check the quotes and the cell lengths.")
        ) from None


def sniff_delimiter(text: str, known: Callable[[str], bool]) -> str:
    """The delimiter under which the header row names the most known columns, then the most."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")

    def score(delimiter: str) -> tuple[int, int]:
        try:
            headers = next(csv.reader([first_line], delimiter=delimiter), [])
        except csv.Error:
            return (0, 0)
        return (sum(1 for header in headers if known(header)), len(headers))

    return max(DELIMITERS, key=score)
