"""The portfolio report and the premiums-by-month report, as tabular producers.

Filters mirror the dashboard's: ``insurer_id`` (one insurer of the organisation),
``date_from`` / ``date_to`` (ISO dates, inclusive) on the policy's effective
date — the date a premium is "written" (the premiums report leaves drafts out,
like the dashboard's chart). Policy rows are streamed from the
database in id order (``yield_per``: a server-side cursor on PostgreSQL), so
memory stays flat at a million policies; every total is one SQL aggregate,
grouped by currency too (euros and dollars are never added together).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Client, Company, Policy
from app.models.client import ClientKind
from app.models.policy import LineOfBusiness, PolicyStatus
from app.services.documents.queries import valid_id
from app.services.errors import InvalidRequestError, NotFoundError
from app.services.renewals.contracts import agency_today
from app.services.reports.tabular import Sheet, Tabular, TabularRequest, register_producer
from app.services.vocabulary import enum_label

PORTFOLIO = "portfolio"
PREMIUMS = "premiums"
FILTERS = ("insurer_id", "date_from", "date_to")
STREAM_CHUNK = 2000  # rows fetched per round trip
MAX_MONTHS = 120  # the premiums report covers at most ten years
MONEY = "#,##0.00"
ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


# --- parameters (checked in the request) --------------------------------------------


def check_filters(session: Session, user: Any, organisation_id: int, params: dict) -> dict:
    """The filters as stored in the job: known keys only, ISO dates, an insurer of ours."""
    unknown = sorted(set(params) - set(FILTERS))
    if unknown:
        message = _("Unknown field: %(names)s.", names=", ".join(unknown))
        raise InvalidRequestError(message, {name: message for name in unknown})
    errors: dict[str, str] = {}
    dates: dict[str, dt.date | None] = {}
    for name in ("date_from", "date_to"):
        value = params.get(name)
        dates[name] = None
        if value in (None, ""):
            continue
        dates[name] = _iso_date(value)
        if dates[name] is None:
            errors[name] = _("Give a date as YYYY-MM-DD.")
    if dates["date_from"] and dates["date_to"] and dates["date_from"] > dates["date_to"]:
        errors["date_to"] = _("The end of the period is before its start.")
    insurer = params.get("insurer_id")
    if insurer not in (None, "") and not valid_id(insurer):
        errors["insurer_id"] = _("Give the id of an insurer.")
    if errors:
        raise InvalidRequestError(_("Some filters are not valid."), errors)
    if insurer not in (None, ""):
        found = session.execute(
            select(Company.id).where(
                Company.id == insurer, Company.organisation_id == organisation_id
            )
        ).first()
        if found is None:
            raise NotFoundError(_("Insurer not found."))
    return {
        "insurer_id": insurer or None,
        "date_from": dates["date_from"].isoformat() if dates["date_from"] else None,
        "date_to": dates["date_to"].isoformat() if dates["date_to"] else None,
    }


def check_premium_filters(session: Session, user: Any, organisation_id: int, params: dict) -> dict:
    """As check_filters; the period defaults to the last twelve months and is bounded."""
    checked = check_filters(session, user, organisation_id, params)
    try:
        start, end = report_period(checked, agency_today(session, organisation_id))
    except ValueError:  # a date_to in year 1: no twelve months before it
        start = end = None
    if start is None or end is None or _months_between(start, end) > MAX_MONTHS:
        message = _("Choose a period of at most %(months)d months.", months=MAX_MONTHS)
        raise InvalidRequestError(message, {"date_from": message})
    return {**checked, "date_from": start.isoformat(), "date_to": end.isoformat()}


# --- the portfolio report -----------------------------------------------------------


def produce_portfolio(session: Session, request: TabularRequest) -> Tabular:
    """Sheet 1: one row per policy; sheet 2: totals by insurer and by line."""
    where = _conditions(request)
    total = session.execute(select(func.count()).select_from(Policy).where(*where)).scalar_one()
    statuses = enum_labels(PolicyStatus)
    lines = enum_labels(LineOfBusiness)

    def policy_rows() -> Iterator[Sequence[Any]]:
        query = (
            select(
                Policy.number,
                Client.kind,
                Client.first_name,
                Client.last_name,
                Client.company_name,
                Company.name,
                Policy.line_of_business,
                Policy.premium,
                Policy.currency,
                Policy.effective_date,
                Policy.expiry_date,
                Policy.status,
            )
            .join(Client, Client.id == Policy.client_id)
            .join(Company, Company.id == Policy.company_id)
            .where(*where)
            .order_by(Policy.id)
            .execution_options(yield_per=STREAM_CHUNK)
        )
        for row in session.execute(query):
            yield (
                row[0],
                client_name(row[1], row[2], row[3], row[4]),
                row[5],
                lines[row[6]],
                row[7],
                row[8],
                row[9],
                row[10],
                statuses[row[11]],
            )

    summary = _portfolio_summary(session, where, lines)
    return Tabular(
        file_stem="rapport-portefeuille",
        sheets=[
            Sheet(
                title=_("Policies"),
                header=[
                    _("Policy number"),
                    _("Client"),
                    _("Insurer"),
                    _("Line of business"),
                    _("Annual premium incl. tax"),
                    _("Currency"),
                    _("Effective date"),
                    _("Expiry date"),
                    _("Status"),
                ],
                rows=policy_rows,
                total=total,
                column_widths=(18, 30, 24, 18, 18, 9, 14, 14, 12),
                number_formats={4: MONEY},  # dates take the reader's date format by themselves
            ),
            _summary_sheet(summary),
        ],
    )


def _summary_sheet(totals: list[tuple[Any, ...]]) -> Sheet:
    """Both reports' last sheet: (breakdown, name, currency, policies, premium) rows."""
    return Sheet(
        title=_("Summary"),
        header=[
            _("Breakdown"),
            _("Name"),
            _("Currency"),
            _("Policies"),
            _("Annual premiums incl. tax"),
        ],
        rows=lambda: iter(totals),
        total=len(totals),
        column_widths=(22, 30, 9, 12, 22),
        number_formats={4: MONEY},
    )


