"""Importing through the screens: preview, per-row errors, dry run, upsert, audit, doors."""

from __future__ import annotations

import csv
import hashlib
import io
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import AuditLog, Client, Policy
from tests.conftest import csrf_token
from tests.import_support import (
    CLIENT_HEADERS,
    POLICY_HEADERS,
    clean_staging,  # noqa: F401 (fixture)
    count,
    csv_bytes,
    error_rows,
    flashes,
    import_audits,
    in_english,
    policies_of,
    policy_row,
    preview_path,
    run,
    seed_agency,
    staged_files,
    upload,
    xlsx_bytes,
)

pytestmark = pytest.mark.usefixtures("clean_staging")


@pytest.fixture
def agency(app, http, make_organisation, make_user, login):
    organisation = make_organisation()
    seed_agency(app, organisation)
    username = make_user("USER", organisation)
    login(username)
    in_english(http)
    return {"id": organisation, "user": username}


def five_hundred_rows() -> list[list[str]]:
    return [policy_row(i) for i in range(1, 501)]


def test_500_policies_with_3_bad_rows_show_exactly_those_errors_and_write_nothing(
    app, http, agency
):
    rows = five_hundred_rows()
    rows[9][5] = "31/02/2026"  # spreadsheet row 11: no such date
    rows[199][2] = "Inconnue"  # row 201: no such insurer
    rows[449][7] = "-12,00"  # row 451: the model refuses a negative premium
    preview = preview_path(upload(http, "policies", csv_bytes(POLICY_HEADERS, rows), "p.csv"))
    page = http.get(preview).get_data(as_text=True)

    assert error_rows(page) == [
        ("11", "Date d&#39;effet", "Not a date: use DD/MM/YYYY or YYYY-MM-DD."),
        ("201", "Assureur", "No insurer of your agency has this code or name."),
        ("451", "Prime", "The premium cannot be negative."),
    ]
    assert "3 errors in 500 rows: nothing will be imported." in page
    assert "import-apply" not in page and "import-dry-run" not in page

    # Forcing the import anyway: refused, nothing written.
    refused = run(http, preview, "apply")
    assert refused.status_code == 302 and refused.headers["Location"].endswith(preview)
    assert count(app, Policy) == 0
    assert import_audits(app) == []

    report = http.get(f"{preview}/errors.csv")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    assert "attachment" in report.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(report.get_data().decode("utf-8-sig")), delimiter=";"))
    assert [line[:2] for line in lines[1:]] == [
        ["11", "Date d'effet"],
        ["201", "Assureur"],
        ["451", "Prime"],
    ]


def test_fixed_file_imports_then_reimport_updates_without_duplicates(app, http, agency):
    rows = five_hundred_rows()
    data = csv_bytes(POLICY_HEADERS, rows)
    preview = preview_path(upload(http, "policies", data, "portefeuille.csv"))
    page = http.get(preview).get_data(as_text=True)
    assert error_rows(page) == []
    assert "import-apply" in page

    done = run(http, preview, "apply")
    assert done.status_code == 302 and done.headers["Location"].endswith("/policyview/list/")
    listing = http.get("/policyview/list/").get_data(as_text=True)
    assert "Import done: 500 row(s) created, 0 updated and 0 unchanged." in listing
    policies = policies_of(app, agency["id"])
    assert len(policies) == 500
    assert policies["POL-0003"].premium == Decimal("103.50")
    assert policies["POL-0003"].line_of_business.value == "home"  # "Habitation"
    assert str(policies["POL-0001"].effective_date) == "2026-01-01"
    assert staged_files(app) == []  # the staged upload goes once imported

    (audit,) = import_audits(app)
    with app.app_context():
        row_entries = db.session.query(AuditLog).filter_by(action="create", object_type="Policy")
        assert {entry.username for entry in row_entries} == {agency["user"]}
        assert row_entries.count() == 500
    assert audit.object_type == "Policy"
    assert audit.organisation_id == agency["id"] and audit.username == agency["user"]
    assert audit.changes == {
        "file_name": "portefeuille.csv",
        "sha256": hashlib.sha256(data).hexdigest(),
        "rows": 500,
        "created": 500,
        "updated": 0,
        "unchanged": 0,
    }

    rows[0][7] = "999,99"
    rows[1][4] = "suspended"
    again = preview_path(upload(http, "policies", csv_bytes(POLICY_HEADERS, rows), "v2.csv"))
    assert run(http, again, "apply").status_code == 302
    policies = policies_of(app, agency["id"])
    assert len(policies) == 500
    assert policies["POL-0001"].premium == Decimal("999.99")
    assert policies["POL-0002"].status.value == "suspended"
    assert import_audits(app)[-1].changes["created"] == 0
    assert import_audits(app)[-1].changes["updated"] == 2
    assert import_audits(app)[-1].changes["unchanged"] == 498


