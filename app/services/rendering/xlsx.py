"""Spreadsheets from a JSON sheet description, written by openpyxl in write-only mode.

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

import contextlib
import functools
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import get_currency_symbol
from jinja2 import Template, TemplateSyntaxError, Undefined, nodes
from jinja2.parser import Parser
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.services.rendering.compiling import TEMPLATE_ERRORS, as_render_error, template_line
from app.services.rendering.errors import RenderError, TemplateSyntaxProblem
from app.services.rendering.formatting import _as_date, babel_locale
from app.services.rendering.legal import orias_mention, orias_number
from app.services.rendering.limits import MAX_XLSX_BYTES, MAX_XLSX_ROWS
from app.services.rendering.sandbox import environment

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("auto", "text", "date", "money", "number", "integer", "percent")
TOTALS = ("sum", "count")
MAX_SHEETS = 20
MAX_COLUMNS = 200
MAX_HEADER = 50
MAX_CELL_CHARS = 32_767  # Excel's limit per cell
DATE_FORMAT = "dd/mm/yyyy"
NUMBER_FORMATS = {
    "number": "#,##0.00",
    "integer": "#,##0",
    "percent": "0.00%",
}
# Excel, LibreOffice and Sheets run a cell typed from these as a formula (CSV/DDE injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_BOLD = Font(bold=True)
_ITALIC = Font(italic=True, size=9)

SHEET_KEYS = {"title", "header", "rows", "columns"}
COLUMN_KEYS = {"title", "value", "format", "total", "width", "currency"}


@dataclass
class Column:
    title: str
    value: str
    format: str = "auto"
    total: str | None = None
    width: float | None = None
    currency: str | None = None


@dataclass
class Sheet:
    title: str
    header: list[tuple[str, str, str]] = field(default_factory=list)
    rows: str | None = None
    columns: list[Column] = field(default_factory=list)


@dataclass
class CompiledSheet:
    sheet: Sheet
    header: Template | None  # evaluates every header value at once
    rows: Template | None
    columns: Template | None  # evaluates every column of one row at once
    # When every column is a plain ``row.a.b`` path: the names, read without a template.
    paths: list[tuple[str, ...]] | None = None


# --- parsing ---------------------------------------------------------------------


def _line_of(body: str, text: str) -> int | None:
    """The line of the description where ``text`` (a JSON string) appears."""
    position = body.find(json.dumps(text, ensure_ascii=False)[1:-1])
    if position == -1:
        position = body.find(json.dumps(text)[1:-1])
    return body.count("\n", 0, position) + 1 if position != -1 else None


def _problem(body: str, where: str, message: str, near: str | None = None) -> TemplateSyntaxProblem:
    return TemplateSyntaxProblem(f"{where}: {message}", line=_line_of(body, near) if near else None)


def _text(value: Any, body: str, where: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise _problem(body, where, "expected a non-empty text")
    return value


def parse_description(body: str) -> list[Sheet]:
    """The sheets of a description; TemplateSyntaxProblem says where it is wrong."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise TemplateSyntaxProblem(
            f"Invalid JSON: {exc.msg} (column {exc.colno}).", line=exc.lineno
        ) from None
    except RecursionError:
        raise TemplateSyntaxProblem("The description is nested too deeply.") from None
    if not isinstance(data, dict) or not isinstance(data.get("sheets"), list):
        raise TemplateSyntaxProblem('The description must be an object with a "sheets" list.')
    unknown = set(data) - {"sheets"}
    if unknown:
        raise TemplateSyntaxProblem(f"Unknown key(s): {', '.join(sorted(unknown))}.")
    if not 1 <= len(data["sheets"]) <= MAX_SHEETS:
        raise TemplateSyntaxProblem(f"Give between 1 and {MAX_SHEETS} sheets.")
    sheets = []
    titles: set[str] = set()
    for index, raw in enumerate(data["sheets"]):
        sheet = _parse_sheet(raw, index, body)
        if sheet.title.lower() in titles:
            raise _problem(body, f"Sheet {index + 1}", "two sheets have this title", sheet.title)
        titles.add(sheet.title.lower())
        sheets.append(sheet)
    return sheets


