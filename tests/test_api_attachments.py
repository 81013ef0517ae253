"""Attachments through the API: a claim's files, a client's, the content-typed allow-list,
names, the PDF refusal, thumbnails, the exact bytes back, deletion and the agency scope."""

from __future__ import annotations

import datetime as dt
import io
import zlib

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, AuditLog, Policy
from app.services.attachments.checks import clean_name
from app.services.errors import InvalidRequestError
from tests.conftest import user_organisation
from tests.test_api_premiums import make_policy

CLAIMS = "/api/v1/claim/"
FILES = "/api/v1/attachment/"
CLEAN_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def png_bytes(size=(640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 30, 200)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def claim(app, http, make_user, auth_headers):
    user = make_user("USER")
    org = user_organisation(app, user)
    policy_id = make_policy(app, org, "POL-F")
    headers = auth_headers(user)
    occurred = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    response = http.post(
        CLAIMS,
        json={"policy_id": policy_id, "nature": "water_damage", "occurred_on": occurred},
        headers=headers,
    )
    assert response.status_code == 201, response.json
    return {"id": response.json["id"], "headers": headers, "org": org, "policy": policy_id}


def upload(http, claim, data: bytes, name: str):
    return http.post(
        f"{CLAIMS}{claim['id']}/attachments",
        data={"file": (io.BytesIO(data), name)},
        headers=claim["headers"],
        content_type="multipart/form-data",
    )


def stored_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Attachment.id)))


def test_the_constat_and_two_photos_download_back_exactly(app, http, claim):
    photo = jpeg_bytes()
    files = {"constat amiable.pdf": CLEAN_PDF, "photo-1.jpg": photo, "photo 2.png": png_bytes()}
    ids = {}
    for name, data in files.items():
        response = upload(http, claim, data, name)
        assert response.status_code == 201, response.json
        ids[name] = response.json["id"]
        assert response.json["result"]["file_name"] == name
    listed = http.get(f"{CLAIMS}{claim['id']}/attachments", headers=claim["headers"])
    assert [row["file_name"] for row in listed.json["result"]] == list(reversed(files))
    for name, data in files.items():
        response = http.get(f"{FILES}{ids[name]}/download", headers=claim["headers"])
        assert response.status_code == 200
        assert response.data == data
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert http.get(f"{FILES}{ids['photo-1.jpg']}/download", headers=claim["headers"]).headers[
        "Content-Type"
    ] == ("image/jpeg")
    thumb = http.get(f"{FILES}{ids['photo-1.jpg']}/thumbnail", headers=claim["headers"])
    assert thumb.status_code == 200
    with Image.open(io.BytesIO(thumb.data)) as image:
        assert image.format == "PNG" and max(image.size) <= 256
    no_thumb = http.get(f"{FILES}{ids['constat amiable.pdf']}/thumbnail", headers=claim["headers"])
    assert no_thumb.status_code == 404
    with app.app_context():
        downloads = db.session.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.action == "attachment.download")
        )
        created = db.session.scalar(
            select(func.count(AuditLog.id)).where(
                AuditLog.object_type == "Attachment", AuditLog.action == "create"
            )
        )
    assert (downloads, created) == (4, 3)  # photo-1.jpg was downloaded twice


COMPRESSED_JS = zlib.compress(b"<</S/JavaScript/JS(app.alert(1))>>")


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"MZ\x90\x00\x03" + b"\x00" * 200, "facture.pdf"),  # a renamed executable
        (b"MZ\x90\x00\x03" + b"\x00" * 200, "setup.exe"),
        (b"\x7fELF" + b"\x00" * 200, "notes.txt"),
        (b"", "vide.pdf"),  # 0 bytes
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 100, "archive.zip"),
        (jpeg_bytes(), "photo.png"),  # content and name disagree
        (CLEAN_PDF, "../../etc/passwd.pdf"),  # a path
        (CLEAN_PDF, "C:constat.pdf"),  # a drive (backslashes do not survive multipart)
        (CLEAN_PDF, "constat\x00.pdf"),  # a control character
        (CLEAN_PDF, "constat\r\n.pdf"),
        (
            CLEAN_PDF.replace(b"/Type/Catalog", b"/Type/Catalog/OpenAction<</S/JavaScript>>"),
            "a.pdf",
        ),
        (CLEAN_PDF.replace(b"/Type/Catalog", b"/Type/Catalog/J#61vaScript 3 0 R"), "b.pdf"),
        (CLEAN_PDF.replace(b"/Type/Catalog", b"/Names<</EmbeddedFiles 4 0 R>>"), "c.pdf"),
        (
            CLEAN_PDF.replace(
                b"trailer",
                b"5 0 obj<</Filter/FlateDecode>>stream\n"
                + COMPRESSED_JS
                + b"\nendstream endobj\ntrailer",
            ),
            "d.pdf",
        ),
        (b"%PNG\r\n\x1a\n" + b"\x00" * 50, "broken.png"),  # a PNG header, no image
    ],
)
def test_bad_files_are_refused_and_nothing_is_stored(app, http, claim, data, name):
    response = upload(http, claim, data, name)
    assert response.status_code in (400, 422), response.json
    assert stored_count(app) == 0


