"""Rows and page readers for the dashboard tests (tests/test_dashboard_*.py)."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal
from typing import Any

from app.extensions import db
from app.models import (
    Client,
    Company,
    Document,
    DocumentStatus,
    Job,
    JobKind,
    JobStatus,
    LineOfBusiness,
    OutputFormat,
    Policy,
    PolicyStatus,
)
from app.services.timezones import local_today, zone

# The dashboard's day is the agency's (default zone), not UTC's: they differ an hour or two a night.
TODAY = local_today(zone(None))


class Agency:
    """Builds one organisation's insurers, policies, documents and jobs."""

    def __init__(self, app: Any, organisation_id: int) -> None:
        self.app = app
        self.organisation_id = organisation_id
        self.count = 0
        with app.app_context():
            client = Client(organisation_id=organisation_id, last_name=f"Client {organisation_id}")
            db.session.add(client)
            db.session.commit()
            self.client_id = client.id

    def insurer(self, name: str) -> int:
        with self.app.app_context():
            company = Company(
                organisation_id=self.organisation_id, name=name, code=f"C{len(name)}{self.count}"
            )
            self.count += 1
            db.session.add(company)
            db.session.commit()
            return company.id

    def policy(
        self,
        company_id: int,
        *,
        status: PolicyStatus = PolicyStatus.active,
        line: LineOfBusiness = LineOfBusiness.auto,
        effective: dt.date | None = None,
        expiry: dt.date | None = None,
        premium: str = "100.00",
        currency: str = "EUR",
    ) -> str:
        self.count += 1
        number = f"D{self.organisation_id}-{self.count}"
        effective = effective or TODAY - dt.timedelta(days=400)
        with self.app.app_context():
            db.session.add(
                Policy(
                    organisation_id=self.organisation_id,
                    number=number,
                    client_id=self.client_id,
                    company_id=company_id,
                    line_of_business=line,
                    status=status,
                    effective_date=effective,
                    expiry_date=expiry or effective + dt.timedelta(days=3650),
                    premium=Decimal(premium),
                    currency=currency,
                )
            )
            db.session.commit()
        return number

    def document(self, status: DocumentStatus, days_ago: int = 0) -> None:
        created = dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(12, 0))
        with self.app.app_context():
            db.session.add(
                Document(
                    organisation_id=self.organisation_id,
                    format=OutputFormat.pdf,
                    status=status,
                    created_at=created,
                )
            )
            db.session.commit()

    def job(self, status: JobStatus, days_ago: int = 0) -> None:
        created = dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(12, 0))
        with self.app.app_context():
            db.session.add(
                Job(
                    organisation_id=self.organisation_id,
                    kind=JobKind.render,
                    status=status,
                    created_at=created,
                )
            )
            db.session.commit()


def svg(page: str, chart_id: str) -> str:
    match = re.search(rf'<svg id="{re.escape(chart_id)}".*?</svg>', page, re.S)
    assert match, f"no chart {chart_id}"
    return match.group(0)


def bar_values(page: str, chart_id: str) -> dict[str, int]:
    """Horizontal bars: label (from the tooltip) -> data-value; checks the visible number."""
    values = {}
    for group in re.findall(
        r'<g class="bar" data-value="([^"]+)">(.*?)</g>', svg(page, chart_id), re.S
    ):
        value, body = group
        title = html.unescape(re.search(r"<title>(.*?)</title>", body, re.S).group(1))
        label, shown = title.rsplit(": ", 1)
        visible = html.unescape(
            re.search(r'<text class="value"[^>]*>(.*?)</text>', body, re.S).group(1)
        )
        assert visible == shown, (visible, shown)
        values[label] = int(value)
    return values


def column_values(page: str, chart_id: str) -> list[Decimal]:
    """Columns: per column, the sum of its segments' data-value (0 for an empty column)."""
    chart = svg(page, chart_id)
    columns = re.findall(r'<g class="column">(.*?)</g>', chart, re.S)
    return [
        sum((Decimal(v) for v in re.findall(r'data-value="([^"]+)"', body)), Decimal(0))
        for body in columns
    ]


def segment_values(page: str, chart_id: str, series_colour: str) -> Decimal:
    chart = svg(page, chart_id)
    return sum(
        (Decimal(v) for v in re.findall(rf'fill="{series_colour}" data-value="([^"]+)"', chart)),
        Decimal(0),
    )


def text_of(page: str, element_id: str) -> str:
    match = re.search(rf'id="{re.escape(element_id)}"[^>]*>(.*?)<', page, re.S)
    assert match, f"no element {element_id}"
    return html.unescape(match.group(1)).strip()


def link_of(page: str, element_id: str) -> str:
    match = re.search(rf'<a[^>]*id="{re.escape(element_id)}"[^>]*href="([^"]+)"', page)
    assert match, f"no link {element_id}"
    return html.unescape(match.group(1))
