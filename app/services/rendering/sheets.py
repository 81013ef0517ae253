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

from flask_babel import gettext as _
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


def sheet_place(sheet: str | int) -> str:
    """Where in the description: a sheet by title, or by position before it has one."""
    if isinstance(sheet, int):
        return _("Sheet %(number)s", number=sheet)
    return _("Sheet '%(title)s'", title=sheet)


def column_place(sheet: str, number: int, title: str | None = None) -> str:
    if title:
        return _(
            "Sheet '%(sheet)s', column %(number)s '%(title)s'",
            sheet=sheet,
            number=number,
            title=title,
        )
    return _("Sheet '%(sheet)s', column %(number)s", sheet=sheet, number=number)


def header_place(sheet: str, label: str) -> str:
    return _("Sheet '%(sheet)s', header '%(label)s'", sheet=sheet, label=label)


def rows_place(sheet: str) -> str:
    return _("Sheet '%(sheet)s', rows", sheet=sheet)


def located(place: str, problem: str) -> str:
    return _("%(place)s: %(problem)s", place=place, problem=problem)


def _problem(body: str, where: str, message: str, near: str | None = None) -> TemplateSyntaxProblem:
    return TemplateSyntaxProblem(
        located(where, message), line=_line_of(body, near) if near else None
    )


def _text(value: Any, body: str, where: str, key: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise _problem(body, where, _('"%(key)s" must be a non-empty text.', key=key))
    return value


def _one_of(choices: tuple[str, ...]) -> str:
    return ", ".join(choices)


def parse_description(body: str) -> list[Sheet]:
    """The sheets of a description; TemplateSyntaxProblem says where it is wrong."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise TemplateSyntaxProblem(
            _("Invalid JSON: %(error)s (column %(column)s).", error=exc.msg, column=exc.colno),
            line=exc.lineno,
        ) from None
    except RecursionError:
        raise TemplateSyntaxProblem(_("The description is nested too deeply.")) from None
    if not isinstance(data, dict) or not isinstance(data.get("sheets"), list):
        raise TemplateSyntaxProblem(_('The description must be an object with a "sheets" list.'))
    unknown = set(data) - {"sheets"}
    if unknown:
        raise TemplateSyntaxProblem(_("Unknown key(s): %(keys)s.", keys=_one_of(sorted(unknown))))
    if not 1 <= len(data["sheets"]) <= MAX_SHEETS:
        raise TemplateSyntaxProblem(_("Give between 1 and %(max)s sheets.", max=MAX_SHEETS))
    sheets = []
    titles: set[str] = set()
    for index, raw in enumerate(data["sheets"]):
        sheet = _parse_sheet(raw, index, body)
        if sheet.title.lower() in titles:
            raise _problem(
                body, sheet_place(index + 1), _("two sheets have this title."), sheet.title
            )
        titles.add(sheet.title.lower())
        sheets.append(sheet)
    return sheets


def _parse_sheet(raw: Any, index: int, body: str) -> Sheet:
    where = sheet_place(index + 1)
    if not isinstance(raw, dict):
        raise _problem(body, where, _("expected an object."))
    unknown = set(raw) - SHEET_KEYS
    if unknown:
        raise _problem(body, where, _("unknown key(s) %(keys)s.", keys=_one_of(sorted(unknown))))
    title = _text(raw.get("title", f"Feuille {index + 1}"), body, where, "title")
    if _SHEET_TITLE_FORBIDDEN.search(title) or len(title) > 31:
        raise _problem(
            body, where, _("a sheet title has at most 31 characters and none of []:*?/\\."), title
        )
    where = sheet_place(title)
    header = []
    raw_header = raw.get("header", [])
    if not isinstance(raw_header, list) or len(raw_header) > MAX_HEADER:
        raise _problem(
            body, where, _('"header" must be a list of at most %(max)s entries.', max=MAX_HEADER)
        )
    for number, entry in enumerate(raw_header, start=1):
        if (
            not isinstance(entry, list)
            or len(entry) not in (2, 3)
            or not all(isinstance(part, str) for part in entry)
        ):
            raise _problem(
                body,
                where,
                _(
                    'header entry %(number)s must be ["label", "expression", "format"?].',
                    number=number,
                ),
            )
        entry_format = entry[2] if len(entry) == 3 else "auto"
        if entry_format not in FORMATS:
            raise _problem(
                body,
                header_place(title, entry[0]),
                _("the format must be one of %(choices)s.", choices=_one_of(FORMATS)),
            )
        header.append((entry[0], entry[1], entry_format))
    rows = raw.get("rows")
    if rows is not None:
        rows = _text(rows, body, where, "rows")
    raw_columns = raw.get("columns", [])
    if not isinstance(raw_columns, list) or len(raw_columns) > MAX_COLUMNS:
        raise _problem(
            body, where, _('"columns" must be a list of at most %(max)s columns.', max=MAX_COLUMNS)
        )
    if rows is not None and not raw_columns:
        raise _problem(body, where, _('"rows" are given but no "columns" to show them.'))
    if raw_columns and rows is None:
        raise _problem(body, where, _('"columns" need "rows": the expression giving the rows.'))
    columns = [
        _parse_column(column, number, title, body)
        for number, column in enumerate(raw_columns, start=1)
    ]
    return Sheet(title=title, header=header, rows=rows, columns=columns)


def _parse_column(raw: Any, number: int, sheet: str, body: str) -> Column:
    here = column_place(sheet, number)
    if not isinstance(raw, dict):
        raise _problem(body, here, _("expected an object."))
    unknown = set(raw) - COLUMN_KEYS
    if unknown:
        raise _problem(body, here, _("unknown key(s) %(keys)s.", keys=_one_of(sorted(unknown))))
    title = _text(raw.get("title"), body, here, "title", required=False)
    here = column_place(sheet, number, title)
    column = Column(title=title, value=_text(raw.get("value"), body, here, "value"))
    column.format = raw.get("format", "auto")
    if column.format not in FORMATS:
        raise _problem(
            body,
            here,
            _("the format must be one of %(choices)s.", choices=_one_of(FORMATS)),
            column.value,
        )
    column.total = raw.get("total")
    if column.total is not None and column.total not in TOTALS:
        raise _problem(
            body,
            here,
            _("the total must be one of %(choices)s.", choices=_one_of(TOTALS)),
            column.value,
        )
    width = raw.get("width")
    if width is not None and (
        isinstance(width, bool) or not isinstance(width, int | float) or not 1 <= width <= 255
    ):
        raise _problem(body, here, _("the width must be a number from 1 to 255."), column.value)
    column.width = width
    currency = raw.get("currency")
    if currency is not None and (
        not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency)
    ):
        raise _problem(body, here, _("the currency must be an ISO code such as EUR."), column.value)
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
                    _("unexpected text after the expression"), parser.stream.current.lineno
                )
        except TemplateSyntaxError as exc:
            raise _problem(body, where, exc.message or _("syntax error"), source) from None
        except RecursionError:
            raise _problem(body, where, _("the expression is nested too deeply."), source) from None
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
        title = sheet.title
        header = (
            _compile_expressions(
                [(value, header_place(title, label)) for label, value, _kind in sheet.header],
                body,
            )
            if sheet.header
            else None
        )
        rows = _compile_expressions([(sheet.rows, rows_place(title))], body) if sheet.rows else None
        columns = (
            _compile_expressions(
                [
                    (column.value, column_place(title, number, column.title))
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
