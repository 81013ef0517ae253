"""Helpers of the signed-link tests: a ready document with its bytes in the store, and a clock."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from flask import Flask

from app.extensions import db
from app.models import (
    Document,
    DocumentStatus,
    OutputFormat,
    Template,
    TemplateKind,
    TemplateVersion,
)
from app.services.storage import document_key, file_store
from tests.test_screens_support import french  # noqa: F401 (the link tests import it from here)

PDF = b"%PDF-1.4\n% MonAssurance test document\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
FILE_NAME = "contrat-POL-2026-0042.pdf"


def stored_document(
    app: Flask,
    organisation_id: int,
    data: bytes = PDF,
    *,
    file_name: str = FILE_NAME,
    media_type: str = "application/pdf",
    status: DocumentStatus = DocumentStatus.ready,
    compress: bool = False,
    encrypt: bool = False,
) -> int:
    """A document row in ``status`` whose original bytes are ``data`` (stored when ready)."""
    with app.app_context():
        template = Template(
            organisation_id=organisation_id,
            name=f"Contrat {secrets.token_hex(3)}",
            kind=TemplateKind.contract,
            output_format=OutputFormat.pdf,
        )
        db.session.add(template)
        db.session.flush()
        version = TemplateVersion(
            template_id=template.id, number=1, body="<p>x</p>", sha256="0" * 64
        )
        db.session.add(version)
        db.session.flush()
        document = Document(
            organisation_id=organisation_id,
            template_id=template.id,
            template_version_id=version.id,
            format=OutputFormat.pdf,
            status=status,
            file_name=file_name,
            media_type=media_type,
        )
        db.session.add(document)
        db.session.flush()
        if status == DocumentStatus.ready:
            stored = file_store().put(
                document_key(organisation_id, document.id),
                data,
                compress=compress,
                encrypt=encrypt,
            )
            document.storage_key = stored.key
            document.size = stored.size
            document.stored_size = stored.stored_size
            document.sha256 = stored.sha256
            document.compressed = stored.compressed
            document.encrypted = stored.encrypted
        db.session.commit()
        return document.id


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Clock:
    """Moves the link services' clock (app/services/links/clock.py) without sleeping."""

    def __init__(self, monkeypatch: Any) -> None:
        from app.services.links import clock

        self.offset = dt.timedelta()
        real_now = clock.now
        monkeypatch.setattr(clock, "now", lambda: real_now() + self.offset)

    def advance(self, **delta: float) -> None:
        self.offset += dt.timedelta(**delta)


def path_of(url: str) -> str:
    """The path of an absolute link URL, for the test client."""
    assert url.startswith("http://localhost/d/"), url
    return url[len("http://localhost") :]


def published_template(app: Flask, organisation_id: int, body: str) -> int:
    """A PDF contract template of the agency with ``body`` published as version 1."""
    with app.app_context():
        template = Template(
            organisation_id=organisation_id,
            name=f"Contrat {secrets.token_hex(3)}",
            kind=TemplateKind.contract,
            output_format=OutputFormat.pdf,
        )
        db.session.add(template)
        db.session.flush()
        version = TemplateVersion(
            template_id=template.id,
            number=1,
            body=body,
            sha256=hashlib.sha256(body.encode()).hexdigest(),
        )
        db.session.add(version)
        db.session.flush()
        template.published_version_id = version.id
        db.session.commit()
        return template.id
