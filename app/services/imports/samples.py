"""Files handed to the user: the template of each kind of import and the error report."""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from app.services.imports.columns import FIELDS
from app.services.imports.common import RowError
from app.services.workbooks import BOLD, Styled, xlsx_book

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def template_csv(kind: str) -> bytes:
    """The headers only, ';'-separated with a BOM: what Excel in French opens and saves."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerow(
        [f.french for f in FIELDS[kind]]
    )
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx(kind: str) -> bytes:
    """The headers on the first sheet (the one imported); a help sheet describes each column."""
    buffer = io.BytesIO()
    with xlsx_book(buffer) as book:
        sheet = book.add_sheet(str(_("Import")))
        sheet.column_widths([max(14, len(f.french) + 4) for f in FIELDS[kind]])
        sheet.append([Styled(f.french, BOLD) for f in FIELDS[kind]])
        help_sheet = book.add_sheet(str(_("Help")))
        help_sheet.append(
            [str(_("Column")), str(_("Also accepted")), str(_("Required")), str(_("Example"))]
        )
        for f in FIELDS[kind]:
            help_sheet.append(
                [
                    f.french,
                    f.also_accepted,
                    str(_("Yes")) if f.required else str(_("No")),
                    f.shown_example(),
                ]
            )
    return buffer.getvalue()


def errors_csv(errors: list[RowError]) -> bytes:
    """Every row error, for the user to fix the file; cells are never read as formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([str(_("Row")), str(_("Column")), str(_("Message"))])
    for error in errors:
        writer.writerow([error.row, _safe(error.column), _safe(error.message)])
    return buffer.getvalue().encode("utf-8-sig")


def _safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value
