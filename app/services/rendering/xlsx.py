"""Spreadsheets from a JSON sheet description, written by the workbook writer (constant memory).

A description binds columns to sandboxed Jinja *expressions* (the same
sandbox, filters and context as HTML templates, plus ``row``)::

    {"sheets": [{"title": "Échéancier",
                 "header": [["Contrat", "policy.number"], ["Client", "client.display_name"]],
                 "rows": "instalments",
                 "columns": [{"title": "Échéance", "value": "row.due_date", "format": "date"},
                             {"title": "Montant", "value": "row.amount", "format": "money",
                              "total": "sum"}]}]}

Rows are read one at a time (a generator of 100,000 rows keeps memory flat),
totals are summed while streaming and written as values, text that looks like
a formula stays text, and the last line is the broker's ORIAS mention.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import get_currency_symbol
from flask_babel import gettext as _
from jinja2 import Template, Undefined

from app.services.rendering.compiling import TEMPLATE_ERRORS, as_render_error, template_line
from app.services.rendering.errors import RenderError
from app.services.rendering.formatting import as_date, babel_locale
from app.services.rendering.legal import orias_mention, orias_number
from app.services.rendering.limits import MAX_XLSX_BYTES, MAX_XLSX_ROWS
from app.services.rendering.sandbox import environment
from app.services.rendering.sheets import (
    CompiledSheet,
    column_place,
    compile_description,
    header_place,
    located,
    rows_place,
)
from app.services.workbooks import (
    ILLEGAL_CHARACTERS_RE,
    CellStyle,
    Styled,
    XlsxSheet,
    xlsx_book,
)

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_CELL_CHARS = 32_767  # Excel's limit per cell
DATE_FORMAT = "dd/mm/yyyy"
NUMBER_FORMATS = {
    "number": "#,##0.00",
    "integer": "#,##0",
    "percent": "0.00%",
}
# Excel, LibreOffice and Sheets run a cell typed from these as a formula (CSV/DDE injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_BOLD = CellStyle(bold=True)
_ITALIC = CellStyle(italic=True, size=9)


def _read_paths(paths: list[tuple[str, ...]], row: Any, labels: list[str]) -> list[Any]:
    """``row.a.b`` for each column, through the sandbox's getattr (reports' hot path:
    a template context per row costs more than writing the row)."""
    env = environment()
    values = []
    for label, path in zip(labels, paths, strict=True):
        value = row
        for name in path:
            value = env.getattr(value, name)
        if isinstance(value, Undefined):
            try:
                value._fail_with_undefined_error()
            except TEMPLATE_ERRORS as exc:
                raise RenderError(located(label, as_render_error(exc).message)) from None
        values.append(value)
    return values


# --- writing ---------------------------------------------------------------------


def _evaluate(template: Template, variables: dict[str, Any], labels: list[str]) -> list[Any]:
    env = template.environment
    context = template.new_context(variables, shared=True)
    try:
        try:
            for _ in template.root_render_func(context):
                pass
        except TEMPLATE_ERRORS:
            env.handle_exception()  # re-raises with template line numbers
    except TEMPLATE_ERRORS as exc:
        line = template_line(exc.__traceback__)
        label = labels[line - 1] if line and 0 < line <= len(labels) else labels[0]
        error = as_render_error(exc, line=None)
        raise RenderError(located(label, error.message)) from None
    values = context.vars["result"]
    for label, value in zip(labels, values, strict=False):
        if isinstance(value, Undefined):
            # A missing field is an Undefined until used: fail here, naming the column.
            try:
                value._fail_with_undefined_error()
            except TEMPLATE_ERRORS as exc:
                raise RenderError(located(label, as_render_error(exc).message)) from None
    return values


def _clean_text(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:MAX_CELL_CHARS]


class _SheetWriter:
    def __init__(self, sheet: XlsxSheet, locale: str, currency: str) -> None:
        self.sheet = sheet
        self.locale = locale
        self.currency = currency

    @property
    def rows_written(self) -> int:
        return self.sheet.rows_written

    def money_format(self, currency: str | None) -> str:
        return _money_format(currency or self.currency, self.locale)

    def cell(
        self,
        value: Any,
        kind: str = "auto",
        *,
        currency: str | None = None,
        font: CellStyle | None = None,
    ) -> Any:
        if value is None or value == "":
            return Styled(None, font) if font else None
        number_format = None
        if kind == "text":
            value = str(value)
        elif kind == "date" or (kind == "auto" and hasattr(value, "isoformat")):
            value = as_date(value)
            number_format = DATE_FORMAT
        elif kind in ("money", "number", "integer", "percent"):
            value = _number(value)
            number_format = self.money_format(currency) if kind == "money" else NUMBER_FORMATS[kind]
        elif not isinstance(value, int | float | Decimal):  # bool is an int: kept as is
            value = str(value)
        if isinstance(value, str):
            # Always a string cell, never a formula, whatever its first character.
            value = _clean_text(value)
            return Styled(value, font) if font else value
        if number_format is None and font is None:
            return value
        return Styled(value, _style(number_format, font))

    def append(self, cells: list[Any]) -> None:
        if self.sheet.rows_written >= MAX_XLSX_ROWS:
            raise RenderError(_("A sheet holds at most %(max)s rows.", max=MAX_XLSX_ROWS))
        self.sheet.append(cells)


@functools.lru_cache(maxsize=256)
def _style(number_format: str | None, font: CellStyle | None) -> CellStyle:
    if font is None:
        return CellStyle(number_format)
    return CellStyle(number_format, font.bold, font.italic, font.size)


@functools.lru_cache(maxsize=64)
def _money_format(currency: str, locale: str) -> str:
    """An Excel number format showing the currency where the reader expects it."""
    symbol = get_currency_symbol(currency, locale=babel_locale(locale)).replace('"', "")
    if babel_locale(locale).language == "fr":
        return f'#,##0.00\\ "{symbol}"'
    return f'"{symbol}"#,##0.00'


def _number(value: Any) -> Decimal | int | float:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise TypeError(_("expected a number, got %(value)s", value=repr(value)[:40])) from None


def _write_sheet(writer: _SheetWriter, compiled: CompiledSheet, context: dict[str, Any]) -> None:
    sheet = compiled.sheet
    writer.sheet.column_widths([column.width for column in sheet.columns])
    if compiled.header is not None:
        labels = [header_place(sheet.title, label) for label, _value, _kind in sheet.header]
        values = _evaluate(compiled.header, context, labels)
        for (label, _value, kind), value in zip(sheet.header, values, strict=True):
            writer.append([writer.cell(label, "text", font=_BOLD), writer.cell(value, kind)])
        writer.append([])
    if compiled.rows is None or compiled.columns is None:
        return
    writer.append([writer.cell(column.title, "text", font=_BOLD) for column in sheet.columns])
    writer.sheet.freeze_rows(writer.rows_written)
    rows = _evaluate(compiled.rows, context, [rows_place(sheet.title)])[0]
    if rows is None:
        rows = []
    if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Iterable):
        raise RenderError(located(rows_place(sheet.title), _("expected a list of rows.")))
    labels = [
        column_place(sheet.title, number, column.title)
        for number, column in enumerate(sheet.columns, start=1)
    ]
    totals: list[Any] = [Decimal(0) if c.total == "sum" else 0 for c in sheet.columns]
    variables = dict(context)
    for row in rows:
        variables["row"] = row
        if compiled.paths is not None:
            values = _read_paths(compiled.paths, row, labels)
        else:
            values = _evaluate(compiled.columns, variables, labels)
        cells = []
        for index, (column, value) in enumerate(zip(sheet.columns, values, strict=True)):
            try:
                cells.append(writer.cell(value, column.format, currency=column.currency))
                if column.total == "sum" and value not in (None, ""):
                    totals[index] += Decimal(str(_number(value)))
                elif column.total == "count" and value not in (None, ""):
                    totals[index] += 1
            except (TypeError, ValueError, ArithmeticError) as exc:
                raise RenderError(
                    _(
                        "%(place)s, row %(row)s: %(problem)s",
                        place=labels[index],
                        row=writer.rows_written,
                        problem=str(exc),
                    )
                ) from None
        writer.append(cells)
    if any(column.total for column in sheet.columns):
        total_cells = []
        for index, column in enumerate(sheet.columns):
            if column.total == "sum":
                kind = column.format if column.format in (*NUMBER_FORMATS, "money") else "number"
                total_cells.append(
                    writer.cell(totals[index], kind, currency=column.currency, font=_BOLD)
                )
            elif column.total == "count":
                total_cells.append(writer.cell(totals[index], "integer", font=_BOLD))
            elif index == 0:
                # Document text follows the document's language, not the reader's
                # interface: "Total" in both French and English.
                total_cells.append(writer.cell("Total", "text", font=_BOLD))
            else:
                total_cells.append(None)
        writer.append(total_cells)


def render_xlsx(body: str, context: dict[str, Any], locale: str) -> bytes:
    """The workbook for a description, with the ORIAS mention as each sheet's last line."""
    compiled = compile_description(body)
    number = orias_number(context)
    policy = context.get("policy")
    currency = policy.get("currency") if isinstance(policy, Mapping) else None
    buffer = io.BytesIO()
    # A failed or timed-out render leaves no temporary sheet file behind.
    with xlsx_book(buffer, (DATE_FORMAT, DATE_FORMAT)) as book:
        for sheet in compiled:
            writer = _SheetWriter(book.add_sheet(sheet.sheet.title), locale, currency or "EUR")
            try:
                _write_sheet(writer, sheet, context)
            except TEMPLATE_ERRORS as exc:
                raise as_render_error(exc) from None
            writer.append([])
            writer.append([writer.cell(orias_mention(number, locale), "text", font=_ITALIC)])
    data = buffer.getvalue()
    if len(data) > MAX_XLSX_BYTES:
        raise RenderError(
            _("The spreadsheet is too large (more than %(max)s MB).", max=MAX_XLSX_BYTES >> 20)
        )
    return data
