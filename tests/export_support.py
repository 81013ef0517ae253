"""Helpers of the list-export tests: read the files back, read the list screen's rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

from openpyxl import load_workbook

from app.extensions import db

BOM = "\ufeff"


def csv_rows(response: Any) -> list[list[str]]:
    """The rows of an exported CSV (header first), checking its encoding and separator."""
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = response.get_data().decode("utf-8")
    assert text.startswith(BOM), "no BOM: Excel would garble the accents"
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def xlsx_sheet(response: Any) -> Any:
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = load_workbook(io.BytesIO(response.get_data()))
    return workbook.worksheets[0]


def xlsx_rows(response: Any) -> list[list[Any]]:
    """The rows of an exported workbook's first sheet (header first), None as ""."""
    sheet = xlsx_sheet(response)
    return [
        ["" if value is None else value for value in row]
        for row in sheet.iter_rows(values_only=True)
    ]


class _ListTable(HTMLParser):
    """The cells of the list widget's table (the one after the search form)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables = 0
        self.in_body = False
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and "table-bordered" in (dict(attrs).get("class") or ""):
            self.tables += 1
        elif tag == "tr" and self.in_body:
            self.rows.append([])
        elif tag == "td" and self.in_body:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "thead" and self.tables:
            self.in_body = True  # FAB writes the rows after the head, without a tbody
        elif tag == "table":
            self.in_body = False

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def list_rows(http: Any, path: str, columns: int) -> list[list[str]]:
    """The list screen's data cells, row by row (checkbox and action cells left out)."""
    response = http.get(path)
    assert response.status_code == 200, response.status_code
    parser = _ListTable()
    parser.feed(response.get_data(as_text=True))
    return [row[-columns:] for row in parser.rows if row]


def column(rows: list[list[Any]], index: int) -> list[Any]:
    return [row[index] for row in rows]


def add_policies(app: Any, organisation_id: int, how_many: int, *, prefix: str = "P") -> None:
    """``how_many`` policies, each with its own client and insurer, premiums 100, 101…"""
    from app.models import Client, Company, LineOfBusiness, Policy, PolicyStatus

    statuses = [PolicyStatus.active, PolicyStatus.draft, PolicyStatus.suspended]
    with app.app_context():
        for n in range(how_many):
            company = Company(
                organisation_id=organisation_id, name=f"Assureur {prefix}{n}", code=f"{prefix}C{n}"
            )
            client = Client(
                organisation_id=organisation_id, first_name="Anne", last_name=f"Nom {prefix}{n:03d}"
            )
            db.session.add_all([company, client])
            db.session.flush()
            db.session.add(
                Policy(
                    organisation_id=organisation_id,
                    number=f"{prefix}-{n:03d}",
                    client_id=client.id,
                    company_id=company.id,
                    line_of_business=LineOfBusiness.home if n % 2 else LineOfBusiness.auto,
                    status=statuses[n % 3],
                    effective_date=dt.date(2026, 1, 1) + dt.timedelta(days=n),
                    expiry_date=dt.date(2027, 1, 1) + dt.timedelta(days=n),
                    premium=Decimal("100.25") + n,
                )
            )
        db.session.commit()
