"""POST /api/v1/client/<id>/data-export: one ZIP of everything about the client.

The job delivers a ZIP whose JSON holds the client's rows (its mandate with the full IBAN:
it is its own data; its proposal's needs statement and advice, the quote, the FIC), its
e-mail, its audit entries, the attachment's exact bytes and the generated FIC; another
agency's client is 404, USER is 403; erasing the client deletes earlier exports.
"""

from __future__ import annotations

import io
import json
import zipfile

from app.extensions import db
from app.models import ComplianceDocument, Document
from tests.privacy_support import (
    EMAIL,
    FILE_TEXT,
    FULL,
    IBAN,
    NEEDS,
    QUOTE_PREMIUM,
    QUOTE_VALID_UNTIL,
    REASONS,
    RECOMMENDATION,
    former_client,
)


def export(http, headers, client_id):
    started = http.post(f"/api/v1/client/{client_id}/data-export", headers=headers)
    assert started.status_code == 202, started.json
    job = http.get(started.headers["Location"], headers=headers).json
    assert job["status"] == "succeeded", job
    download = http.get(f"/api/v1/document/{job['document_id']}/download", headers=headers)
    assert download.status_code == 200
    return job["document_id"], zipfile.ZipFile(io.BytesIO(download.data))


def test_the_export_holds_every_row_file_and_audit_entry_of_the_client(
    http, app, make_organisation, make_user, auth_headers, portfolio
):
    org = make_organisation()
    staff = auth_headers(make_user("USER", org))
    manager = auth_headers(make_user("MANAGER", org))
    portfolio(org, "9")  # another client of the same agency: not in the export
    former = former_client(app, http, staff, org)

    document_id, archive = export(http, manager, former.client_id)

    names = set(archive.namelist())
    assert {"client.json", "policy.json", "mandate.json", "payment.json", "claim.json"} <= names
    assert {"complaint.json", "task.json", "message.json", "premium_notice.json"} <= names
    assert {"audit_log.json", "README.txt"} <= names
    client = json.loads(archive.read("client.json"))
    assert [row["email"] for row in client] == [EMAIL]
    assert [row["iban"] for row in json.loads(archive.read("mandate.json"))] == [IBAN]
    assert [row["number"] for row in json.loads(archive.read("policy.json"))] == ["POL-RGPD"]
    assert [row["amount"] for row in json.loads(archive.read("payment.json"))] == ["300.00"]
    messages = json.loads(archive.read("message.json"))
    assert FULL in messages[0]["body_text"]
    audit = json.loads(archive.read("audit_log.json"))
    assert {"Client", "Policy", "Mandate", "Attachment"} <= {row["object_type"] for row in audit}
    assert all("Martin9" not in json.dumps(row, ensure_ascii=False) for row in audit)
    attachment = [name for name in names if name.startswith("attachments/")]
    assert attachment == [f"attachments/{former.attachment_id}-piece-identite.txt"]
    assert archive.read(attachment[0]) == FILE_TEXT
    # The advice duty's record: the needs statement, the advice, the quote, the FIC and its file.
    [proposal] = json.loads(archive.read("proposal.json"))
    assert proposal["id"] == former.proposal_id
    assert {item["answer"] for item in proposal["answers"]} == {NEEDS}
    assert (proposal["recommendation"], proposal["reasons"]) == (RECOMMENDATION, REASONS)
    [quote] = json.loads(archive.read("quote.json"))
    assert (quote["id"], quote["premium"], quote["valid_until"], quote["status"]) == (
        former.quote_id,
        QUOTE_PREMIUM,
        QUOTE_VALID_UNTIL,
        "refused",
    )
    [fic] = json.loads(archive.read("compliance_document.json"))
    assert (fic["id"], fic["kind"], fic["status"]) == (former.fic_id, "fic", "sent")
    [fic_file] = [name for name in names if name.startswith(f"documents/{fic['document_id']}-")]
    assert archive.read(fic_file).startswith(b"%PDF")
    assert {"Proposal", "Quote", "ComplianceDocument"} <= {row["object_type"] for row in audit}
    assert any(
        RECOMMENDATION in json.dumps(row["changes"], ensure_ascii=False)
        for row in audit
        if row["object_type"] == "Proposal"
    )

    # Erasing the client removes the export too: it holds everything.
    assert http.post(f"/api/v1/client/{former.client_id}/erase", headers=manager).status_code == 200
    with app.app_context():
        assert db.session.get(Document, document_id) is None


def test_the_client_page_action_leads_to_the_job_and_its_zip_document(
    http, app, make_organisation, make_user, auth_headers, login
):
    from tests.test_screens_support import csrf_token, page_text

    org = make_organisation()
    manager = make_user("MANAGER", org)
    former = former_client(app, http, auth_headers(make_user("USER", org)), org)
    login(manager)
    show = f"/clientview/show/{former.client_id}"
    started = http.post(
        f"/clientview/action/export_personal_data/{former.client_id}",
        data={"csrf_token": csrf_token(http, show)},
    )
    assert started.status_code == 302
    job_page = http.get(started.headers["Location"])
    assert job_page.status_code == 200
    with app.app_context():
        # The agency's one document besides the FIC the world generated.
        document = (
            db.session.query(Document)
            .filter(Document.id.not_in(db.session.query(ComplianceDocument.document_id)))
            .one()
        )
        assert document.file_name.startswith(f"donnees-client-{former.client_id}-")
    page = page_text(http.get(f"/documentview/show/{document.id}"))
    assert "ZIP" in page and f"donnees-client-{former.client_id}-" in page


def test_an_export_is_the_managers_and_their_agencys_only(
    http, app, make_organisation, make_user, auth_headers
):
    org, other = make_organisation(), make_organisation()
    staff = auth_headers(make_user("USER", org))
    former = former_client(app, http, staff, org)
    path = f"/api/v1/client/{former.client_id}/data-export"
    assert http.post(path, headers=staff).status_code == 403
    assert http.post(path, headers=auth_headers(make_user("MANAGER", other))).status_code == 404