def _portfolio_summary(
    session: Session, where: list[Any], lines: dict[Any, str]
) -> list[tuple[Any, ...]]:
    """Totals by insurer, by line and overall: three GROUP BY queries, small results."""
    count, premium = _totals()
    by_insurer = _by_insurer(session, where)
    by_line = session.execute(
        select(Policy.line_of_business, Policy.currency, count, premium)
        .where(*where)
        .group_by(Policy.line_of_business, Policy.currency)
        .order_by(Policy.line_of_business, Policy.currency)
    ).all()
    overall = _overall(session, where)
    rows: list[tuple[Any, ...]] = []
    rows += [(_("By insurer"), r[0], r[1], r[2], _money(r[3])) for r in by_insurer]
    rows += [(_("By line of business"), lines[r[0]], r[1], r[2], _money(r[3])) for r in by_line]
    rows += [(_("Total"), None, r[0], r[1], _money(r[2])) for r in overall]
    return rows


def _totals() -> tuple[Any, Any]:
    return func.count(Policy.id), func.coalesce(func.sum(Policy.premium), 0)


def _by_insurer(session: Session, where: list[Any]) -> list[Any]:
    """(insurer name, currency, policies, premium), by insurer and currency."""
    return session.execute(
        select(Company.name, Policy.currency, *_totals())
        .join(Company, Company.id == Policy.company_id)
        .where(*where)
        .group_by(Company.id, Company.name, Policy.currency)
        .order_by(Company.name, Company.id, Policy.currency)
    ).all()


def _overall(session: Session, where: list[Any]) -> list[Any]:
    """(currency, policies, premium), by currency."""
    return session.execute(
        select(Policy.currency, *_totals())
        .where(*where)
        .group_by(Policy.currency)
        .order_by(Policy.currency)
    ).all()


# --- the premiums-by-month report ---------------------------------------------------


