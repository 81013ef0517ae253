"""Reading an insurer's commission statement: its columns mapped, its rows parsed.

The file is read by the import machinery (app/services/imports/reading.py: size and
row limits, sniffed CSV encoding and delimiter, XLSX without formulas or trusted
metadata). Columns are found by the insurer's saved mapping, a mapping sent with the
file, or their usual names; each row is parsed into a :class:`StatementRow` or a
per-row error. Amounts accept French and English separators ("1 234,56", "1,234.56")
and a sign column (D/C, -/+) or a minus sign: negative lines are claw-backs.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from app.services import imports
from app.services.errors import InvalidRequestError
from app.services.imports.common import Limits, RowError, Table
from app.services.imports.reading import read_table
from app.services.imports.values import CellError, normalise, text
from app.services.imports.values import date as parse_date

CENT = Decimal("0.01")
FIELDS = ("policy_number", "notice_reference", "period", "premium", "commission", "sign")
REQUIRED = ("policy_number", "commission")
# The names insurers' files use, compared lower case, without accents or punctuation.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "policy_number": (
        "policy number",
        "policy",
        "police",
        "n police",
        "no police",
        "numero de police",
        "numero police",
        "contrat",
        "n contrat",
        "numero de contrat",
    ),
    "notice_reference": (
        "notice reference",
        "notice",
        "quittance",
        "n quittance",
        "numero de quittance",
        "reference quittance",
        "reference",
    ),
    "period": ("period", "periode", "period start", "debut de periode", "date d effet", "mois"),
    "premium": ("premium", "prime", "prime ht", "premium before tax", "prime hors taxes"),
    "commission": ("commission", "commissions", "montant commission", "commission amount"),
    "sign": ("sign", "sens", "signe", "debit credit"),
}
NEGATIVE_SIGNS = {"-", "d", "db", "debit", "dr", "reprise", "clawback", "n"}
POSITIVE_SIGNS = {"+", "c", "cr", "credit", "p"}
MONTH = re.compile(r"^(\d{4})-(\d{1,2})$|^(\d{1,2})[/.-](\d{4})$")
GROUPED = re.compile(r"^[0-9]+$|^[0-9]{1,3}(?:,[0-9]{3})+$|^[0-9]{1,3}(?:\.[0-9]{3})+$")
AMOUNT_CHARS = re.compile(r"^\(?[+-]?[0-9.,]+\)?$")


@dataclass(frozen=True)
class StatementRow:
    row: int
    policy_number: str
    notice_reference: str | None
    period_start: dt.date | None
    premium: Decimal | None
    commission: Decimal


@dataclass
class ReadStatement:
    columns: dict[str, str]  # field -> the file's header
    rows: list[StatementRow]
    errors: list[RowError]
    headers: list[str]


def statement_limits() -> Limits:
    """The import limits, with more rows: a large insurer's month is tens of thousands."""
    config = current_app.config
    return dataclasses.replace(
        imports.limits(),
        max_rows=int(config.get("COMMISSION_STATEMENT_MAX_ROWS", 100_000)),
        max_bytes=int(config.get("COMMISSION_STATEMENT_MAX_BYTES", 20 * 1024 * 1024)),
    )


