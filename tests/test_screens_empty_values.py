"""An empty optional field reads as nothing, never "None": on every screen, in both
languages, and in the list exports (an empty cell)."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Client, OutputFormat
from app.services.rendering import load_policy_for_render, policy_context, render
from app.services.rendering.arrears import sample_arrears
from app.services.rendering.cancellations import sample_cancellation
from app.services.templates import BUILTINS
from app.services.templates.builtin import builtin_body
from tests.conftest import user_organisation
from tests.export_support import csv_rows, list_rows, xlsx_rows
from tests.screens_walk_support import all_strings, sparse_rows, visible_strings, walk

NONE = re.compile(r"\bNone\b")


def _lang(http, locale: str) -> None:
    http.get(f"/lang/{locale}", follow_redirects=True)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_no_screen_shows_none_for_an_empty_field(app, http, make_user, login, locale):
    superadmin = make_user("SUPERADMIN")
    sparse_rows(app, user_organisation(app, superadmin))
    login(superadmin)
    _lang(http, locale)
    pages = walk(http)
    for screen in ("/clientview/show/<n>", "/documentview/list", "/audit/list", "/users/add"):
        assert screen in pages, f"the walk missed {screen}"
    shown = [(path, text) for path, text in all_strings(pages) if NONE.search(text)]
    assert shown == []


def test_the_cells_of_empty_fields_are_blank(app, http, make_user, login):
    """The three cells a new user met: company name, queued file name, audit user and IP."""
    superadmin = make_user("SUPERADMIN")
    sparse_rows(app, user_organisation(app, superadmin))
    login(superadmin)
    clients = list_rows(http, "/clientview/list/", 7)
    # last name, first name, company name, kind, e-mail, phone, city
    assert ["Sansdétail", "Léa", "", "Particulier", "", "", ""] in clients
    documents = list_rows(http, "/documentview/list/", 10)
    queued = [row for row in documents if row[5] == "En file d'attente"]
    assert queued and queued[0][1] == "", documents  # file name: none yet
    with app.app_context():
        anonymous = db.session.scalars(
            select(AuditLog).where(AuditLog.username.is_(None), AuditLog.ip.is_(None))
        ).first()
    assert anonymous is not None, "the rows written outside a request left no audit entry"
    audit = list_rows(http, "/audit/list/", 6)
    assert any(row[1] == "" and row[5] == "" for row in audit), audit


def test_relation_selects_name_their_empty_choice(app, http, make_user, login):
    """FAB leaves it unlabelled and WTForms then prints its value, "__None"."""
    login(make_user("SUPERADMIN"))
    form = http.get("/users/add").get_data(as_text=True)
    assert '<option value="__None">—</option>' in form
    assert ">__None<" not in form
    assert all("__None" not in text for text in visible_strings(http.get("/documentview/list/")))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_leave_empty_fields_as_empty_cells(app, http, make_user, login, fmt):
    superadmin = make_user("SUPERADMIN")
    sparse = sparse_rows(app, user_organisation(app, superadmin))
    login(superadmin)
    read = csv_rows if fmt == "csv" else xlsx_rows
    clients = read(http.get(f"/clientview/export/{fmt}"))
    header, rows = clients[0], clients[1:]
    with app.app_context():
        person = db.session.get(Client, sparse.person_id)
        assert person.company_name is None and person.phone is None
    lea = next(row for row in rows if "Sansdétail" in row)
    assert lea[header.index("Raison sociale")] == ""
    assert lea[header.index("Téléphone")] == ""
    documents = read(http.get(f"/documentview/export/{fmt}"))
    queued = [row for row in documents[1:] if "En file d'attente" in row]
    assert queued and queued[0][documents[0].index("Nom du fichier")] == ""
    audit = read(http.get(f"/audit/export/{fmt}"))
    assert any(row[audit[0].index("Utilisateur")] == "" for row in audit[1:])
    for table in (clients, documents, audit):
        assert not [cell for row in table for cell in row if NONE.search(str(cell))]


@pytest.mark.parametrize("builtin", BUILTINS, ids=lambda builtin: builtin.key)
def test_documents_print_nothing_for_empty_fields(app, make_organisation, builtin):
    """An agency without letterhead, an individual and an insurer with only their names."""
    sparse = sparse_rows(app, make_organisation())
    with app.app_context():
        policy = load_policy_for_render(db.session, sparse.policy_id, sparse.organisation_id)
        data = policy_context(policy, today=dt.date(2026, 2, 10))
        if builtin.key == "lettre_resiliation":  # it acknowledges a recorded cancellation
            data["cancellation"] = sample_cancellation(data["today"], data["locale"])
        if builtin.key == "mise_en_demeure":  # it names unpaid arrears
            data["arrears"] = sample_arrears(data["today"], Decimal("100.00"))
        fmt = OutputFormat.xlsx if builtin.output_format is OutputFormat.xlsx else OutputFormat.pdf
        rendered = render(builtin_body(builtin), fmt, data)
    if fmt is OutputFormat.xlsx:
        sheet = load_workbook(io.BytesIO(rendered.data)).worksheets[0]
        cells = (value for row in sheet.iter_rows(values_only=True) for value in row)
        text = " ".join(str(value) for value in cells if value is not None)  # None: no value
    else:
        pages = PdfReader(io.BytesIO(rendered.data)).pages
        text = " ".join(page.extract_text() for page in pages)
    assert "Sansdétail" in text
    assert not NONE.search(text)
