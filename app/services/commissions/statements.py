"""Insurer statements: preview, import and reconcile in one transaction, fix by hand.

``import_statement`` refuses the whole file (nothing written) on unmapped columns or
any bad line; otherwise it saves the insurer's column mapping, the statement and its
lines with their results, and marks the expected commissions it settles. The caller
commits. The same file (by SHA-256) is refused a second time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from app.models import (
    CommissionColumnMapping,
    CommissionStatement,
    CommissionStatementLine,
    Company,
    ExpectedCommission,
    ExpectedStatus,
    LineResult,
    Policy,
    PremiumNotice,
)
from app.services import audit
from app.services.commissions.expected import refresh
from app.services.commissions.reconcile import Candidate, Outcome, reconcile
from app.services.commissions.statement_file import ReadStatement, month_bounds, read_statement
from app.services.errors import ConflictError, InvalidRequestError, NotFoundError

INSERT_BATCH = 2000
POOL = (ExpectedStatus.expected, ExpectedStatus.clawed_back)
SETTLES = {
    LineResult.matched: ExpectedStatus.received,
    LineResult.amount_differs: ExpectedStatus.differs,
}


def default_tolerance() -> Decimal:
    return Decimal(str(current_app.config.get("COMMISSION_TOLERANCE", "0.05")))


def insurer(session: Session, organisation_id: int, company_id: Any) -> Company:
    """The agency's insurer; another agency's is unknown (404)."""
    company = None
    if isinstance(company_id, int) or (
        isinstance(company_id, str) and company_id.isascii() and company_id.isdigit()
    ):
        company = session.get(Company, int(company_id))
    if company is None or company.organisation_id != organisation_id:
        raise NotFoundError(_("Unknown insurer."))
    return company


def saved_mapping(session: Session, organisation_id: int, company_id: int) -> dict[str, str] | None:
    row = session.scalar(
        select(CommissionColumnMapping).where(
            CommissionColumnMapping.organisation_id == organisation_id,
            CommissionColumnMapping.company_id == company_id,
        )
    )
    return dict(row.columns) if row is not None else None


def preview(
    session: Session,
    organisation_id: int,
    company_id: Any,
    data: bytes,
    file_name: str,
    mapping: Mapping[str, str] | None = None,
) -> ReadStatement:
    """The mapped rows and their errors, nothing written."""
    company = insurer(session, organisation_id, company_id)
    return read_statement(
        data,
        file_name,
        saved=saved_mapping(session, organisation_id, company.id),
        given=mapping,
    )


def import_statement(
    session: Session,
    organisation_id: int,
    *,
    company_id: Any,
    period: str,
    data: bytes,
    file_name: str,
    user_id: int | None,
    mapping: Mapping[str, str] | None = None,
    tolerance: Decimal | None = None,
) -> CommissionStatement:
    company = insurer(session, organisation_id, company_id)
    first, last = month_bounds(period)
    digest = hashlib.sha256(data).hexdigest()
    duplicate = session.scalar(
        select(CommissionStatement.id).where(
            CommissionStatement.organisation_id == organisation_id,
            CommissionStatement.sha256 == digest,
        )
    )
    if duplicate is not None:
        raise ConflictError(_("This file was already imported (statement %(id)d).", id=duplicate))
    read = read_statement(
        data, file_name, saved=saved_mapping(session, organisation_id, company.id), given=mapping
    )
    if read.errors:
        raise InvalidRequestError(
            _(
                "%(n)d line(s) of the statement are wrong: nothing was imported.",
                n=len(read.errors),
            ),
            {
                f"row {error.row}": f"{error.column}: {error.message}".lstrip(": ")
                for error in read.errors[:200]
            },
        )
    _save_mapping(session, organisation_id, company.id, read.columns)
    # What the notices earn now: a rule or a notice changed since the last daily run.
    refresh(session, organisation_id, company_id=company.id)
    tolerance = default_tolerance() if tolerance is None else tolerance
    statement = CommissionStatement(
        organisation_id=organisation_id,
        company_id=company.id,
        period_start=first,
        period_end=last,
        file_name=file_name[:255],
        sha256=digest,
        tolerance=tolerance,
        line_count=len(read.rows),
        total_commission=sum((row.commission for row in read.rows), Decimal("0.00")),
        uploaded_by_id=user_id,
    )
    session.add(statement)
    session.flush()
    outcomes = reconcile(
        read.rows, candidates(session, organisation_id, company.id), tolerance, (first, last)
    )
    _write(session, statement, outcomes)
    audit.record(
        session,
        "commission_statement_reconciled",
        "CommissionStatement",
        statement.id,
        {"file": file_name, **summary(session, statement.id)},
        organisation_id=organisation_id,
    )
    return statement


def candidates(session: Session, organisation_id: int, company_id: int) -> list[Candidate]:
    rows = session.execute(
        select(
            ExpectedCommission.id,
            Policy.number,
            PremiumNotice.number,
            ExpectedCommission.period_start,
            ExpectedCommission.amount,
            ExpectedCommission.clawback_amount,
            ExpectedCommission.status,
            ExpectedCommission.due_on,
        )
        .join(PremiumNotice, PremiumNotice.id == ExpectedCommission.premium_notice_id)
        .join(Policy, Policy.id == ExpectedCommission.policy_id)
        .where(
            ExpectedCommission.organisation_id == organisation_id,
            ExpectedCommission.company_id == company_id,
            ExpectedCommission.status.in_(POOL),
        )
        .order_by(ExpectedCommission.period_start, ExpectedCommission.id)
    )
    return [Candidate(*row) for row in rows]


def summary(session: Session, statement_id: int) -> dict[str, int]:
    counts = {result.value: 0 for result in LineResult}
    rows = session.execute(
        select(CommissionStatementLine.result, func.count())
        .where(CommissionStatementLine.statement_id == statement_id)
        .group_by(CommissionStatementLine.result)
    ).all()
    for result, count in rows:
        counts[LineResult(result).value] = count
    return counts


def visible_statement(
    session: Session, organisation_id: int | None, statement_id: Any
) -> CommissionStatement:
    statement = session.get(CommissionStatement, statement_id)
    if statement is None or (
        organisation_id is not None and statement.organisation_id != organisation_id
    ):
        raise NotFoundError(_("Unknown statement."))
    return statement


def lines_query(statement: CommissionStatement, result: str | None) -> Any:
    query = (
        select(CommissionStatementLine)
        .where(CommissionStatementLine.statement_id == statement.id)
        .order_by(
            CommissionStatementLine.row_number.is_(None),
            CommissionStatementLine.row_number,
            CommissionStatementLine.id,
        )
    )
    if result:
        try:
            wanted = LineResult(result)
        except ValueError:
            raise InvalidRequestError(
                _("Unknown result."),
                {"result": ", ".join(member.value for member in LineResult)},
            ) from None
        query = query.where(CommissionStatementLine.result == wanted)
    return query


def match(
    session: Session, statement: CommissionStatement, line_id: Any, expected_commission_id: Any
) -> CommissionStatementLine:
    """Match a statement line to an expected commission by hand (the caller commits)."""
    line = _line(session, statement, line_id)
    if line.row_number is None:
        raise ConflictError(_("A missing line is matched from the statement line that pays it."))
    wanted = (
        session.get(ExpectedCommission, expected_commission_id)
        if isinstance(expected_commission_id, int) and not isinstance(expected_commission_id, bool)
        else None
    )
    if (
        wanted is None
        or wanted.organisation_id != statement.organisation_id
        or wanted.company_id != statement.company_id
    ):
        raise NotFoundError(_("Unknown expected commission for this insurer."))
    if wanted.status is ExpectedStatus.cancelled:
        raise ConflictError(_("This expected commission was cancelled."))
    other = session.scalar(
        select(CommissionStatementLine).where(
            CommissionStatementLine.expected_commission_id == wanted.id,
            CommissionStatementLine.row_number.is_not(None),
            CommissionStatementLine.id != line.id,
        )
    )
    if other is not None:
        raise ConflictError(
            _(
                "Line %(row)s already settles this expected commission: unmatch it first.",
                row=other.row_number,
            )
        )
    _release(session, statement, line)
    session.execute(
        delete(CommissionStatementLine).where(
            CommissionStatementLine.statement_id == statement.id,
            CommissionStatementLine.expected_commission_id == wanted.id,
            CommissionStatementLine.row_number.is_(None),
        )
    )
    negative = line.commission is not None and line.commission < 0
    owed = (
        -wanted.clawback_amount
        if negative and wanted.clawback_amount is not None
        else wanted.amount
    )
    close = line.commission is not None and abs(line.commission - owed) <= statement.tolerance
    line.expected_commission_id = wanted.id
    line.expected_amount = owed
    line.result = LineResult.matched if close else LineResult.amount_differs
    line.manual = True
    if wanted.status is not ExpectedStatus.clawed_back:
        wanted.status = SETTLES[line.result]
        wanted.received_amount = line.commission
    _audit(session, statement, "commission_line_matched", line)
    return line


def unmatch(
    session: Session, statement: CommissionStatement, line_id: Any
) -> CommissionStatementLine:
    line = _line(session, statement, line_id)
    if line.row_number is None or line.expected_commission_id is None:
        raise ConflictError(_("This line is not matched."))
    _release(session, statement, line)
    line.result = LineResult.unknown
    line.manual = True
    _audit(session, statement, "commission_line_unmatched", line)
    return line


# --- internals ---------------------------------------------------------------------


def _line(
    session: Session, statement: CommissionStatement, line_id: Any
) -> CommissionStatementLine:
    line = session.get(CommissionStatementLine, line_id) if isinstance(line_id, int) else None
    if line is None or line.statement_id != statement.id:
        raise NotFoundError(_("Unknown line."))
    return line


def _release(
    session: Session, statement: CommissionStatement, line: CommissionStatementLine
) -> None:
    """The line's expected commission goes back to expected (missing again if due now)."""
    previous = line.expected_commission
    line.expected_commission_id = None
    line.expected_amount = None
    if previous is None:
        return
    if previous.status in (ExpectedStatus.received, ExpectedStatus.differs):
        previous.status = ExpectedStatus.expected
        previous.received_amount = None
    if (
        previous.status is ExpectedStatus.expected
        and previous.due_on is not None
        and statement.period_start <= previous.due_on <= statement.period_end
    ):
        session.add(
            CommissionStatementLine(
                organisation_id=statement.organisation_id,
                statement_id=statement.id,
                result=LineResult.missing,
                expected_commission_id=previous.id,
                expected_amount=previous.amount,
                policy_number=line.policy_number,
            )
        )


