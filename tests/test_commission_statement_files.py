"""POST /api/v1/commission_statement/ with the files the import machinery guards against:
an XLSX statement read and reconciled, an XLSX formula cell refused, a file over the
statement's size limit (413, read or announced) and one over its row cap, nothing written."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import CommissionStatement, CommissionStatementLine
from tests import test_commission_statements as statements_support
from tests.import_support import xlsx_bytes
from tests.test_commission_statements import make_book, statement_csv, upload

HEADERS = ["N° police", "Période", "Commission"]
manager = statements_support.manager
headers = statements_support.headers
organisation = statements_support.organisation


def _nothing_written(app) -> bool:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(CommissionStatement)) == 0
            and db.session.scalar(select(func.count()).select_from(CommissionStatementLine)) == 0
        )


def test_an_xlsx_statement_is_read_and_reconciled(app, http, headers, organisation):
    book = make_book(app, organisation, 3)
    # Numbers as an insurer's workbook holds them: numeric cells, not text.
    rows = [[policy, "11/2026", float(commission)] for policy, _n, commission in book["lines"]]
    answer = upload(http, headers, book["company"], xlsx_bytes(HEADERS, rows), name="r.xlsx")
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.json["result"]["results"]["matched"] == 3


def test_an_xlsx_formula_cell_is_refused_and_nothing_is_written(app, http, headers, organisation):
    book = make_book(app, organisation, 2)
    (policy, _n, commission), (other, _m, _c) = book["lines"]
    rows = [[policy, "11/2026", float(commission)], [other, "11/2026", "=2*6"]]
    answer = upload(http, headers, book["company"], xlsx_bytes(HEADERS, rows), name="r.xlsx")
    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert "C3 contient une formule" in str(answer.json["message"])
    assert _nothing_written(app)


def test_a_statement_over_the_size_limit_is_413(app, http, headers, organisation, monkeypatch):
    book = make_book(app, organisation, 1)
    monkeypatch.setitem(app.config, "COMMISSION_STATEMENT_MAX_BYTES", 2_000)
    policy = book["lines"][0][0]
    lines = [(policy, n) for n in range(200)]  # about 5 kB
    small_overshoot = statement_csv(lines)
    assert 2_000 < len(small_overshoot) < 64 * 1024  # read from the stream, then refused
    assert upload(http, headers, book["company"], small_overshoot).status_code == 413
    announced = statement_csv([(policy, n) for n in range(5_000)])  # over the form's allowance
    assert len(announced) > 2_000 + 64 * 1024
    assert upload(http, headers, book["company"], announced).status_code == 413
    assert _nothing_written(app)


def test_a_statement_over_the_row_cap_is_refused_whole(
    app, http, headers, organisation, monkeypatch
):
    book = make_book(app, organisation, 3)
    monkeypatch.setitem(app.config, "COMMISSION_STATEMENT_MAX_ROWS", 2)
    rows = [[policy, "11/2026", float(c)] for policy, _n, c in book["lines"]]
    answer = upload(http, headers, book["company"], xlsx_bytes(HEADERS, rows), name="r.xlsx")
    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert "plus de 2 lignes de données" in str(answer.json["message"])
    assert _nothing_written(app)
    # At the cap, the same file goes in.
    monkeypatch.setitem(app.config, "COMMISSION_STATEMENT_MAX_ROWS", 3)
    answer = upload(http, headers, book["company"], xlsx_bytes(HEADERS, rows), name="r.xlsx")
    assert answer.status_code == 201, answer.get_data(as_text=True)
