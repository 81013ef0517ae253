"""What real spreadsheets send is accepted: encodings, delimiters, dates, amounts, labels, cells."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.models import Client
from app.services.errors import NotFoundError
from app.services.imports import samples
from app.services.imports.common import RowError
from app.services.imports.staging import Staging
from tests.import_support import (
    clean_staging,  # noqa: F401 (fixture)
    error_rows,
    in_english,
    policies_of,
    preview_path,
    run,
    seed_agency,
    upload,
)

pytestmark = pytest.mark.usefixtures("clean_staging")


@pytest.fixture
def agency(app, http, make_organisation, make_user, login):
    organisation = make_organisation()
    seed_agency(app, organisation, clients=3)
    login(make_user("USER", organisation))
    in_english(http)
    return organisation


def imported(http, kind: str, data: bytes, name: str) -> None:
    preview = preview_path(upload(http, kind, data, name))
    page = http.get(preview).get_data(as_text=True)
    assert error_rows(page) == [], error_rows(page)
    assert run(http, preview, "apply").status_code == 302


def clients(app, organisation: int) -> dict[str, Client]:
    with app.app_context():
        rows = db.session.query(Client).filter_by(organisation_id=organisation).all()
        db.session.expunge_all()
        return {row.email: row for row in rows}


def test_windows_1252_csv_with_semicolons(app, http, agency):
    text = (
        "E-mail;Nom;Prénom;Ville;Date de naissance\r\n"
        "zoe@example.com;Lefèvre;Zoé;Orléans;02/03/1985\r\n"
    )
    imported(http, "clients", text.encode("cp1252"), "excel.csv")
    zoe = clients(app, agency)["zoe@example.com"]
    assert (zoe.last_name, zoe.first_name, zoe.city) == ("Lefèvre", "Zoé", "Orléans")
    assert zoe.birth_date == dt.date(1985, 3, 2)


def test_utf8_bom_csv_with_commas_and_english_headers(app, http, agency):
    text = (
        "Email,Last name,First name,Kind,Company name,Notes\r\n"
        'sa@example.com,Durand,,Business,"Durand, fils & Cie","=not a formula"\r\n'
    )
    imported(http, "clients", text.encode("utf-8-sig"), "export.csv")
    client = clients(app, agency)["sa@example.com"]
    assert (client.kind.value, client.company_name) == ("business", "Durand, fils & Cie")
    assert client.notes == "=not a formula"  # CSV has no formulas: text stays text


def test_utf16_tab_separated_text(app, http, agency):
    text = "E-mail\tNom\r\nu16@example.com\tÉtienne\r\n"
    imported(http, "clients", text.encode("utf-16"), "unicode.csv")
    assert clients(app, agency)["u16@example.com"].last_name == "Étienne"


def test_policy_values_in_every_accepted_spelling(app, http, agency):
    headers = (
        "number;client email;INSURER;Line of Business;statut;Date d’effet;"
        "date d'echeance;prime;devise;fractionnement"
    )
    lines = [
        "P-1;CLIENT0@example.com;axa;Motor;Résilié;01/02/2026;2027-01-31;1 234,56;eur;Mensuel",
        "P-2;client1@example.com;Generali;habitation;;2026-01-01;31.12.2026;99.9;;",
    ]
    imported(http, "policies", "\r\n".join([headers, *lines]).encode(), "p.csv")
    policies = policies_of(app, agency)
    one, two = policies["P-1"], policies["P-2"]
    assert (one.line_of_business.value, one.status.value, one.payment_frequency.value) == (
        "auto",
        "cancelled",
        "monthly",
    )
    assert (one.premium, one.currency, one.effective_date) == (
        Decimal("1234.56"),
        "EUR",
        dt.date(2026, 2, 1),
    )
    assert (two.status.value, two.premium, two.expiry_date) == (
        "draft",
        Decimal("99.90"),
        dt.date(2026, 12, 31),
    )


def test_xlsx_typed_cells_and_text_that_starts_with_equals(app, http, agency):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["E-mail", "Nom", "Code postal", "Date de naissance", "Notes"])
    sheet.append(["x@example.com", "Xavier", 75002, dt.datetime(1979, 5, 6), None])
    cell = sheet.cell(row=2, column=5, value="=SUM(A1)")
    cell.data_type = "s"  # typed as text in Excel ('=SUM(A1)): a string, not a formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    imported(http, "clients", buffer.getvalue(), "c.xlsx")
    client = clients(app, agency)["x@example.com"]
    assert (client.postal_code, client.birth_date, client.notes) == (
        "75002",
        dt.date(1979, 5, 6),
        "=SUM(A1)",
    )


def test_an_empty_optional_cell_clears_and_a_missing_column_keeps(app, http, agency):
    first = "E-mail;Nom;Ville;Téléphone\r\nk@example.com;Kahn;Nice;0611223344\r\n"
    imported(http, "clients", first.encode(), "a.csv")
    second = "E-mail;Nom;Ville\r\nK@EXAMPLE.COM;Kahn;\r\n"
    imported(http, "clients", second.encode(), "b.csv")
    client = clients(app, agency)["k@example.com"]
    assert (client.city, client.phone) == (None, "0611223344")


def test_error_report_cells_are_never_formulas():
    data = samples.errors_csv([RowError(2, "=HYPERLINK(1)", "-2+3"), RowError(3, "Nom", "ok")])
    text = data.decode("utf-8-sig").splitlines()
    assert text[1] == "2;'=HYPERLINK(1);'-2+3"
    assert text[2] == "3;Nom;ok"


def test_staging_refuses_forged_tokens_and_tampered_files(tmp_path):
    staging = Staging(tmp_path)
    staged = staging.put(
        b"a;b\n1;2\n", kind="clients", user_id=1, organisation_id=2, file_name="x.csv"
    )
    owner = {"kind": "clients", "user_id": 1, "organisation_id": 2}
    assert staging.get(staged.token, **owner) == staged
    for token in ("../../etc/passwd", "x" * 31, staged.token[:-1] + "/"):
        with pytest.raises(NotFoundError):
            staging.get(token, **owner)
    with pytest.raises(NotFoundError):
        staging.get(staged.token, **{**owner, "organisation_id": 3})
    (tmp_path / "import-staging" / f"{staged.token}.bin").write_bytes(b"other")
    with pytest.raises(NotFoundError):
        staging.read(staged)
    assert oct((tmp_path / "import-staging" / f"{staged.token}.json").stat().st_mode)[-3:] == "600"


def _examples(page: str) -> set[str]:
    """The "Example" column of an import screen's table of columns."""
    return set(
        re.findall(r"<tr><td>[^<]*</td><td>.*?</td><td>[^<]*</td><td>([^<]*)</td></tr>", page)
    )


def test_the_examples_are_words_a_reader_writes_not_stored_codes(app, http, agency):
    """Labels in the reader's language (the import reads them), never "auto" or "annual"."""
    english = _examples(http.get("/import/policies/").get_data(as_text=True))
    assert {"Motor", "Active", "Annual"} <= english, english
    assert "Person" in _examples(http.get("/import/clients/").get_data(as_text=True))
    http.get("/lang/fr")
    french = _examples(http.get("/import/policies/").get_data(as_text=True))
    assert {"Automobile", "En cours", "Annuel"} <= french, french
    assert not {"auto", "active", "annual", "person"} & (english | french)
    workbook = load_workbook(io.BytesIO(http.get("/import/policies/template.xlsx").get_data()))
    help_examples = {row[3] for row in workbook.worksheets[1].iter_rows(values_only=True)}
    assert {"Automobile", "En cours", "Annuel"} <= help_examples, help_examples
