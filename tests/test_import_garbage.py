"""Garbage uploads are refused with a message: never a 500, nothing staged or written."""

from __future__ import annotations

import io
import zipfile

import pytest

from app.models import Client, Policy
from tests.import_support import (
    CLIENT_HEADERS,
    POLICY_HEADERS,
    clean_staging,  # noqa: F401 (fixture)
    count,
    csv_bytes,
    flashes,
    in_english,
    policy_row,
    seed_agency,
    staged_files,
    upload,
    xlsx_bytes,
)

pytestmark = pytest.mark.usefixtures("clean_staging")


@pytest.fixture
def agency(app, http, make_organisation, make_user, login):
    organisation = make_organisation()
    seed_agency(app, organisation, clients=0)
    login(make_user("USER", organisation))
    in_english(http)
    return organisation


def zip_bomb(megabytes: int = 100) -> bytes:
    """A well-formed XLSX shell whose one sheet inflates ~1000x, to ``megabytes`` MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (megabytes * 1024 * 1024))
    return buffer.getvalue()


def formula_workbook() -> bytes:
    return xlsx_bytes(CLIENT_HEADERS, [["a@example.com", '=UPPER("martin")', "", "", ""]])


def broken_workbook() -> bytes:
    good = xlsx_bytes(CLIENT_HEADERS, [["a@example.com", "Martin", "", "", ""]])
    return good[: len(good) // 2]  # a truncated download: the zip's directory is gone


def not_a_workbook_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


def corrupt_sheet_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types>")
        archive.writestr("xl/workbook.xml", "<workbook><sheets><sheet")
    return buffer.getvalue()


GARBAGE = {
    "pdf": ("scan.pdf", b"%PDF-1.7\n...", "Only CSV and XLSX files are accepted."),
    "no extension": ("clients", b"E-mail;Nom\na@b.fr;A\n", "Only CSV and XLSX files are accepted."),
    "xls": ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "(.xls) are not accepted"),
    "xlsx that is text": ("fake.xlsx", b"E-mail;Nom\n", "This file is not a valid XLSX workbook."),
    "truncated xlsx": ("cut.xlsx", broken_workbook(), "This file is not a valid XLSX workbook."),
    "zip without workbook": ("z.xlsx", not_a_workbook_zip(), "not a valid XLSX workbook"),
    "corrupt xml": (
        "bad.xlsx",
        corrupt_sheet_workbook(),
        "This file is not a valid XLSX workbook.",
    ),
    "zip bomb": ("bomb.xlsx", zip_bomb(), "expands to too much data once uncompressed"),
    # Under the total limit, but no real sheet compresses 1000x: refused by the ratio.
    "dense zip bomb": ("bomb.xlsx", zip_bomb(20), "expands to too much data once uncompressed"),
    "formula": ("f.xlsx", formula_workbook(), "Cell B2 holds a formula"),
    "zip named csv": ("c.csv", not_a_workbook_zip(), "This file is not a CSV text file."),
    "binary csv": ("c.csv", b"E-mail;Nom\n\x00\x01\x02\x03", "This file is not a CSV text file."),
    "neither utf-8 nor cp1252": ("c.csv", b"E-mail;Nom\na@b.fr;\x81\x8d\x8f\n", "encoding is not"),
    "empty": ("c.csv", b"", "The file is empty."),
    "blank": ("c.csv", b" \r\n\r\n", "The file is empty."),
    "header only": ("c.csv", b"E-mail;Nom\r\n", "The file has no data rows."),
    "huge cell": (
        "c.csv",
        csv_bytes(CLIENT_HEADERS, [["a@b.fr", "x" * 5000, "", "", ""]]),
        "Row 2, column 2: a cell holds more than 1000 characters.",
    ),
    "cell over the csv module's limit": (
        "c.csv",
        csv_bytes(CLIENT_HEADERS, [["a@b.fr", "y" * 200_000, "", "", ""]]),
        "could not be read as CSV: check the quotes and the cell lengths",
    ),
    "unclosed quote": ("c.csv", b'E-mail;Nom\n"a@b.fr;A\n' + b"z" * 200_000, "could not be read"),
    "huge xlsx cell": (
        "c.xlsx",
        xlsx_bytes(CLIENT_HEADERS, [["a@b.fr", "x" * 5000, "", "", ""]]),
        "a cell holds more than 1000 characters",
    ),
}


@pytest.mark.parametrize("case", sorted(GARBAGE))
def test_garbage_is_refused_with_a_message(app, http, agency, case):
    name, data, message = GARBAGE[case]
    response = upload(http, "clients", data, name)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/import/clients/")
    page = flashes(http)
    assert message in page.replace("&#39;", "'").replace("&#34;", '"'), page[:3000]
    assert staged_files(app) == []
    assert count(app, Client) == 0


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(app, http, agency, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1000)
    rows = [[f"c{i}@example.com", f"Nom{i}", "", "", ""] for i in range(100)]
    response = upload(http, "clients", csv_bytes(CLIENT_HEADERS, rows), "c.csv")
    assert response.status_code == 302
    assert "The file is too large: at most 0.01 MB." in flashes(http)
    # Far beyond: refused from Content-Length alone, before the body (and its token) is read.
    big = csv_bytes(CLIENT_HEADERS, rows * 40)
    assert len(big) > 1000 + 64 * 1024
    assert upload(http, "clients", big, "c.csv", token=False).status_code == 302
    assert "The file is too large" in flashes(http)
    assert staged_files(app) == [] and count(app, Client) == 0
    # Just above the limit, within the form's overhead: refused on the bytes themselves.
    data = csv_bytes(CLIENT_HEADERS, rows)[:1001]
    assert upload(http, "clients", data, "c.csv").status_code == 302
    assert "The file is too large" in flashes(http)
    assert staged_files(app) == []


def test_too_many_rows_are_refused(app, http, agency, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 50)
    rows = [[f"c{i}@example.com", f"Nom{i}", "", "", ""] for i in range(51)]
    for data, name in (
        (csv_bytes(CLIENT_HEADERS, rows), "c.csv"),
        (xlsx_bytes(CLIENT_HEADERS, rows), "c.xlsx"),
    ):
        assert upload(http, "clients", data, name).status_code == 302
        assert "The file has more than 50 data rows: split it." in flashes(http)
    assert staged_files(app) == [] and count(app, Client) == 0
    # Exactly the limit is fine.
    assert upload(http, "clients", csv_bytes(CLIENT_HEADERS, rows[:50]), "c.csv").status_code == 302
    assert len(staged_files(app)) == 1


def test_no_file_is_refused(app, http, agency):
    from tests.conftest import csrf_token

    token = csrf_token(http, "/import/clients/")
    response = http.post("/import/clients/upload", data={"csrf_token": token})
    assert response.status_code == 302
    assert "Choose a CSV or XLSX file." in flashes(http)


def test_missing_required_columns_refuse_the_file_on_the_preview(app, http, agency):
    data = csv_bytes(
        ["Numéro de police", "Prime", "Commentaire", "Prime "], [["P1", "1", "x", "2"]]
    )
    response = upload(http, "policies", data, "p.csv")
    preview = response.headers["Location"]
    page = http.get(preview).get_data(as_text=True).replace("&#34;", '"')
    for column in ("E-mail du client", "Assureur", "Branche", "Date d'effet".replace("'", "&#39;")):
        assert f'The required column "{column}" is missing.' in page
    assert 'The column "Prime" names a field already given by another column.' in page
    assert "Commentaire" in page and "Ignored" in page
    assert "import-apply" not in page
    assert http.post(f"{preview}/run").status_code == 400  # no token: refused anyway
    assert count(app, Policy) == 0


def test_a_row_in_error_names_its_column_for_every_bad_cell(app, http, agency):
    rows = [policy_row(1, clients=1, email="nobody@example.com", line="boat", premium="12,3,4")]
    response = upload(http, "policies", csv_bytes(POLICY_HEADERS, rows), "p.csv")
    page = http.get(response.headers["Location"]).get_data(as_text=True)
    assert "Unknown value: use one of auto, home, health, life, liability" in page
    assert "Not an amount: write it like 1234,56." in page
    assert count(app, Policy) == 0
