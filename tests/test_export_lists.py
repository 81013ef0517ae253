"""Each list screen exports CSV and XLSX holding exactly the rows the list shows:
same filters, search and order, every page, with readable values."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from app.extensions import db
from app.models import AuditLog, Document, DocumentStatus, OutputFormat
from tests.conftest import user_organisation
from tests.export_support import add_policies, column, csv_rows, list_rows, xlsx_rows, xlsx_sheet

# Active policies with a premium above 102, but P-006, most expensive first.
POLICY_ARGS = (
    "_flt_0_status=active&_flt_1_premium=102&_flt_4_number=P-006"
    "&_oc_PolicyView=premium&_od_PolicyView=desc"
)


def _french_date(text: str) -> str:
    day, month, year = text.split("/")
    return f"{2000 + int(year) if len(year) == 2 else year}-{month}-{day}"


def test_policy_export_holds_the_filtered_searched_ordered_list(app, http, login, make_user):
    user = make_user("USER")
    add_policies(app, user_organisation(app, user), 12)
    login(user)
    shown = list_rows(http, f"/policyview/list/?{POLICY_ARGS}", 8)
    assert column(shown, 0) == ["P-009", "P-003"]  # the case is not trivial

    response = http.get(f"/policyview/export/csv?{POLICY_ARGS}")
    assert response.is_streamed  # a generator: rows go out as they are read
    exported = csv_rows(response)
    header, rows = exported[0], exported[1:]
    assert header == [
        "Numéro de contrat",
        "Client",
        "Assureur",
        "Branche",
        "Statut",
        "Date d'effet",
        "Date d'échéance",
        "Prime annuelle TTC",
        "Devise",
    ]
    assert [row[:5] for row in rows] == [cells[:5] for cells in shown]
    assert [row[5:7] for row in rows] == [[_french_date(c) for c in cells[5:7]] for cells in shown]
    assert rows[0][4] == "En cours"  # the enum's French label, as on the screen
    assert rows[0][5:] == ["2026-01-10", "2027-01-10", "109,25", "EUR"]
    assert shown[0][7].startswith("109,25")

    sheet = xlsx_rows(http.get(f"/policyview/export/xlsx?{POLICY_ARGS}"))
    assert sheet[0] == header
    assert [row[0] for row in sheet[1:]] == ["P-009", "P-003"]
    assert sheet[1][5] == dt.datetime(2026, 1, 10)  # a real date, shown as ISO
    assert sheet[1][7] == 109.25 and sheet[1][8] == "EUR"  # a number and its currency


def test_export_ignores_the_page_and_takes_every_row(app, http, login, make_user):
    user = make_user("USER")
    add_policies(app, user_organisation(app, user), 30)
    login(user)
    paged = "psize_PolicyView=5&page_PolicyView=2&_oc_PolicyView=number&_od_PolicyView=asc"
    assert len(list_rows(http, f"/policyview/list/?{paged}", 8)) == 5
    rows = csv_rows(http.get(f"/policyview/export/csv?{paged}"))[1:]
    assert column(rows, 0) == [f"P-{n:03d}" for n in range(30)]


def test_default_order_is_the_lists_default_order(app, http, login, make_user):
    user = make_user("USER")
    add_policies(app, user_organisation(app, user), 5)
    login(user)
    shown = list_rows(http, "/policyview/list/", 8)
    rows = csv_rows(http.get("/policyview/export/csv"))[1:]
    # The work order: active, suspended, then drafts, each by expiry.
    assert column(rows, 0) == column(shown, 0) == ["P-000", "P-003", "P-002", "P-001", "P-004"]


def test_client_export_matches_the_list(app, http, login, make_user):
    user = make_user("USER")
    add_policies(app, user_organisation(app, user), 12)
    login(user)
    args = "_flt_2_last_name=P00&_flt_0_kind=person&_oc_ClientView=last_name&_od_ClientView=desc"
    shown = list_rows(http, f"/clientview/list/?{args}", 7)
    assert column(shown, 0) == [f"Nom P{n:03d}" for n in range(9, -1, -1)]
    rows = csv_rows(http.get(f"/clientview/export/csv?{args}"))
    assert rows[0] == ["Nom", "Prénom", "Raison sociale", "Type", "E-mail", "Téléphone", "Ville"]
    assert rows[1:] == shown
    assert rows[1][3] == "Particulier"
    assert xlsx_rows(http.get(f"/clientview/export/xlsx?{args}")) == rows


def test_insurer_export_matches_the_list(app, http, login, make_user):
    user = make_user("USER")
    add_policies(app, user_organisation(app, user), 12)
    login(user)
    args = "_flt_0_name=Assureur P1&_oc_CompanyView=code&_od_CompanyView=desc"
    shown = list_rows(http, f"/companyview/list/?{args}", 5)
    assert column(shown, 1) == ["PC11", "PC10", "PC1"]
    rows = csv_rows(http.get(f"/companyview/export/csv?{args}"))
    assert rows[0] == ["Nom", "Code", "Contact", "E-mail", "Téléphone"]
    assert rows[1:] == shown
    assert xlsx_rows(http.get(f"/companyview/export/xlsx?{args}")) == rows


def _add_documents(app, organisation_id: int) -> None:
    with app.app_context():
        for n, status in enumerate([DocumentStatus.ready, DocumentStatus.failed] * 3):
            db.session.add(
                Document(
                    organisation_id=organisation_id,
                    format=OutputFormat.pdf,
                    status=status,
                    file_name=f"contrat-{n}.pdf",
                    size=1000 + n,
                    attempts=1,
                    error=None if status is DocumentStatus.ready else "Moteur PDF indisponible",
                )
            )
        db.session.commit()


def test_document_export_matches_the_list_without_its_buttons(app, http, login, make_user):
    user = make_user("USER")
    _add_documents(app, user_organisation(app, user))
    login(user)
    args = "_flt_0_status=ready&_oc_DocumentView=file_name&_od_DocumentView=desc"
    shown = list_rows(http, f"/documentview/list/?{args}", 10)
    assert column(shown, 1) == ["contrat-4.pdf", "contrat-2.pdf", "contrat-0.pdf"]
    rows = csv_rows(http.get(f"/documentview/export/csv?{args}"))
    assert len(rows[0]) == 9  # the list's columns but the download button
    assert rows[0][6] in ("Size (bytes)", "Taille (octets)")
    assert [row[1:6] for row in rows[1:]] == [cells[1:6] for cells in shown]
    assert column(rows[1:], 6) == ["1004", "1002", "1000"]  # bytes, not "1 Ko"
    assert column(rows[1:], 5) == ["Prêt"] * 3
    sheet = xlsx_rows(http.get(f"/documentview/export/xlsx?{args}"))
    assert column(sheet[1:], 6) == [1004, 1002, 1000]


def test_audit_export_matches_the_list_with_every_field(app, http, login, make_user, portfolio):
    manager = make_user("MANAGER")
    ids = portfolio(user_organisation(app, manager), "1")
    with app.app_context():
        from app.models import Client

        db.session.get(Client, ids["client"]).city = "Lyon"
        db.session.commit()
    login(manager)
    args = "_flt_0_object_type=Client&_oc_AuditLogView=action&_od_AuditLogView=desc"
    shown = list_rows(http, f"/audit/list/?{args}", 6)
    # The screen in words, the object's name linked (sorted by the action's code).
    assert [cells[2:5] for cells in shown] == [
        ["Modification", "Client", "Jeanne Martin1"],
        ["Création", "Client", "Jeanne Martin1"],
    ]
    rows = csv_rows(http.get(f"/audit/export/csv?{args}"))
    header = rows[0]
    assert header[:9] == [
        "Date",
        "Date (UTC)",
        "Utilisateur",
        "Cabinet",
        "Action",
        "Code de l'action",
        "Type d'objet",
        "Code du type d'objet",
        "Identifiant de l'objet",
    ]
    # The labels the list shows, with the codes beside them.
    assert [[row[4], row[6]] for row in rows[1:]] == [cells[2:4] for cells in shown]
    assert [[row[5], row[7], row[8]] for row in rows[1:]] == [
        ["update", "Client", str(ids["client"])],
        ["create", "Client", str(ids["client"])],
    ]
    changes = rows[1][header.index("Modifications")]
    assert '"city": [null, "Lyon"]' in changes
    with app.app_context():
        created = db.session.query(AuditLog).filter_by(action="create", object_type="Client").one()
        utc = created.created_at.replace(microsecond=0)
    assert rows[2][1] == utc.strftime("%Y-%m-%d %H:%M:%S")
    local = utc.replace(tzinfo=dt.UTC).astimezone(ZoneInfo("Europe/Paris")).replace(tzinfo=None)
    assert rows[2][0] == local.strftime("%Y-%m-%d %H:%M:%S")  # the screens' time zone
    sheet = xlsx_sheet(http.get(f"/audit/export/xlsx?{args}"))
    assert [cell.value for cell in sheet[1]][:4] == header[:4]
    assert sheet["A2"].number_format == "dd/mm/yyyy hh:mm"  # a date cell, shown day-first


def test_list_screens_carry_their_arguments_to_the_export_buttons(app, http, login, make_user):
    user = make_user("MANAGER")
    login(user)
    for path in ("/policyview", "/clientview", "/companyview", "/documentview", "/audit"):
        page = http.get(f"{path}/list/?_flt_0_x=1&_oc_V=a").get_data(as_text=True)
        for fmt in ("csv", "xlsx"):
            assert f'href="{path}/export/{fmt}?_flt_0_x=1&amp;_oc_V=a"' in page, (path, fmt)
