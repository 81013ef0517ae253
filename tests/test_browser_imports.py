"""In Debian's chromium, against `python run.py`: import a small CSV file of clients as a user
does — the template file, an upload with one bad row (shown, nothing written), the fixed file,
a dry run (nothing written), the import, the clients in the list.

Fixtures (site, browser_page) live in tests/browser_support.py; screenshots of each step
go to tests/artifacts/browser/<test name>/. Messages are checked by the elements that carry
them, not by their wording, which the translators own.
"""

from __future__ import annotations

import csv
import io
import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import Shots, Site, log_in, record_count

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def clients_csv(headers: list[str], rows: list[dict[str, str]]) -> bytes:
    """A CSV as Excel in French saves it: ';'-separated, UTF-8 with a BOM."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, headers, delimiter=";", lineterminator="\r\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def upload(page: Page, name: str, data: bytes) -> None:
    page.locator("#file").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}]
    )
    page.locator("#import-upload button[type=submit]").click()
    page.locator("#import-mapping").wait_for()


def listed_clients(page: Page, prefix: str) -> list[str]:
    """The last names of the clients listed by the client screen's "starts with" filter."""
    page.goto(f"clientview/list/?_flt_0_last_name={prefix}")
    cells = page.locator("table tbody tr td").all_inner_texts()
    names = sorted(text.strip() for text in cells if text.strip().startswith(prefix))
    assert len(names) == record_count(page)
    return names


def test_import_a_small_csv_of_clients(site: Site, browser_page: tuple[Page, Shots]):
    page, shots = browser_page
    log_in(page, site, shots)
    prefix = f"Import{secrets.token_hex(3).upper()}"

    page.locator("a.dropdown-toggle", has_text="Portefeuille").click()
    page.locator("li.dropdown.open a[href='/import/clients/']").click()
    expect(page.locator("#import-upload")).to_be_visible()
    shots("import-form")

    # The template file gives the headers, in French.
    with page.expect_download() as info:
        page.locator("#import-template-csv").click()
    with open(info.value.path(), encoding="utf-8-sig") as file:
        headers = next(csv.reader(file, delimiter=";"))
    assert {"E-mail", "Nom", "Prénom", "Ville", "Date de naissance"} <= set(headers)

    rows = [
        {"Nom": f"{prefix}A", "Prénom": "Amélie", "E-mail": f"a.{prefix}@example.com"},
        {"Nom": f"{prefix}B", "Prénom": "Bruno", "E-mail": "pas-une-adresse"},
        {"Nom": f"{prefix}C", "Prénom": "Céline", "E-mail": f"c.{prefix}@example.com"},
    ]
    for row in rows:
        row.update({"Ville": "Lyon", "Date de naissance": "14/07/1980"})

    # One bad e-mail: that row, that column, and nothing imported.
    upload(page, "clients.csv", clients_csv(headers, rows))
    mapped = page.locator("#import-mapping tbody tr td:first-child").all_inner_texts()
    assert {"Nom", "Prénom", "E-mail", "Ville", "Date de naissance"} <= set(mapped)
    expect(page.locator("#import-summary.alert-danger")).to_be_visible()
    errors = page.locator("#import-errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.locator("td").nth(0)).to_have_text("3")  # the header is row 1
    expect(errors.locator("td").nth(1)).to_have_text("E-mail")
    expect(page.locator("#import-apply")).to_have_count(0)
    shots("preview-with-error")
    with page.expect_download() as info:
        page.locator("#import-errors-csv").click()
    with open(info.value.path(), encoding="utf-8-sig") as file:
        error_rows = list(csv.reader(file, delimiter=";"))
    assert len(error_rows) == 2, error_rows  # its header and the one error
    assert error_rows[1][:2] == ["3", "E-mail"], error_rows
    assert listed_clients(page, prefix) == []

    # The fixed file: all valid, a dry run writes nothing, the import writes all three.
    rows[1]["E-mail"] = f"b.{prefix}@example.com"
    page.goto("import/clients/")
    upload(page, "clients-corriges.csv", clients_csv(headers, rows))
    expect(page.locator("#import-summary.alert-success")).to_contain_text("3")
    shots("preview-valid")
    page.locator("#import-dry-run").click()
    expect(page.locator(".alert-info")).to_contain_text("3")
    shots("dry-run")
    preview = page.url
    assert listed_clients(page, prefix) == []

    page.goto(preview)
    page.locator("#import-apply").click()
    expect(page.locator(".alert-success")).to_contain_text("3")
    shots("imported")
    assert listed_clients(page, prefix) == [f"{prefix}A", f"{prefix}B", f"{prefix}C"]
    shots("clients-listed")
