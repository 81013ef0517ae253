"""The audit log and the history screens in words: local time, action labels, the
object's name linked to its page, who did it (a task as "Tâche automatique"), blanks
for what is unknown; the export keeps the raw codes beside the labels."""

from __future__ import annotations

import ast
import html
import json
import re
from pathlib import Path

import pytest

from app.extensions import db
from app.models import AuditLog, Client, JobKind
from app.services import audit
from app.services.vocabulary import ACTION_LABELS, OBJECT_LABELS, SYSTEM_ACTORS
from tests.conftest import user_organisation
from tests.dates_support import build_world, stamp_everything
from tests.export_support import csv_rows, xlsx_sheet
from tests.screens_walk_support import read_page
from tests.test_screens_support import csrf_token, page_text

APP = Path(__file__).resolve().parent.parent / "app"


@pytest.fixture
def manager_world(app, make_user, portfolio, login):
    manager = make_user("MANAGER")
    world = build_world(app, user_organisation(app, manager), portfolio)
    login(manager)
    return world


def _rows(page: str) -> list[str]:
    """The text of each row of the page's tables, tags removed."""
    rows = re.findall(r"<tr.*?</tr>", page, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def test_the_audit_log_speaks_french_in_local_time_with_links(app, http, manager_world):
    raw = http.get("/audit/list/?psize_AuditLogView=100").get_data(as_text=True)
    page = html.unescape(raw)
    generated = next(row for row in _rows(page) if "Document généré" in row)
    # 12:00 UTC in December is 13:00 in Paris; the worker is a task; no IP is blank.
    assert "10/12/2025 13:00" in generated
    assert "Tâche automatique" in generated
    assert "Document contrat-POL-7.pdf" in generated
    assert f'<a href="/documentview/show/{manager_world.document_id}">contrat-POL-7.pdf</a>' in raw
    created = next(row for row in _rows(page) if "Création" in row and "Jeanne Martin7" in row)
    assert "Client" in created
    assert f'<a href="/clientview/show/{manager_world.client_id}">Jeanne Martin7</a>' in raw
    visible = " ".join(read_page(raw)[0])
    for raw_code in ("document.ready", "create", "update", "Document ", "None", "12:00"):
        assert f" {raw_code} " not in f" {visible} ", raw_code


def test_the_audit_log_in_english(app, http, manager_world):
    http.get("/lang/en", follow_redirects=True)
    page = page_text(http.get("/audit/list/?psize_AuditLogView=100"))
    generated = next(row for row in _rows(page) if "Document generated" in row)
    assert "10 Dec 2025 13:00" in generated and "Automatic task" in generated


def test_an_entry_shows_its_changes_with_field_labels(app, http, manager_world):
    with app.app_context():
        db.session.get(Client, manager_world.client_id).city = "Lyon"
        db.session.commit()
        entry = db.session.query(AuditLog).order_by(AuditLog.id.desc()).first()
    page = page_text(http.get(f"/audit/show/{entry.id}"))
    assert "Modification" in page and "Ville" in page and "∅ → Lyon" in page
    assert "{" not in page.split("Ville", 1)[1][:80]  # not the JSON


def test_a_template_made_on_its_screen_is_logged_in_words(app, http, manager_world):
    """Its details ("shared", False) read as a label and a word, in both languages."""
    token = csrf_token(http, "/templateview/add")
    form = {"name": "Attestation agence", "kind": "attestation", "output_format": "pdf"}
    http.post("/templateview/add", data={**form, "locale": "fr", "csrf_token": token})
    with app.app_context():
        entry = db.session.query(AuditLog).filter_by(object_type="Template").one()
    page = page_text(http.get(f"/audit/show/{entry.id}"))
    assert "Partagé</strong> : Non" in page
    assert "shared" not in page and "False" not in page
    http.get("/lang/en", follow_redirects=True)
    assert "Shared</strong> : No" in page_text(http.get(f"/audit/show/{entry.id}"))


def test_a_deleted_object_is_named_from_its_last_record_without_a_link(app, http, manager_world):
    with app.app_context():
        client = Client(organisation_id=manager_world.organisation_id, last_name="Parti")
        db.session.add(client)
        db.session.commit()
        gone = client.id
        db.session.delete(client)
        db.session.commit()
    raw = http.get("/audit/list/?psize_AuditLogView=100").get_data(as_text=True)
    deleted = next(row for row in _rows(html.unescape(raw)) if "Suppression" in row)
    assert "Parti" in deleted
    assert f"/clientview/show/{gone}" not in raw


def test_another_agencys_object_is_never_named(
    app, http, manager_world, make_organisation, portfolio
):
    foreign = portfolio(make_organisation(), "9")
    with app.app_context():
        # An entry of ours pointing at their client (it cannot happen, but must not leak).
        audit.record(
            db.session,
            "update",
            "Client",
            foreign["client"],
            organisation_id=manager_world.organisation_id,
        )
        db.session.commit()
    page = page_text(http.get("/audit/list/?psize_AuditLogView=100"))
    assert "Martin9" not in page
    assert f"Client #{foreign['client']}" in page


def test_a_failed_login_typed_as_a_task_name_stays_what_was_typed(app, http, manager_world):
    with app.app_context():
        actor = audit.Actor(None, "worker", manager_world.organisation_id)
        audit.record(db.session, "login_failed", "User", None, actor=actor)
        db.session.commit()
    page = page_text(http.get("/audit/list/?psize_AuditLogView=100"))
    failed = next(row for row in _rows(page) if "Échec de connexion" in row)
    assert "worker" in failed and "Tâche automatique" not in failed


def test_the_history_of_a_client_is_in_words(app, http, manager_world):
    with app.app_context():
        db.session.get(Client, manager_world.client_id).city = "Nantes"
        db.session.commit()
    stamp_everything(app)
    page = page_text(http.get(f"/history/client/{manager_world.client_id}"))
    assert "10/12/2025 13:00" in page
    assert "Modification" in page and "Création" in page
    assert "Ville" in page and "∅ → Nantes" in page
    assert "update" not in page and "2025-12-10" not in page


def test_the_audit_export_keeps_codes_beside_labels_and_utc_beside_local(app, http, manager_world):
    args = "_flt_0_action=document.ready"
    rows = csv_rows(http.get(f"/audit/export/csv?{args}"))
    header = rows[0]
    assert header[:2] == ["Date", "Date (UTC)"]
    row = dict(zip(header, rows[1], strict=True))
    assert row["Date"] == "2025-12-10 13:00:00"  # local time, ISO text in CSV
    assert row["Date (UTC)"] == "2025-12-10 12:00:00"
    assert row["Action"] == "Document généré" and row["Code de l'action"] == "document.ready"
    assert row["Type d'objet"] == "Document" and row["Code du type d'objet"] == "Document"
    assert row["Identifiant de l'objet"] == str(manager_world.document_id)
    assert row["Utilisateur"] == "worker"  # the evidence keeps the name written
    sheet = xlsx_sheet(http.get(f"/audit/export/xlsx?{args}"))
    assert sheet["A2"].number_format == "dd/mm/yyyy hh:mm"
    assert sheet["A2"].value.hour == 13 and sheet["B2"].value.hour == 12


def test_the_english_xlsx_spells_the_month(app, http, manager_world):
    http.get("/lang/en", follow_redirects=True)
    sheet = xlsx_sheet(http.get("/audit/export/xlsx?_flt_0_action=document.ready"))
    assert sheet["A2"].number_format == "d mmm yyyy hh:mm"


def test_the_action_search_offers_labels_and_filters_by_code(app, http, manager_world):
    page = http.get("/audit/list/").get_data(as_text=True)
    # FAB's search form: the fields' HTML in the second argument of AdminFilters.
    fields = json.loads(re.search(r"'#filter_form',\s*\{.*?\},\s*(\{.*?\})\s*,", page, re.S)[1])
    assert '<option value="document.ready">Document généré</option>' in fields["action"]
    filtered = page_text(http.get("/audit/list/?_flt_0_action=document.ready"))
    rows = _rows(filtered)[1:]  # the header first
    assert rows and all("Document généré" in row for row in rows), rows


# --- the vocabulary covers every code the application writes ------------------------------

RECORDING_CALLS = {"record", "_audit", "_audit_auth", "fail_exhausted", "_settle", "_row"}


def _recording_arguments() -> list[ast.expr]:
    """The positional arguments of every call to an audit-writing function in app/."""
    arguments: list[ast.expr] = []
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                if name in RECORDING_CALLS:
                    arguments.extend(node.args)
    return arguments


def _written_codes() -> set[str]:
    """Action codes passed to the audit functions anywhere in app/, f-strings expanded."""
    codes: set[str] = set()
    for arg in _recording_arguments():
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            if re.fullmatch(r"[a-z_]+(\.[a-z_]+)?", arg.value):
                codes.add(arg.value)
        elif isinstance(arg, ast.JoinedStr):  # f"{kind.value}.failed": the tabular job kinds
            suffix = "".join(part.value for part in arg.values if isinstance(part, ast.Constant))
            codes.update(f"{kind.value}{suffix}" for kind in (JobKind.report, JobKind.export))
    return codes


def test_every_action_code_written_has_a_label():
    written = _written_codes()
    assert {"document.ready", "login_failed", "link.download", "export.delivered"} <= written
    assert written - set(ACTION_LABELS) == set()


def test_every_object_type_written_has_a_label(app):
    from app.services.audit import audited_models
    from app.views.exports import ExportMixin

    types = {{"AppUser": "User"}.get(model.__name__, model.__name__) for model in audited_models()}
    types.update(
        arg.value
        for arg in _recording_arguments()
        if isinstance(arg, ast.Constant)
        and isinstance(arg.value, str)
        and re.fullmatch(r"[A-Z][A-Za-z]+", arg.value)
    )
    # Exports and imports name the model of their list (model.__name__).
    views = [v for v in app.appbuilder.baseviews if isinstance(v, ExportMixin)]
    types.update(view.datamodel.obj.__name__ for view in views)
    assert {"Document", "ApiKey", "SigningKey", "AuditLog"} <= types
    assert types - set(OBJECT_LABELS) == set()


def test_system_actor_names_are_the_ones_tasks_write():
    from app.cli_keys import CLI_ACTOR_NAME
    from app.services.documents.outcomes import WORKER
    from app.services.leasing import SWEEPER
    from app.services.reports.runs import WORKER as REPORT_WORKER
    from app.tasks.purge import PERIODIC_ACTOR_NAME

    assert {WORKER, REPORT_WORKER, SWEEPER, PERIODIC_ACTOR_NAME, CLI_ACTOR_NAME} == set(
        SYSTEM_ACTORS
    )
