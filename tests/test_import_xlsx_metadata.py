"""An XLSX's own metadata is never trusted: every real row and cell is read, the limits count them.

A workbook declares its used range (``<dimension ref="A1:E6"/>``), row numbers and
cell references; a careless writer gets them wrong and a hostile one forges them.
Before, a sheet whose dimension said A1:B2 imported one row of two columns: the rest
was silently lost, and the row limit never saw it.
"""

from __future__ import annotations

import io
import itertools
import re
from typing import Any

import pytest
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from app.extensions import db
from app.models import Client
from app.services.imports import xlsx
from app.services.imports.common import ImportRefusedError, Limits, collect_rows
from tests.import_support import (
    CLIENT_HEADERS,
    clean_staging,  # noqa: F401 (fixture)
    count,
    flashes,
    in_english,
    preview_path,
    rewrite_sheet,
    run,
    staged_files,
    upload,
    with_dimension,
    xlsx_bytes,
)

ROWS = [[f"new{i}@example.com", f"Nom{i}", f"Prénom{i}", "Lyon", "14/07/1980"] for i in range(5)]
# Each cuts something: rows and columns, the first rows and columns, every data row.
LIES = ("A1:B2", "C3:E4", "A1:E1")


@pytest.fixture
def api_agency(app, make_organisation, make_user, auth_headers):
    organisation = make_organisation()
    return {"id": organisation, "headers": auth_headers(make_user("USER", organisation))}


@pytest.fixture
def screen_agency(app, http, make_organisation, make_user, login, clean_staging):  # noqa: F811
    organisation = make_organisation()
    login(make_user("USER", organisation))
    in_english(http)
    return organisation


def post(http, data: bytes, headers: dict[str, str], name: str = "c.xlsx") -> Any:
    return http.post(
        "/api/v1/import/clients",
        data={"file": (io.BytesIO(data), name)},
        headers=headers,
        content_type="multipart/form-data",
    )


def imported_clients(app, organisation_id: int) -> dict[str, tuple[str | None, str | None]]:
    with app.app_context():
        rows = db.session.execute(
            select(Client.email, Client.first_name, Client.city).where(
                Client.organisation_id == organisation_id
            )
        ).all()
    return {email: (first_name, city) for email, first_name, city in rows}


def expected_clients() -> dict[str, tuple[str | None, str | None]]:
    return {row[0]: (row[2], row[3]) for row in ROWS}


def many_rows_workbook(rows: int) -> bytes:
    """A sheet of ``rows`` data rows, written straight as XML (openpyxl would take seconds)."""
    lines = [
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>c{n}@example.com</t></is></c>'
        f'<c r="B{n}" t="inlineStr"><is><t>Nom{n}</t></is></c></row>'
        for n in range(2, rows + 2)
    ]
    header = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>E-mail</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>Nom</t></is></c></row>'
    )
    data = "<sheetData>" + header + "".join(lines) + "</sheetData>"

    def change(xml: bytes) -> bytes:
        return re.sub(rb"<sheetData>.*</sheetData>|<sheetData\s*/>", data.encode(), xml, flags=re.S)

    return with_dimension(rewrite_sheet(xlsx_bytes(["E-mail"], []), change), "A1:B2")


@pytest.mark.parametrize("ref", LIES)
def test_api_imports_every_real_row_whatever_the_dimension_says(app, http, api_agency, ref):
    data = with_dimension(xlsx_bytes(CLIENT_HEADERS, ROWS), ref)
    response = post(http, data, api_agency["headers"])
    assert response.status_code == 200, response.json
    assert (response.json["rows"], response.json["created"]) == (5, 5)
    assert imported_clients(app, api_agency["id"]) == expected_clients()


@pytest.mark.parametrize("ref", LIES)
def test_screens_import_every_real_row_whatever_the_dimension_says(app, http, screen_agency, ref):
    data = with_dimension(xlsx_bytes(CLIENT_HEADERS, ROWS), ref)
    preview = preview_path(upload(http, "clients", data, "c.xlsx"))
    assert run(http, preview, "apply").status_code == 302
    assert imported_clients(app, screen_agency) == expected_clients()


def test_api_refuses_60000_real_rows_behind_a_small_dimension_without_reading_them_all(
    app, http, api_agency, monkeypatch
):
    pulled = 0
    rows_of = xlsx._rows

    def counted(sheet: Any) -> Any:
        nonlocal pulled
        for row in rows_of(sheet):
            pulled += 1
            yield row

    monkeypatch.setattr(xlsx, "_rows", counted)
    response = post(http, many_rows_workbook(60_000), api_agency["headers"])
    assert response.status_code == 422
    assert "10000" in response.json["message"], response.json
    # The header, the 10,000 rows allowed and the one too many: reading stopped there.
    assert pulled == 10_002
    assert count(app, Client, api_agency["id"]) == 0


def test_screens_refuse_more_real_rows_than_the_limit_behind_a_small_dimension(
    app, http, screen_agency, monkeypatch
):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 4)
    data = with_dimension(xlsx_bytes(CLIENT_HEADERS, ROWS), "A1:B2")
    assert upload(http, "clients", data, "c.xlsx").status_code == 302
    assert "The file has more than 4 data rows: split it." in flashes(http)
    assert staged_files(app) == [] and count(app, Client, screen_agency) == 0


def test_a_value_beyond_the_columns_read_is_refused_not_dropped(app, http, api_agency):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(CLIENT_HEADERS)
    sheet.append(ROWS[0])
    far = xlsx.MAX_COLUMNS + 1
    sheet.cell(row=2, column=far, value="note")
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = post(http, with_dimension(buffer.getvalue(), "A1:E2"), api_agency["headers"])
    assert response.status_code == 422
    message = response.json["message"]
    assert f"La cellule {get_column_letter(far)}2 se trouve au-delà" in message, message
    assert count(app, Client, api_agency["id"]) == 0


def test_a_row_numbered_beyond_excels_last_row_is_refused(app, http, api_agency):
    """Row numbers are metadata too: openpyxl pads every missing row up to the one named."""

    def renumber(xml: bytes) -> bytes:
        return re.sub(rb' r="([A-Z]*)6"', rb' r="\g<1>1048577"', xml)

    data = rewrite_sheet(xlsx_bytes(CLIENT_HEADERS, ROWS), renumber)
    response = post(http, data, api_agency["headers"])
    assert response.status_code == 422
    assert isinstance(response.json["message"], str) and response.json["message"]
    assert count(app, Client, api_agency["id"]) == 0


def test_a_hidden_first_sheet_is_not_the_one_imported(app, http, api_agency):
    workbook = Workbook()
    hidden = workbook.active
    hidden.title = "Brouillon"
    hidden.append(["Colonne", "Autre"])
    hidden.append(["x", "y"])
    hidden.sheet_state = "hidden"
    visible = workbook.create_sheet("Clients")
    visible.append(CLIENT_HEADERS)
    for row in ROWS:
        visible.append(row)
    workbook.active = 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = post(http, buffer.getvalue(), api_agency["headers"])
    assert response.status_code == 200, response.json
    assert imported_clients(app, api_agency["id"]) == expected_clients()


def test_the_row_limit_stops_reading_at_the_first_row_too_many(app):
    pulled = 0

    def endless() -> Any:
        nonlocal pulled
        yield 1, ["E-mail", "Nom"]
        for number in itertools.count(2):
            pulled += 1
            yield number, [f"c{number}@example.com", "Nom"]

    with app.test_request_context(), pytest.raises(ImportRefusedError, match="50"):
        collect_rows(endless(), Limits(max_rows=50))
    assert pulled == 51
