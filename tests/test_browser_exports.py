"""In Debian's chromium, against `python run.py`: from the dashboard's "expiring within 30 days"
to the filtered policy list, exported with its buttons as XLSX and CSV, both files read back:
the list's rows, no more, in the list's order.

Fixtures (site, browser_page) live in tests/browser_support.py; screenshots of each step
go to tests/artifacts/browser/<test name>/.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.browser_support import Shots, Site, log_in, record_count

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NUMBER, STATUS, EXPIRY = "Numéro de contrat", "Statut", "Date d'échéance"


def download(page: Page, link: Any) -> tuple[str, bytes]:
    with page.expect_download() as info:
        link.click()
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


def as_date(value: Any) -> dt.date:
    """An XLSX date cell (datetime) or a CSV one (DD/MM/YYYY or ISO)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if "/" in text:
        return dt.datetime.strptime(text, "%d/%m/%Y").date()
    return dt.date.fromisoformat(text[:10])


def records(header: list[Any], rows: list[list[Any]]) -> list[dict[str, Any]]:
    names = [str(name) for name in header]
    return [dict(zip(names, row, strict=False)) for row in rows if any(row)]


def test_export_the_filtered_policy_list_as_xlsx_and_csv(
    site: Site, browser_page: tuple[Page, Shots]
):
    page, shots = browser_page
    log_in(page, site, shots)

    # Dashboard -> "within 30 days": the active policies expiring soonest first.
    page.goto("dashboard/")
    page.locator("#expiring-30").click()
    expect(page).to_have_url(re.compile(r"/policyview/list/\?.*expiry_date"))
    count = record_count(page)
    assert count >= 10  # the demo portfolio's policies expiring within 30 days
    shown = page.locator("table tbody tr td").all_inner_texts()
    shots("filtered-list")

    # XLSX: one row per listed policy, each active and expiring within 30 days, soonest first.
    buttons = page.locator(".list-export")
    name, data = download(page, buttons.locator("a[href*='/export/xlsx']"))
    assert name.endswith(".xlsx"), name
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    xlsx = records(table[0], table[1:])
    assert len(xlsx) == count
    today = dt.date.today()
    expiries = [as_date(row[EXPIRY]) for row in xlsx]
    assert expiries == sorted(expiries)
    # Within 30 days from today (a day more: the server's "today" may have turned already).
    assert all(today <= day <= today + dt.timedelta(days=31) for day in expiries), expiries
    assert {row[STATUS] for row in xlsx} == {"En cours"}
    numbers = [str(row[NUMBER]) for row in xlsx]
    # The list's first page shows the same policies, in the same order.
    listed = [text.strip() for text in shown if text.strip() in set(numbers)]
    assert listed and listed == numbers[: len(listed)], (listed, numbers)
    shots("xlsx-downloaded")

    # CSV: the same rows in the same order (';'-separated, UTF-8 with a BOM, for Excel).
    name, data = download(page, buttons.locator("a[href*='/export/csv']"))
    assert name.endswith(".csv"), name
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    exported = records(table[0], table[1:])
    assert [row[NUMBER] for row in exported] == numbers
    assert [as_date(row[EXPIRY]) for row in exported] == expiries
    shots("csv-downloaded")