def produce_premiums(session: Session, request: TabularRequest) -> Tabular:
    """Sheet 1: premiums per month and insurer; sheet 2: per month, per insurer, overall.

    Drafts are left out, as on the dashboard: a draft has written no premium yet.
    """
    where = [*_conditions(request), Policy.status != PolicyStatus.draft]
    start, end = report_period(request.params, agency_today(session, request.organisation_id))
    month = _month(session, Policy.effective_date)
    count, premium = _totals()
    detail = session.execute(
        select(month, Company.name, Policy.currency, count, premium)
        .join(Company, Company.id == Policy.company_id)
        .where(*where)
        .group_by(month, Company.id, Company.name, Policy.currency)
        .order_by(month, Company.name, Company.id, Policy.currency)
    ).all()
    per_month = {
        (r[0], r[1]): (r[2], r[3])
        for r in session.execute(
            select(month, Policy.currency, count, premium)
            .where(*where)
            .group_by(month, Policy.currency)
        )
    }
    per_insurer = _by_insurer(session, where)
    overall = _overall(session, where)
    currencies = sorted({currency for _month_key, currency in per_month}) or ["EUR"]
    totals: list[tuple[Any, ...]] = []
    # Every month of the period, empty ones too: a gap in the chart is a fact.
    for key in _months(start, end):
        for currency in currencies:
            n, amount = per_month.get((key, currency), (0, 0))
            totals.append((_("By month"), key, currency, n, _money(amount)))
    totals += [(_("By insurer"), r[0], r[1], r[2], _money(r[3])) for r in per_insurer]
    totals += [(_("Total"), None, r[0], r[1], _money(r[2])) for r in overall]
    rows = [(r[0], r[1], r[2], r[3], _money(r[4])) for r in detail]
    return Tabular(
        file_stem="rapport-primes-mensuelles",
        sheets=[
            Sheet(
                title=_("Premiums by month"),
                header=[
                    _("Month"),
                    _("Insurer"),
                    _("Currency"),
                    _("Policies"),
                    _("Annual premiums incl. tax"),
                ],
                rows=lambda: iter(rows),
                total=len(rows),
                column_widths=(10, 30, 9, 12, 22),
                number_formats={4: MONEY},
            ),
            _summary_sheet(totals),
        ],
    )


# --- helpers ------------------------------------------------------------------------


def _conditions(request: TabularRequest) -> list[Any]:
    params = request.params
    where: list[Any] = [Policy.organisation_id == request.organisation_id]
    if params.get("insurer_id"):
        where.append(Policy.company_id == params["insurer_id"])
    if params.get("date_from"):
        where.append(Policy.effective_date >= dt.date.fromisoformat(params["date_from"]))
    if params.get("date_to"):
        where.append(Policy.effective_date <= dt.date.fromisoformat(params["date_to"]))
    return where


def report_period(params: dict, today: dt.date) -> tuple[dt.date, dt.date]:
    """The premiums report's period: given, or the twelve months up to today (the agency's)."""
    end = dt.date.fromisoformat(params["date_to"]) if params.get("date_to") else today
    if params.get("date_from"):
        start = dt.date.fromisoformat(params["date_from"])
    else:
        start = (
            dt.date(end.year - 1, end.month, 1)
            if end.month == 12
            else dt.date(end.year - 1, end.month + 1, 1)
        )
    return start, end


def _iso_date(value: Any) -> dt.date | None:
    # Strictly YYYY-MM-DD: fromisoformat alone also takes "20261127" or "2026-W48-5".
    if not isinstance(value, str) or not ISO_DATE.match(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:  # 2026-02-30
        return None


def _months_between(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def _months(start: dt.date, end: dt.date) -> Iterator[str]:
    year, month = start.year, start.month
    for _index in range(_months_between(start, end)):
        yield f"{year:04d}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _month(session: Session, column: Any) -> Any:
    """'YYYY-MM' of a date column, in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def enum_labels(enum_class: type) -> dict[Any, str]:
    # Translated once per run, not once per row (a million gettext calls add seconds).
    return {member: enum_label(member, enum_class) for member in enum_class}


def client_name(kind: Any, first: str | None, last: str | None, company: str | None) -> str:
    if kind == ClientKind.business and company:
        return company
    return " ".join(part for part in (first, last) if part)


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


register_producer(PORTFOLIO, produce_portfolio, check=check_filters)
register_producer(PREMIUMS, produce_premiums, check=check_premium_filters)