def _parse_sheet(raw: Any, index: int, body: str) -> Sheet:
    where = f"Sheet {index + 1}"
    if not isinstance(raw, dict):
        raise _problem(body, where, "expected an object")
    unknown = set(raw) - SHEET_KEYS
    if unknown:
        raise _problem(body, where, f"unknown key(s) {', '.join(sorted(unknown))}")
    title = _text(raw.get("title", f"Feuille {index + 1}"), body, f"{where} title")
    if _SHEET_TITLE_FORBIDDEN.search(title) or len(title) > 31:
        raise _problem(
            body, where, "a sheet title has at most 31 characters and none of []:*?/\\", title
        )
    where = f"Sheet '{title}'"
    header = []
    raw_header = raw.get("header", [])
    if not isinstance(raw_header, list) or len(raw_header) > MAX_HEADER:
        raise _problem(body, where, f"header must be a list of at most {MAX_HEADER} entries")
    for number, entry in enumerate(raw_header, start=1):
        if (
            not isinstance(entry, list)
            or len(entry) not in (2, 3)
            or not all(isinstance(part, str) for part in entry)
        ):
            raise _problem(
                body, where, f'header entry {number} must be ["label", "expression", "format"?]'
            )
        entry_format = entry[2] if len(entry) == 3 else "auto"
        if entry_format not in FORMATS:
            raise _problem(
                body, where, f"header entry {number}: format must be one of {', '.join(FORMATS)}"
            )
        header.append((entry[0], entry[1], entry_format))
    rows = raw.get("rows")
    if rows is not None:
        rows = _text(rows, body, f"{where} rows")
    raw_columns = raw.get("columns", [])
    if not isinstance(raw_columns, list) or len(raw_columns) > MAX_COLUMNS:
        raise _problem(body, where, f"columns must be a list of at most {MAX_COLUMNS} columns")
    if rows is not None and not raw_columns:
        raise _problem(body, where, "rows are given but no columns to show them")
    if raw_columns and rows is None:
        raise _problem(body, where, 'columns need "rows": the expression giving the rows')
    columns = [
        _parse_column(column, number, where, body)
        for number, column in enumerate(raw_columns, start=1)
    ]
    return Sheet(title=title, header=header, rows=rows, columns=columns)


def _parse_column(raw: Any, number: int, where: str, body: str) -> Column:
    here = f"{where}, column {number}"
    if not isinstance(raw, dict):
        raise _problem(body, here, "expected an object")
    unknown = set(raw) - COLUMN_KEYS
    if unknown:
        raise _problem(body, here, f"unknown key(s) {', '.join(sorted(unknown))}")
    title = _text(raw.get("title"), body, f"{here} title", required=False)
    here = f"{where}, column {number} '{title}'" if title else here
    column = Column(title=title, value=_text(raw.get("value"), body, f"{here} value"))
    column.format = raw.get("format", "auto")
    if column.format not in FORMATS:
        raise _problem(body, here, f"format must be one of {', '.join(FORMATS)}", column.value)
    column.total = raw.get("total")
    if column.total is not None and column.total not in TOTALS:
        raise _problem(body, here, f"total must be one of {', '.join(TOTALS)}", column.value)
    width = raw.get("width")
    if width is not None and (
        isinstance(width, bool) or not isinstance(width, int | float) or not 1 <= width <= 255
    ):
        raise _problem(body, here, "width must be a number between 1 and 255", column.value)
    column.width = width
    currency = raw.get("currency")
    if currency is not None and (
        not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency)
    ):
        raise _problem(body, here, "currency must be an ISO code such as EUR", column.value)
    column.currency = currency
    return column


# --- compiling -------------------------------------------------------------------


def _compile_expressions(expressions: list[tuple[str, str]], body: str) -> Template:
    """One template evaluating ``[expr1, expr2, ...]``; expression N sits on "line" N.

    One context per row instead of one per cell; the line number tells which
    expression failed at run time.
    """
    env = environment()
    compiled = []
    for number, (source, where) in enumerate(expressions, start=1):
        try:
            parser = Parser(env, source, state="variable")
            node = parser.parse_expression()
            if not parser.stream.eos:
                raise TemplateSyntaxError(
                    "unexpected text after the expression", parser.stream.current.lineno
                )
        except TemplateSyntaxError as exc:
            raise _problem(body, where, exc.message or "syntax error", source) from None
        except RecursionError:
            raise _problem(body, where, "the expression is nested too deeply", source) from None
        node.set_lineno(number, override=True)
        compiled.append(node)
    tree = nodes.Template(
        [nodes.Assign(nodes.Name("result", "store"), nodes.List(compiled), lineno=1)], lineno=1
    )
    tree.set_environment(env)
    return env.from_string(tree)


def compile_description(body: str) -> list[CompiledSheet]:
    compiled = []
    for sheet in parse_description(body):
        where = f"Sheet '{sheet.title}'"
        header = (
            _compile_expressions(
                [(value, f"{where}, header '{label}'") for label, value, _ in sheet.header], body
            )
            if sheet.header
            else None
        )
        rows = _compile_expressions([(sheet.rows, f"{where}, rows")], body) if sheet.rows else None
        columns = (
            _compile_expressions(
                [
                    (column.value, f"{where}, column {number} '{column.title}'")
                    for number, column in enumerate(sheet.columns, start=1)
                ],
                body,
            )
            if sheet.columns
            else None
        )
        paths = [_simple_path(column.value) for column in sheet.columns]
        simple = paths if paths and all(path is not None for path in paths) else None
        compiled.append(CompiledSheet(sheet, header, rows, columns, simple))
    return compiled


_SIMPLE_PATH = re.compile(r"^\s*row((?:\.[A-Za-z][A-Za-z0-9_]*)+)\s*$")


def _simple_path(expression: str) -> tuple[str, ...] | None:
    match = _SIMPLE_PATH.match(expression)
    return tuple(match.group(1)[1:].split(".")) if match else None


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
                raise RenderError(f"{label}: {as_render_error(exc).message}") from None
        values.append(value)
    return values