def test_an_oversized_file_is_refused_with_413(app, http, claim):
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    try:
        response = upload(http, claim, CLEAN_PDF + b"%" + b"x" * 2048 + b"\n", "big.pdf")
    finally:
        del app.config["ATTACHMENT_MAX_BYTES"]
    assert response.status_code == 413
    assert stored_count(app) == 0


def test_a_text_file_and_a_clients_file_are_kept(app, http, claim):
    with app.app_context():
        client_id = db.session.get(Policy, claim["policy"]).client_id
    response = http.post(
        FILES,
        data={
            "file": (io.BytesIO("Témoin : M. Durand\n".encode()), "témoin.txt"),
            "client_id": str(client_id),
        },
        headers=claim["headers"],
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    assert response.json["result"]["client_id"] == client_id
    assert response.json["result"]["media_type"].startswith("text/plain")
    # One owner exactly.
    both = http.post(
        FILES,
        data={
            "file": (io.BytesIO(CLEAN_PDF), "a.pdf"),
            "client_id": str(client_id),
            "claim_id": str(claim["id"]),
        },
        headers=claim["headers"],
        content_type="multipart/form-data",
    )
    assert both.status_code == 422


def test_another_agencys_files_answer_404_and_deletion_is_audited(
    app, http, claim, make_user, auth_headers
):
    created = upload(http, claim, png_bytes(), "photo.png")
    file_id = created.json["id"]
    other = make_user("USER")
    headers = auth_headers(other)
    assert http.get(f"{FILES}{file_id}/download", headers=headers).status_code == 404
    assert http.get(f"{FILES}{file_id}", headers=headers).status_code == 404
    assert http.delete(f"{FILES}{file_id}", headers=headers).status_code == 404
    assert http.get(f"{CLAIMS}{claim['id']}/attachments", headers=headers).status_code == 404
    foreign = http.post(
        f"{CLAIMS}{claim['id']}/attachments",
        data={"file": (io.BytesIO(CLEAN_PDF), "a.pdf")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert foreign.status_code == 404
    assert http.get(FILES, headers=headers).json["count"] == 0
    # The owner deletes it: gone, audited.
    assert http.delete(f"{FILES}{file_id}", headers=claim["headers"]).status_code == 200
    assert http.get(f"{FILES}{file_id}/download", headers=claim["headers"]).status_code == 404
    assert stored_count(app) == 0
    with app.app_context():
        entry = db.session.scalar(
            select(AuditLog).where(
                AuditLog.object_type == "Attachment", AuditLog.action == "delete"
            )
        )
        assert entry is not None and entry.organisation_id == claim["org"]


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("  constat   amiable.pdf ", "constat amiable.pdf"),
        ('facture<2026>|"v2".pdf', "facture_2026___v2_.pdf"),
        ("e\u0301te\u0301.jpg", "\u00e9t\u00e9.jpg"),  # NFC
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_names_are_cleaned(raw, kept):
    assert clean_name(raw) == kept


@pytest.mark.parametrize(
    "raw", ["C:\\temp\\a.pdf", "dir/a.pdf", "..", "a\x1b.pdf", "a\u200e.pdf", ""]
)
def test_names_with_paths_or_control_characters_are_refused(raw):
    with pytest.raises(InvalidRequestError):
        clean_name(raw)