def _audit(session: Session, statement: CommissionStatement, action: str, line: Any) -> None:
    session.flush()
    audit.record(
        session,
        action,
        "CommissionStatement",
        statement.id,
        {
            "line": line.row_number,
            "expected_commission_id": line.expected_commission_id,
            "result": line.result.value,
        },
        organisation_id=statement.organisation_id,
    )


def _save_mapping(
    session: Session, organisation_id: int, company_id: int, columns: dict[str, str]
) -> None:
    row = session.scalar(
        select(CommissionColumnMapping).where(
            CommissionColumnMapping.organisation_id == organisation_id,
            CommissionColumnMapping.company_id == company_id,
        )
    )
    if row is None:
        session.add(
            CommissionColumnMapping(
                organisation_id=organisation_id, company_id=company_id, columns=columns
            )
        )
    elif dict(row.columns) != columns:
        row.columns = columns


def _write(session: Session, statement: CommissionStatement, outcomes: list[Outcome]) -> None:
    batch: list[dict[str, Any]] = []
    settled: list[dict[str, Any]] = []
    for outcome in outcomes:
        row = outcome.row
        candidate = outcome.candidate
        batch.append(
            {
                "organisation_id": statement.organisation_id,
                "statement_id": statement.id,
                "row_number": row.row if row else None,
                "policy_number": row.policy_number if row else candidate.policy_number,
                "notice_reference": row.notice_reference if row else candidate.notice_number,
                "period_start": row.period_start if row else candidate.period_start,
                "premium": row.premium if row else None,
                "commission": row.commission if row else None,
                "result": outcome.result,
                "expected_commission_id": candidate.id if candidate else None,
                "expected_amount": outcome.expected_amount,
                "manual": False,
            }
        )
        settles = row is not None and candidate is not None and outcome.result in SETTLES
        if settles and candidate.status is not ExpectedStatus.clawed_back:
            settled.append(
                {
                    "id": candidate.id,
                    "status": SETTLES[outcome.result],
                    "received_amount": row.commission,
                }
            )
        if len(batch) >= INSERT_BATCH:
            session.execute(insert(CommissionStatementLine), batch)
            batch = []
    if batch:
        session.execute(insert(CommissionStatementLine), batch)
    if settled:
        # By primary key, in batches: no per-row audit entry (the statement's entry says it).
        session.execute(update(ExpectedCommission), settled)
