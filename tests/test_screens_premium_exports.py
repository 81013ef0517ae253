"""Comptabilité exports: Quittances, Impayés and Encaissements as CSV and XLSX, through the screens.

Each file holds the rows its list shows (its filters, its organisation only), amounts as
numbers with their currency beside them, never another agency's rows.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import PremiumNotice
from tests.conftest import login_screen, user_organisation
from tests.test_api_premiums import make_policy
from tests.test_screens_premiums import RECORD, _issue
from tests.test_screens_premiums import agency as agency  # noqa: F401 (the fixture)
from tests.test_screens_support import csrf_token


def _csv(response) -> tuple[list[str], list[list[str]]]:
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"].startswith("text/csv")
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    return rows[0], rows[1:]


@pytest.fixture
def neighbour(app, make_user):
    """Another agency with its own contract's notices (POL-B), none of which may leak."""
    manager = make_user("MANAGER")
    org = user_organisation(app, manager)
    _issue(app, org, make_policy(app, org, "POL-B", started_days_ago=20), 70)
    return {"org": org, "manager": manager}


def _numbers(app, org: int) -> set[str]:
    with app.app_context():
        query = select(PremiumNotice.number).where(PremiumNotice.organisation_id == org)
        return set(db.session.scalars(query))


def test_the_quittances_export_holds_the_agencys_notices_amounts_as_numbers(
    app, http, login, agency, neighbour
):
    login(agency["user"])
    header, body = _csv(http.get("/premiumnoticeview/export/csv"))
    assert header[:4] == ["Numéro", "Contrat", "Client", "Assureur"]
    assert {row[0] for row in body} == _numbers(app, agency["org"]) != set()
    assert not any("POL-B" in cell for row in body for cell in row)
    first = next(row for row in body if row[0] == "POL-A/1-01")
    total = header.index("Total")
    # The amount as a number in the reader's style, its currency in the next column.
    assert (first[total], first[total + 1]) == ("83,37", "EUR")
    # Filtered like the list: the first notice alone.
    _header, one = _csv(http.get("/premiumnoticeview/export/csv?_flt_0_number=POL-A/1-01"))
    assert [row[0] for row in one] == ["POL-A/1-01"]
    xlsx = http.get("/premiumnoticeview/export/xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    amount = next(row for row in rows[1:] if row[0] == "POL-A/1-01")[total]
    assert isinstance(amount, int | float | Decimal) and Decimal(str(amount)) == Decimal("83.37")


def test_the_impayes_export_holds_the_work_list_only(app, http, login, agency, neighbour):
    login(agency["user"])
    header, body = _csv(http.get("/unpaidnoticeview/export/csv"))
    stage = header.index("Étape de l'impayé")
    # The notice 20 days late and the one inside the reminder days; not the later one.
    assert [(row[0], row[stage]) for row in body] == [
        ("POL-A/1-01", "Mise en demeure possible"),
        ("POL-A/1-02", "Rappel à envoyer"),
    ]
    assert body[0][header.index("Reste dû") + 1] == "EUR"
    # A tab's filter is the export's: the late one alone.
    _header, late = _csv(
        http.get("/unpaidnoticeview/export/csv?_flt_0_stage=formal_notice_possible")
    )
    assert [row[0] for row in late] == ["POL-A/1-01"]
    page = http.get("/unpaidnoticeview/list/").get_data(as_text=True)
    assert 'href="/unpaidnoticeview/export/csv' in page


def test_the_encaissements_export_names_the_payer_and_the_credit(
    app, http, login, agency, neighbour
):
    login(agency["user"])
    first = agency["notices"][0]
    http.post(
        RECORD,
        data={
            "client_id": str(agency["client"]),
            "amount": "100,00",
            "received_on": agency["today"].isoformat(),
            "method": "cheque",
            "reference": "CHQ 1111111",
            "payer": "Jeanne Martin",
            f"alloc_{first}": "83,37",
            "csrf_token": csrf_token(http, RECORD),
        },
    )
    header, body = _csv(http.get("/paymentview/export/csv"))
    assert header == [
        "Reçu le",
        "Client",
        "Montant",
        "Devise",
        "Mode de paiement",
        "Payeur",
        "Référence",
        "Affecté",
        "Devise",
        "Non affecté",
        "Devise",
        "Statut",
    ]
    assert body == [
        [
            agency["today"].isoformat(),
            "Jeanne POL-A",
            "100,00",
            "EUR",
            "Chèque",
            "Jeanne Martin",
            "CHQ 1111111",
            "83,37",
            "EUR",
            "16,63",
            "EUR",
            "Reçu",
        ]
    ]
    # The other agency's staff export nothing of it.
    other = app.test_client()
    login_screen(other, neighbour["manager"])
    _header, theirs = _csv(other.get("/paymentview/export/csv"))
    assert theirs == []