def key(header: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", normalise(header)).split())


def known_header(header: str) -> bool:
    wanted = key(header)
    return any(wanted in names for names in SYNONYMS.values())


def read_statement(
    data: bytes,
    file_name: str,
    *,
    saved: Mapping[str, str] | None = None,
    given: Mapping[str, str] | None = None,
) -> ReadStatement:
    """The file's rows mapped and parsed; refuses (422) a file whose columns cannot be mapped."""
    table = read_table(data, file_name, statement_limits(), known_header)
    columns = map_columns(table.headers, given or saved or None)
    rows, errors = parse_rows(table, columns)
    return ReadStatement(columns=columns, rows=rows, errors=errors, headers=table.headers)


def map_columns(headers: list[str], mapping: Mapping[str, str] | None) -> dict[str, str]:
    present = {key(header): header for header in headers if header}
    columns: dict[str, str] = {}
    errors: dict[str, str] = {}
    if mapping:
        for field, header in mapping.items():
            if field not in FIELDS:
                errors[field] = _("Unknown field: use %(fields)s.", fields=", ".join(FIELDS))
            elif not header:
                continue
            elif key(str(header)) not in present:
                errors[field] = _("The file has no column %(column)s.", column=str(header))
            else:
                columns[field] = present[key(str(header))]
    else:
        for field, names in SYNONYMS.items():
            found = next((present[name] for name in names if name in present), None)
            if found is not None:
                columns[field] = found
    for field in REQUIRED:
        if field not in columns and field not in errors:
            errors[field] = _("No column gives it: map it.")
    if "notice_reference" not in columns and "period" not in columns:
        errors.setdefault("period", _("Map the period or the notice reference."))
    if errors:
        sentence = _(
            "The statement's columns are not recognised; its columns are: %(columns)s.",
            columns=", ".join(header for header in headers if header),
        )
        raise InvalidRequestError(sentence, {"file": sentence, **errors})
    return columns


def parse_rows(table: Table, columns: dict[str, str]) -> tuple[list[StatementRow], list[RowError]]:
    index = {field: table.headers.index(header) for field, header in columns.items()}
    rows: list[StatementRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[Any, ...], int] = {}
    for number, cells in table.rows:

        def cell(field: str, cells: list[Any] = cells) -> Any:
            position = index.get(field)
            return cells[position] if position is not None and position < len(cells) else None

        row_errors: list[RowError] = []

        def parsed(field: str, parser: Any, number: int = number, errs: Any = row_errors) -> Any:
            try:
                return parser(cell(field))
            except CellError as error:
                errs.append(RowError(number, columns[field], error.message))
                return None

        policy_number = parsed("policy_number", text)
        if policy_number is None and not row_errors:
            row_errors.append(
                RowError(number, columns["policy_number"], _("The policy number is missing."))
            )
        reference = parsed("notice_reference", text) if "notice_reference" in columns else None
        period = parsed("period", period_start) if "period" in columns else None
        premium = parsed("premium", amount) if "premium" in columns else None
        commission = parsed("commission", amount)
        if commission is None and not any(e.column == columns["commission"] for e in row_errors):
            row_errors.append(
                RowError(number, columns["commission"], _("The commission is missing."))
            )
        negative = parsed("sign", sign) if "sign" in columns else False
        if row_errors:
            errors.extend(row_errors)
            continue
        if negative:
            commission = -abs(commission)
            premium = -abs(premium) if premium is not None else None
        identity = (policy_number, reference, period, premium, commission)
        if identity in seen:
            errors.append(RowError(number, "", _("Same line as row %(row)d.", row=seen[identity])))
            continue
        seen[identity] = number
        rows.append(StatementRow(number, policy_number, reference, period, premium, commission))
    return rows, errors


def amount(value: Any) -> Decimal | None:
    """An amount to the cent: "1 234,56", "1.234,56", "1,234.56", "-12.5", "(12,50)"."""
    if isinstance(value, bool):
        raise CellError(_("Not an amount."))
    if isinstance(value, int | Decimal):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(str(value))
    else:
        raw = text(value)
        if raw is None:
            return None
        raw = re.sub(r"[\s\u00a0\u202f'€]", "", raw).upper().removesuffix("EUR")
        if not AMOUNT_CHARS.match(raw):
            raise CellError(_("Not an amount: write it like 1234,56 or 1234.56."))
        negative = raw.startswith("(") or raw.lstrip("(").startswith("-")
        digits = raw.strip("()+-")
        decimal_mark = max(digits.rfind(","), digits.rfind("."))
        if decimal_mark >= 0 and len(digits) - decimal_mark - 1 in (1, 2):
            whole, cents = digits[:decimal_mark], digits[decimal_mark + 1 :]
        else:
            whole, cents = digits, ""
        if whole and not GROUPED.match(whole):
            raise CellError(_("Not an amount: write it like 1234,56 or 1234.56."))
        if decimal_mark >= 0 and cents and digits[decimal_mark] in whole:
            raise CellError(_("Not an amount: write it like 1234,56 or 1234.56."))
        whole = whole.replace(",", "").replace(".", "")
        if not whole.isdigit() and whole != "":
            raise CellError(_("Not an amount: write it like 1234,56 or 1234.56."))
        try:
            result = Decimal(f"{whole or '0'}.{cents or '0'}")
        except InvalidOperation:
            raise CellError(_("Not an amount: write it like 1234,56 or 1234.56.")) from None
        if negative:
            result = -result
    if not result.is_finite() or abs(result) >= Decimal("1e10"):
        raise CellError(_("Not an amount."))
    if result != result.quantize(CENT):
        raise CellError(_("At most two decimals."))
    return result.quantize(CENT)


def period_start(value: Any) -> dt.date | None:
    """A period's first day: a date, or a month written 2026-11 or 11/2026."""
    raw = text(value) if not isinstance(value, dt.date) else None
    if raw is not None:
        match = MONTH.match(raw)
        if match:
            year = int(match.group(1) or match.group(4))
            month = int(match.group(2) or match.group(3))
            if not 1 <= month <= 12:
                raise CellError(_("Not a month: write it like 2026-11 or 11/2026."))
            return dt.date(year, month, 1)
    return parse_date(value)


def sign(value: Any) -> bool:
    """True for a debit (a claw-back), False for a credit or an empty cell."""
    raw = text(value)
    if raw is None:
        return False
    word = key(raw) if raw not in ("-", "+") else raw
    if word in NEGATIVE_SIGNS:
        return True
    if word in POSITIVE_SIGNS:
        return False
    raise CellError(_("Unknown sign: use C (credit) or D (debit), + or -."))


def month_bounds(period: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a statement's month, given as YYYY-MM."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", (period or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise InvalidRequestError(
            _("Give the statement's period as YYYY-MM."),
            {"period": _("Give the statement's period as YYYY-MM.")},
        )
    year, month = int(match.group(1)), int(match.group(2))
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