def test_dry_run_reports_counts_and_writes_nothing(app, http, agency):
    data = xlsx_bytes(POLICY_HEADERS, [policy_row(i) for i in range(1, 21)])
    preview = preview_path(upload(http, "policies", data, "p.xlsx"))
    audit_entries = count(app, AuditLog)
    response = run(http, preview, "dry")
    assert response.status_code == 302 and response.headers["Location"].endswith(preview)
    page = http.get(preview).get_data(as_text=True)
    assert "Dry run: 20 row(s) would be created, 0 updated and 0 left unchanged." in page
    assert "Nothing was written." in page and "import-apply" in page
    assert count(app, Policy) == 0
    # Neither the import's entry nor the rows' own entries.
    assert count(app, AuditLog) == audit_entries
    assert len(staged_files(app)) == 1  # still there for the real import
    assert run(http, preview, "apply").status_code == 302
    assert count(app, Policy) == 20


def test_clients_upsert_by_email_within_the_agency(app, http, agency, make_organisation):
    other = make_organisation()
    with app.app_context():
        db.session.add(Client(organisation_id=other, last_name="Autre", email="new@example.com"))
        db.session.commit()
    rows = [
        ["CLIENT1@example.com", "Dupont", "Luc", "Lyon", "14/07/1980"],
        ["new@example.com", "Nouveau", "", "Paris", "1990-02-03"],
    ]
    preview = preview_path(upload(http, "clients", csv_bytes(CLIENT_HEADERS, rows), "c.csv"))
    assert run(http, preview, "apply").headers["Location"].endswith("/clientview/list/")
    with app.app_context():
        mine = {
            c.email: c for c in db.session.query(Client).filter_by(organisation_id=agency["id"])
        }
        assert len(mine) == 11  # ten seeded, one new: client1 was updated, not duplicated
        assert (mine["client1@example.com"].last_name, mine["client1@example.com"].city) == (
            "Dupont",
            "Lyon",
        )
        assert str(mine["new@example.com"].birth_date) == "1990-02-03"
        theirs = db.session.query(Client).filter_by(organisation_id=other).one()
        assert (theirs.last_name, theirs.city) == ("Autre", None)
    assert import_audits(app)[0].changes["created"] == 1
    assert import_audits(app)[0].changes["updated"] == 1


def test_a_policy_cannot_name_another_agencys_client_or_insurer(
    app, http, agency, make_organisation
):
    other = make_organisation()
    with app.app_context():
        from app.models import Company

        db.session.add(Client(organisation_id=other, last_name="Autre", email="theirs@example.com"))
        db.session.add(Company(organisation_id=other, name="Leur assureur", code="ZZZ"))
        db.session.commit()
    rows = [policy_row(1, email="theirs@example.com"), policy_row(2, insurer="ZZZ")]
    preview = preview_path(upload(http, "policies", csv_bytes(POLICY_HEADERS, rows), "p.csv"))
    errors = error_rows(http.get(preview).get_data(as_text=True))
    assert [(row, column) for row, column, _message in errors] == [
        ("2", "E-mail du client"),
        ("3", "Assureur"),
    ]
    assert count(app, Policy) == 0


def test_an_upload_belongs_to_its_user_and_agency(app, http, agency, make_user, login):
    data = csv_bytes(POLICY_HEADERS, [policy_row(1)])
    preview = preview_path(upload(http, "policies", data, "p.csv"))
    token = csrf_token(http, preview)
    # Another agency's user, and a colleague of the same agency: neither sees nor runs it.
    for username in (make_user("ADMIN"), make_user("USER", agency["id"])):
        http.get("/logout/")
        login(username)
        in_english(http)
        page = http.get(preview, follow_redirects=True).get_data(as_text=True)
        assert "This upload has expired or is not yours" in page
        assert "import-apply" not in page
        response = http.post(
            f"{preview}/run",
            data={"csrf_token": csrf_token(http, "/import/policies/"), "mode": "apply"},
        )
        assert response.status_code == 302
        assert http.get(f"{preview}/errors.csv").status_code == 302
    assert token and count(app, Policy) == 0
    # The same token under the other kind's screen is no upload either.
    http.get("/logout/")
    login(agency["user"])
    assert http.get(preview.replace("/policies/", "/clients/")).status_code == 302


def test_an_expired_upload_is_refused_and_removed(app, http, agency, monkeypatch):
    preview = preview_path(
        upload(http, "policies", csv_bytes(POLICY_HEADERS, [policy_row(1)]), "p.csv")
    )
    monkeypatch.setitem(app.config, "IMPORT_STAGING_SECONDS", 0)
    response = run(http, preview, "apply")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/import/policies/"
    )
    assert "This upload has expired or is not yours" in flashes(http)
    assert count(app, Policy) == 0
    assert staged_files(app) == []


