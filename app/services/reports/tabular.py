"""Tabular producers and the files they become (XLSX or CSV), streamed row by row.

A *producer* turns a job's parameters into a ``Tabular``: sheets whose rows are
read lazily (``Sheet.rows`` is called once, when the sheet is written), each
with its row count for progress. The writers keep memory flat: the workbook
writer (app/services/workbooks.py, constant memory) and the csv module both
write rows as they come.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from app.models import JobKind, OutputFormat
from app.services.workbooks import BOLD, CellStyle, Styled, xlsx_book

TABULAR_FORMATS = (OutputFormat.xlsx, OutputFormat.csv)
MEDIA_TYPES = {
    OutputFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    OutputFormat.csv: "text/csv; charset=utf-8",
    OutputFormat.xml: "application/xml",
    OutputFormat.zip: "application/zip",
}
Progress = Callable[[int], None]  # called with the rows written so far (all sheets)
SHEET_TITLE_MAX = 31  # Excel's limit
CSV_DELIMITER = ";"  # what French Excel expects (the comma is the decimal separator)


class TabularError(Exception):
    """A producer's deterministic refusal: the job fails with this message, no retry."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Sheet:
    """One sheet: a title, a header row, rows read lazily, and how many there are."""

    title: str
    header: Sequence[str]
    rows: Callable[[], Iterable[Sequence[Any]]]
    total: int  # rows the iterator yields, for progress (done / total)
    column_widths: Sequence[int] = ()  # XLSX only, in characters; the rest stay default
    number_formats: dict[int, str] = field(default_factory=dict)  # column index -> XLSX format


@dataclass(frozen=True)
class Tabular:
    """What a producer returns: the file's name stem and its sheets, in order.

    The file is named ``<file_stem>-<YYYY-MM-DD>.<xlsx|csv>`` (date of the run, UTC).
    A CSV file holds the first sheet only: give CSV producers one sheet.
    """

    file_stem: str
    sheets: Sequence[Sheet]


@dataclass(frozen=True)
class FileOutput:
    """What a producer of a file that is not a table returns (a SEPA pain.008 file).

    ``write(target, progress)`` writes the whole file, calling ``progress`` with the
    items written so far; ``total`` is their number. Named like a ``Tabular``'s file.
    """

    file_stem: str
    output: OutputFormat
    total: int
    write: Callable[[Path, Progress], None]


@dataclass(frozen=True)
class TabularRequest:
    """What a producer is given, in the worker: whose rows, and the checked parameters."""

    organisation_id: int  # every query of the producer must stay inside it
    params: dict[str, Any]
    owner_id: int | None
    job_id: int


class Producer(Protocol):
    def __call__(self, session: Session, request: TabularRequest) -> Tabular | FileOutput: ...


# check(session, user, organisation_id, params) -> the params to store (JSON-serialisable);
# raises app.services.errors.InvalidRequestError (422) or NotFoundError (404, e.g. an
# insurer of another organisation). Runs in the request, before the job is written.
ParamsCheck = Callable[[Session, Any, int, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Registered:
    name: str
    produce: Producer
    check: ParamsCheck | None
    job_kind: JobKind
    formats: tuple[OutputFormat, ...] = TABULAR_FORMATS  # what a job may ask of it


_REGISTRY: dict[str, Registered] = {}


def register_producer(
    name: str,
    producer: Producer,
    *,
    check: ParamsCheck | None = None,
    job_kind: JobKind = JobKind.report,
    formats: tuple[OutputFormat, ...] = TABULAR_FORMATS,
) -> None:
    """Make ``producer`` available to ``start_tabular_job(..., name=name)``.

    Call it at import time of the producer's module (registering the same name
    twice replaces the first, so a reloaded module is harmless). ``name`` is
    stored in the job and labels the metrics (``job_type``).
    """
    if not name or len(name) > 50:
        raise ValueError("a producer name has 1 to 50 characters")
    _REGISTRY[name] = Registered(name, producer, check, job_kind, formats)


def registered(name: str) -> Registered | None:
    _load_builtin_producers()
    return _REGISTRY.get(name)


def _load_builtin_producers() -> None:
    # The worker may look a producer up before anything imported its module.
    import app.services.claims.report  # noqa: F401
    import app.services.premiums.debits  # noqa: F401
    import app.services.privacy.export  # noqa: F401
    import app.services.reports.portfolio  # noqa: F401
    import app.services.reports.receipts  # noqa: F401


# --- writing ---------------------------------------------------------------------


def write_tabular(tabular: Tabular, output: OutputFormat, target: Path, progress: Progress) -> None:
    """Write every sheet to ``target``, calling ``progress`` as rows go out."""
    if output is OutputFormat.xlsx:
        _write_xlsx(tabular, target, progress)
    elif output is OutputFormat.csv:
        _write_csv(tabular, target, progress)
    else:
        raise ValueError(f"not a tabular format: {output.value}")


def _write_xlsx(tabular: Tabular, target: Path, progress: Progress) -> None:
    done = 0
    # Dates take the job's language (the caller runs inside its force_locale).
    # A producer failing half-way leaves no temporary sheet file in the worker.
    with xlsx_book(target) as book:
        for sheet in tabular.sheets:
            worksheet = book.add_sheet(_sheet_title(sheet.title))
            worksheet.column_widths(sheet.column_widths)
            worksheet.freeze_rows(1)
            worksheet.append([Styled(str(title), BOLD) for title in sheet.header])
            # Only these columns carry a style: a plain value is cheaper to write.
            worksheet.column_styles(
                {index: CellStyle(fmt) for index, fmt in sheet.number_formats.items()}
            )
            for row in sheet.rows():
                worksheet.append(row)
                done += 1
                progress(done)


def _write_csv(tabular: Tabular, target: Path, progress: Progress) -> None:
    done = 0
    # utf-8-sig: Excel reads the BOM and the accents come out right.
    with target.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=CSV_DELIMITER)
        for sheet in tabular.sheets[:1]:
            writer.writerow([str(title) for title in sheet.header])
            for row in sheet.rows():
                writer.writerow([_csv_value(value) for value in row])
                done += 1
                progress(done)


def _sheet_title(title: str) -> str:
    # Excel refuses these in sheet names.
    cleaned = "".join(" " if char in "[]:*?/\\" else char for char in str(title))
    return cleaned.strip()[:SHEET_TITLE_MAX] or "Sheet"


def _formula_like(value: Any) -> bool:
    # What a spreadsheet may run when it opens a CSV (OWASP's "CSV injection").
    return isinstance(value, str) and value[:1] in ("=", "+", "-", "@")


def _csv_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        value = value.value
    if _formula_like(value):
        # A spreadsheet opening the CSV would run it: quote it as text (OWASP's advice).
        return "'" + value
    if value is None:
        return ""
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
