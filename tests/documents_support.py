"""Shared helpers for the document-generation tests: templates written straight to the
database (no dependency on the authoring service), users, a queue recorder, the store."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask

from app.extensions import db
from app.models import (
    AppUser,
    Document,
    Job,
    OutputFormat,
    Template,
    TemplateKind,
    TemplateVersion,
)

CONTRACT_V1 = "<h1>Contrat {{ policy.number }}</h1><p>Version une pour {{ client.last_name }}</p>"
CONTRACT_V2 = "<h1>Contrat {{ policy.number }}</h1><p>Version deux pour {{ client.last_name }}</p>"
_names = itertools.count(1)
XLSX_BODY = (
    '{"sheets": [{"title": "Échéancier", "header": [["Contrat", "policy.number", "text"]], '
    '"rows": "instalments", "columns": [{"title": "Montant", "value": "row.amount", '
    '"format": "money", "total": "sum"}]}]}'
)


def create_template(
    app: Flask,
    organisation_id: int | None,
    body: str = CONTRACT_V1,
    *,
    output_format: OutputFormat = OutputFormat.html,
    kind: TemplateKind = TemplateKind.contract,
    publish: bool = True,
    name: str | None = None,
) -> int:
    """A template with version 1 (published unless told otherwise); returns its id."""
    with app.app_context():
        template = Template(
            organisation_id=organisation_id,
            name=name or f"Modèle {kind.value} {output_format.value} {next(_names)}",
            kind=kind,
            output_format=output_format,
            locale="fr",
        )
        db.session.add(template)
        db.session.flush()
        template_id = template.id
        db.session.commit()
    add_version(app, template_id, body, publish=publish)
    return template_id


def add_version(app: Flask, template_id: int, body: str, *, publish: bool = True) -> int:
    with app.app_context():
        template = db.session.get(Template, template_id)
        number = len(template.versions) + 1
        version = TemplateVersion(
            template_id=template_id,
            number=number,
            body=body,
            sha256=hashlib.sha256(body.encode()).hexdigest(),
            author_name="tests",
        )
        db.session.add(version)
        db.session.flush()
        if publish:
            template.published_version_id = version.id
        version_id = version.id
        db.session.commit()
        return version_id


def load_user(username: str) -> AppUser:
    """The user row, in the current app context (services take the user explicitly)."""
    return db.session.query(AppUser).filter_by(username=username).one()


def document_row(app: Flask, document_id: int) -> Document:
    """A fresh, detached copy of the row."""
    with app.app_context():
        db.session.expire_all()
        document = db.session.get(Document, document_id)
        db.session.expunge(document)
        return document


def job_row(app: Flask, job_id: int) -> Job:
    with app.app_context():
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


class QueueRecorder:
    """Stands in for the render task: records ids instead of running them."""

    def __init__(self, error: Exception | None = None) -> None:
        self.ids: list[int] = []
        self.error = error

    def __call__(self, document_id: int) -> None:
        if self.error is not None:
            raise self.error
        self.ids.append(document_id)


@contextmanager
def recording_queue(monkeypatch: Any, error: Exception | None = None) -> Iterator[QueueRecorder]:
    recorder = QueueRecorder(error)
    import app.tasks.documents as tasks

    with monkeypatch.context() as patch:
        patch.setattr(tasks, "render_document", recorder)
        yield recorder


@contextmanager
def fresh_store(app: Flask, monkeypatch: Any, keys: list[str] | None = None) -> Iterator[Any]:
    """An empty in-memory store for one test (ids restart after each test's cleanup)."""
    from app.services.storage import open_store

    store = open_store("mem://", keys or [])
    with monkeypatch.context() as patch:
        patch.setitem(app.extensions, "monassurance_file_store", store)
        yield store


def stored_files(folder: Path) -> list[Path]:
    """Every file under a local store folder, temporary ones included."""
    return sorted(path for path in folder.rglob("*") if path.is_file())
