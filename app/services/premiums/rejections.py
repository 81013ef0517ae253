"""A bank's SEPA rejections file: the debits it returned, rejected here, their notices re-opened.

The file is the bank's report reduced to CSV or XLSX with a header row: the debit's
reference (the end-to-end id of the pain.008 file), the reason code (ISO 20022, e.g.
AM04 insufficient funds, MD01 no mandate) and optionally the date. It is read with the
imports' safeguards (size, rows, encodings, XLSX metadata not trusted). All lines are
applied in one transaction; references the agency does not know, or already rejected,
are reported back, not refused, so a bank file covering several creditors still applies.
A debit rejected before its collection date is recorded as rejected on that date.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import Allocation, Payment, PaymentMethod, PaymentStatus
from app.services.errors import InvalidRequestError
from app.services.imports import limits as import_limits
from app.services.imports.common import ImportRefusedError, Limits
from app.services.imports.reading import read_table
from app.services.premiums.payments import reject_payment

REFERENCE_HEADERS = {"reference", "end_to_end_id", "endtoendid", "e2e", "reference_debit"}
REASON_HEADERS = {"reason", "reason_code", "motif", "code", "code_motif"}
DATE_HEADERS = {"date", "rejected_on", "date_rejet", "rejet"}
REASON_CODE = re.compile(r"^[A-Z0-9]{2,10}$")


@dataclass
class RejectionOutcome:
    rejected: list[str] = field(default_factory=list)
    already_rejected: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def apply_rejections(
    session: Session,
    organisation_id: int,
    data: bytes,
    file_name: str,
    *,
    today: dt.date,
    limits: Limits | None = None,
) -> RejectionOutcome:
    """Reject the agency's debits the file lists; the caller commits."""
    lines = read_rejections(data, file_name, limits or import_limits())
    payments = _debits(session, organisation_id, [line.reference for line in lines])
    outcome = RejectionOutcome()
    for line in lines:
        payment = payments.get(line.reference)
        if payment is None:
            outcome.unknown.append(line.reference)
            continue
        if payment.status is PaymentStatus.rejected:
            outcome.already_rejected.append(line.reference)
            continue
        rejected_on = max(line.rejected_on or today, payment.received_on)
        reject_payment(
            payment,
            rejected_on=rejected_on,
            reason=line.reason,
            today=max(today, payment.received_on),
        )
        outcome.rejected.append(line.reference)
    return outcome


@dataclass(frozen=True)
class RejectionLine:
    row: int
    reference: str
    reason: str | None
    rejected_on: dt.date | None


def read_rejections(data: bytes, file_name: str, limits: Limits) -> list[RejectionLine]:
    """The file's lines, or a 422 naming every bad one (nothing applied)."""
    table = read_table(data, file_name, limits, lambda header: _column(header) is not None)
    columns = {_column(header): index for index, header in enumerate(table.headers)}
    if "reference" not in columns or "reason" not in columns:
        raise ImportRefusedError(
            _("The file needs a 'reference' column and a 'reason' column (a header row).")
        )
    lines, errors = [], []
    seen: set[str] = set()
    for row, values in table.rows:
        reference = _cell(values, columns["reference"])
        reason = _cell(values, columns["reason"]).upper()
        when = _cell(values, columns["date"]) if "date" in columns else ""
        if not reference:
            errors.append(_("Row %(row)d: the reference is empty.", row=row))
            continue
        if reason and not REASON_CODE.match(reason):
            message = _("Row %(row)d: %(reason)s is not a reason code.", row=row, reason=reason)
            errors.append(message)
            continue
        rejected_on = _date(when)
        if when and rejected_on is None:
            errors.append(_("Row %(row)d: give the date as YYYY-MM-DD or DD/MM/YYYY.", row=row))
            continue
        if reference in seen:
            continue
        seen.add(reference)
        lines.append(RejectionLine(row, reference, reason or None, rejected_on))
    if errors:
        raise InvalidRequestError(" ".join(errors[:20]), {"file": errors[0]})
    return lines


def _debits(session: Session, organisation_id: int, references: list[str]) -> dict[str, Payment]:
    if not references:
        return {}
    found: dict[str, Payment] = {}
    for start in range(0, len(references), 500):
        chunk = references[start : start + 500]
        for payment in session.scalars(
            select(Payment)
            .where(
                Payment.organisation_id == organisation_id,
                Payment.method == PaymentMethod.sepa_debit,
                Payment.reference.in_(chunk),
            )
            .options(selectinload(Payment.allocations).joinedload(Allocation.premium_notice))
        ):
            found[payment.reference] = payment
    return found


def _column(header: Any) -> str | None:
    text = unicodedata.normalize("NFKD", str(header or "")).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    for name, headers in (
        ("reference", REFERENCE_HEADERS),
        ("reason", REASON_HEADERS),
        ("date", DATE_HEADERS),
    ):
        if key in headers:
            return name
    return None


def _cell(values: list[Any], index: int) -> str:
    value = values[index] if index < len(values) else None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value or "").strip()


def _date(text: str) -> dt.date | None:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None
