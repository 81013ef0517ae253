"""Write-only workbooks delete their temporary sheet files when writing fails."""

from __future__ import annotations

import tempfile

import pytest

from app.services.exports.writers import xlsx_file
from app.services.workbooks import write_only_workbook


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_a_failed_block_leaves_no_temporary_file(scratch):
    with pytest.raises(RuntimeError), write_only_workbook() as workbook:
        sheet = workbook.create_sheet("S")
        sheet.append(["a", 1])
        assert list(scratch.glob("openpyxl.*")), "openpyxl no longer writes sheets to files?"
        raise RuntimeError("the rows broke")
    assert list(scratch.glob("openpyxl.*")) == []


def test_a_saved_workbook_leaves_no_temporary_file(scratch):
    with write_only_workbook() as workbook:
        workbook.create_sheet("S").append(["a", 1])
        workbook.save(str(scratch / "out.xlsx"))
    assert list(scratch.glob("openpyxl.*")) == []
    assert (scratch / "out.xlsx").stat().st_size > 0


def test_an_export_whose_rows_fail_leaves_no_temporary_file(scratch):
    def rows():
        yield ["a", 1]
        raise ConnectionError("the database went away")

    with pytest.raises(ConnectionError):
        xlsx_file(["Name", "Count"], rows(), title="Clients")
    assert list(scratch.glob("openpyxl.*")) == []