def check_description(body: str) -> None:
    compile_description(body)


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
        raise RenderError(f"{label}: {error.message}") from None
    values = context.vars["result"]
    for label, value in zip(labels, values, strict=False):
        if isinstance(value, Undefined):
            # A missing field is an Undefined until used: fail here, naming the column.
            try:
                value._fail_with_undefined_error()
            except TEMPLATE_ERRORS as exc:
                raise RenderError(f"{label}: {as_render_error(exc).message}") from None
    return values


def _clean_text(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:MAX_CELL_CHARS]


class _SheetWriter:
    def __init__(self, worksheet: Any, locale: str, currency: str) -> None:
        self.ws = worksheet
        self.locale = locale
        self.currency = currency
        self.rows_written = 0

    def money_format(self, currency: str | None) -> str:
        return _money_format(currency or self.currency, self.locale)

    def cell(
        self,
        value: Any,
        kind: str = "auto",
        *,
        currency: str | None = None,
        font: Font | None = None,
    ) -> Any:
        if value is None or value == "":
            return WriteOnlyCell(self.ws, value=None) if font else None
        number_format = None
        if kind == "text":
            value = str(value)
        elif kind == "date" or (kind == "auto" and hasattr(value, "isoformat")):
            value = _as_date(value)
            number_format = DATE_FORMAT
        elif kind in ("money", "number", "integer", "percent"):
            value = _number(value)
            number_format = self.money_format(currency) if kind == "money" else NUMBER_FORMATS[kind]
        elif not isinstance(value, int | float | Decimal):  # bool is an int: kept as is
            value = str(value)
        if isinstance(value, str):
            value = _clean_text(value)
            if value.startswith(FORMULA_PREFIXES) or font:
                cell = WriteOnlyCell(self.ws, value=value)
                cell.data_type = "s"  # never a formula, whatever its first character
                if font:
                    cell.font = font
                return cell
            return value
        if number_format is None and font is None:
            return value
        cell = WriteOnlyCell(self.ws, value=value)
        if number_format:
            cell.number_format = number_format
        if font:
            cell.font = font
        return cell

    def append(self, cells: list[Any]) -> None:
        self.rows_written += 1
        if self.rows_written > MAX_XLSX_ROWS:
            raise RenderError(f"A sheet holds at most {MAX_XLSX_ROWS:,} rows.")
        self.ws.append(cells)


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
        raise TypeError(f"expected a number, got {value!r:.40}") from None


def _write_sheet(writer: _SheetWriter, compiled: CompiledSheet, context: dict[str, Any]) -> None:
    sheet = compiled.sheet
    for number, column in enumerate(sheet.columns, start=1):
        if column.width:
            writer.ws.column_dimensions[get_column_letter(number)].width = column.width
    if compiled.header is not None:
        labels = [f"Sheet '{sheet.title}', header '{label}'" for label, _, _ in sheet.header]
        values = _evaluate(compiled.header, context, labels)
        for (label, _, kind), value in zip(sheet.header, values, strict=True):
            writer.append([writer.cell(label, "text", font=_BOLD), writer.cell(value, kind)])
        writer.append([])
    if compiled.rows is None or compiled.columns is None:
        return
    writer.append([writer.cell(column.title, "text", font=_BOLD) for column in sheet.columns])
    writer.ws.freeze_panes = f"A{writer.rows_written + 1}"
    rows = _evaluate(compiled.rows, context, [f"Sheet '{sheet.title}', rows"])[0]
    if rows is None:
        rows = []
    if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Iterable):
        raise RenderError(f"Sheet '{sheet.title}', rows: expected a list of rows.")
    labels = [
        f"Sheet '{sheet.title}', column {number} '{column.title}'"
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
                raise RenderError(f"{labels[index]}, row {writer.rows_written}: {exc}") from None
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
                total_cells.append(writer.cell("Total", "text", font=_BOLD))
            else:
                total_cells.append(None)
        writer.append(total_cells)


def _discard(workbook: Workbook) -> None:
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


def render_xlsx(body: str, context: dict[str, Any], locale: str) -> bytes:
    """The workbook for a description, with the ORIAS mention as each sheet's last line."""
    compiled = compile_description(body)
    number = orias_number(context)
    policy = context.get("policy")
    currency = policy.get("currency") if isinstance(policy, Mapping) else None
    workbook = Workbook(write_only=True)
    try:
        for sheet in compiled:
            worksheet = workbook.create_sheet(title=sheet.sheet.title)
            writer = _SheetWriter(worksheet, locale, currency or "EUR")
            try:
                _write_sheet(writer, sheet, context)
            except TEMPLATE_ERRORS as exc:
                raise as_render_error(exc) from None
            writer.append([])
            writer.append([writer.cell(orias_mention(number, locale), "text", font=_ITALIC)])
        buffer = io.BytesIO()
        workbook.save(buffer)
    except BaseException:
        # Also on a timeout: write-only sheets stream into temporary files.
        _discard(workbook)
        raise
    data = buffer.getvalue()
    if len(data) > MAX_XLSX_BYTES:
        raise RenderError(f"The spreadsheet is too large (more than {MAX_XLSX_BYTES >> 20} MB).")
    return data
