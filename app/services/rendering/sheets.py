"""Sheet descriptions: the JSON body of an XLSX template, parsed and compiled.

Every problem is a TemplateSyntaxProblem that says where it is (sheet, column,
and the line of the body when the text can be found), so a version with a
mistake is refused when it is saved, not when a document is made.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Template, TemplateSyntaxError, nodes
from jinja2.parser import Parser

from app.services.rendering.errors import TemplateSyntaxProblem
from app.services.rendering.sandbox import environment

FORMATS = ("auto", "text", "date", "money", "number", "integer", "percent")
TOTALS = ("sum", "count")
MAX_SHEETS = 20
MAX_COLUMNS = 200
MAX_HEADER = 50
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

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


def check_description(body: str) -> None:
    compile_description(body)
