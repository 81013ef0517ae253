"""A reconciled statement's lines as CSV or XLSX, for a dispute with the insurer.

Written by the export writers (app/services/exports/writers.py): text cells neutralised
against formulas, amounts as numbers, results in the reader's words.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from flask_babel import lazy_gettext as _
from sqlalchemy.orm import Session

from app.models import CommissionStatement, LineResult
from app.services.commissions.statements import lines_query
from app.services.exports.cells import Cell, cell
from app.services.exports.writers import csv_chunks, xlsx_file

RESULT_LABELS = {
    LineResult.matched: _("Matched"),
    LineResult.amount_differs: _("Amount differs"),
    LineResult.missing: _("Expected, missing from the statement"),
    LineResult.unknown: _("Unknown to the agency"),
}
HEADER = (
    _("Row"),
    _("Policy number"),
    _("Notice reference"),
    _("Period"),
    _("Premium"),
    _("Commission received"),
    _("Commission expected"),
    _("Difference"),
    _("Result"),
    _("Matched by hand"),
)


def rows(
    session: Session, statement: CommissionStatement, result: str | None
) -> Iterator[list[Cell]]:
    for line in session.scalars(lines_query(statement, result)).yield_per(1000):
        yield [
            cell(line.row_number),
            cell(line.policy_number),
            cell(line.notice_reference),
            cell(line.period_start),
            cell(line.premium),
            cell(line.commission),
            cell(line.expected_amount),
            cell(line.difference),
            cell(str(RESULT_LABELS[line.result])),
            cell(line.manual),
        ]


def export_csv(session: Session, statement: CommissionStatement, result: str | None) -> bytes:
    return b"".join(csv_chunks(HEADER, rows(session, statement, result)))


def export_xlsx(session: Session, statement: CommissionStatement, result: str | None) -> IO[bytes]:
    return xlsx_file(HEADER, rows(session, statement, result), title=str(_("Reconciliation")))


def file_name(statement: CommissionStatement, extension: str) -> str:
    company: Any = statement.company
    code = "".join(ch for ch in str(company.code) if ch.isalnum()) or "insurer"
    return f"reconciliation-{code}-{statement.period_start:%Y-%m}.{extension}"