def test_upload_needs_the_csrf_token(app, http, agency):
    response = upload(
        http, "policies", csv_bytes(POLICY_HEADERS, [policy_row(1)]), "p.csv", token=False
    )
    assert response.status_code == 400
    assert staged_files(app) == []
    preview = preview_path(
        upload(http, "policies", csv_bytes(POLICY_HEADERS, [policy_row(1)]), "p.csv")
    )
    forged = http.post(f"{preview}/run", data={"mode": "apply"})
    assert forged.status_code == 400
    assert count(app, Policy) == 0


READ_ONLY_ROLE = "IMPORT_TEST_READ_ONLY"


@pytest.fixture
def read_only_user(app, make_user, agency):
    """A role that reads clients and policies (and sees the menus) but may not write them."""
    sm = app.appbuilder.sm
    username = make_user("USER", agency["id"])
    with app.app_context():
        role = sm.add_role(READ_ONLY_ROLE)
        for permission, resource in [
            ("can_read", "Client"),
            ("can_read", "Policy"),
            ("menu_access", "Import clients"),
            ("menu_access", "Import policies"),
            ("can_this_form_get", "ResetMyPasswordView"),  # a page with a CSRF token
        ]:
            sm.add_permission_role(role, sm.find_permission_view_menu(permission, resource))
        user = sm.find_user(username=username)
        user.roles = [role]
        db.session.commit()
        role_id = role.id
    yield username
    with app.app_context():
        role = db.session.get(sm.role_model, role_id)
        role.permissions, role.user = [], []
        db.session.delete(role)
        db.session.commit()


def test_without_write_on_the_resource_importing_is_refused(app, http, login, read_only_user):
    http.get("/logout/")
    login(read_only_user)
    assert http.get("/clientview/list/").status_code == 200  # reads: the role works
    for kind in ("clients", "policies"):
        assert http.get(f"/import/{kind}/").status_code in (302, 403)
        assert http.get(f"/import/{kind}/template.csv").status_code in (302, 403)
        token = csrf_token(http, "/resetmypassword/form")
        response = http.post(
            f"/import/{kind}/upload",
            data={
                "csrf_token": token,
                "file": (io.BytesIO(b"E-mail;Nom\r\na@b.fr;A\r\n"), "c.csv"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code in (302, 403)
        assert "/import/" not in response.headers.get("Location", "")
    assert staged_files(app) == []
    assert count(app, Client, None) == 10


def test_every_role_with_write_sees_the_import_menus(
    app, http, make_user, login, make_organisation
):
    organisation = make_organisation()
    for role in ("USER", "MANAGER", "ADMIN"):
        if role != "USER":
            http.get("/logout/")  # (logging out while logged out answers 500: app/security.py)
        login(make_user(role, organisation))
        home = http.get("/").get_data(as_text=True)
        assert "/import/clients/" in home and "/import/policies/" in home


def test_anonymous_is_sent_to_the_login_page(app, http):
    for path in ("/import/clients/", "/import/policies/template.xlsx"):
        response = http.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_superadmin_without_an_agency_is_refused(app, http, make_user, login):
    username = make_user("SUPERADMIN")
    with app.app_context():
        user = app.appbuilder.sm.find_user(username=username)
        user.organisation_id = None
        db.session.commit()
    login(username)
    in_english(http)
    data = csv_bytes(CLIENT_HEADERS, [["a@b.fr", "A", "", "", ""]])
    response = upload(http, "clients", data, "c.csv")
    assert response.status_code == 302 and response.headers["Location"].endswith("/import/clients/")
    assert "Your account belongs to no agency" in flashes(http)
    assert staged_files(app) == []
    assert count(app, Client) == 0


def test_templates_carry_the_expected_headers(app, http, agency):
    from openpyxl import load_workbook

    csv_file = http.get("/import/policies/template.csv")
    assert csv_file.status_code == 200
    assert csv_file.get_data().decode("utf-8-sig").strip().split(";") == [
        "Numéro de police",
        "E-mail du client",
        "Assureur",
        "Branche",
        "Statut",
        "Date d'effet",
        "Date d'échéance",
        "Prime annuelle TTC",
        "Devise",
        "Fractionnement",
    ]
    workbook = load_workbook(io.BytesIO(http.get("/import/clients/template.xlsx").get_data()))
    headers = [cell.value for cell in workbook.worksheets[0][1]]
    assert headers[:3] == ["E-mail", "Type", "Nom"]
    assert http.get("/import/clients/template.pdf").status_code == 404
    # A template filled in (here: as it comes, plus one row) imports as is.
    sheet = workbook.worksheets[0]
    sheet.append(["t@example.com", "entreprise", "Durand", None, "Durand SA", "123456789"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    preview = preview_path(upload(http, "clients", buffer.getvalue(), "modele.xlsx"))
    assert run(http, preview, "apply").status_code == 302
    with app.app_context():
        client = db.session.query(Client).filter_by(email="t@example.com").one()
        assert (client.kind.value, client.siren) == ("business", "123456789")
