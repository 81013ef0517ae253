"""Builders for the purge tests: templates, documents with files, jobs, orphan files.

Documents are made the way the worker leaves them (row first, then the file at
``document_key``), without rendering: the purge only cares about rows and files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from flask import Flask
from sqlalchemy import delete, update

from app.extensions import db
from app.models import (
    Document,
    DocumentStatus,
    Job,
    JobKind,
    JobStatus,
    OutputFormat,
    Policy,
    Template,
    TemplateKind,
    TemplateVersion,
)
from app.models.base import utcnow
from app.services.storage import FileStore, document_key

NOW = utcnow()


def days_ago(days: int) -> dt.datetime:
    return utcnow() - dt.timedelta(days=days)


def years_ago(years: int, extra_days: int = 0) -> dt.datetime:
    return utcnow() - dt.timedelta(days=365 * years + years // 4 + extra_days)


class World:
    """One organisation's templates (one per kind) and helpers to add what the purge sees."""

    def __init__(self, app: Flask, store: FileStore, organisation_id: int) -> None:
        self.app = app
        self.store = store
        self.organisation_id = organisation_id
        self.templates: dict[TemplateKind, tuple[int, int]] = {}
        with app.app_context():
            for kind in TemplateKind:
                template = Template(
                    organisation_id=organisation_id,
                    name=f"{kind.value} {organisation_id}",
                    kind=kind,
                    output_format=OutputFormat.html,
                )
                db.session.add(template)
                db.session.flush()
                body = f"<p>{kind.value}</p>"
                version = TemplateVersion(
                    template_id=template.id,
                    number=1,
                    body=body,
                    sha256=hashlib.sha256(body.encode()).hexdigest(),
                )
                db.session.add(version)
                db.session.flush()
                self.templates[kind] = (template.id, version.id)
            db.session.commit()

    def document(
        self,
        kind: TemplateKind,
        *,
        created_at: dt.datetime | None = None,
        policy_id: int | None = None,
        status: DocumentStatus = DocumentStatus.ready,
        with_file: bool = True,
        data: bytes | None = None,
        job_id: int | None = None,
        document_id: int | None = None,
    ) -> int:
        """A document row, then (like the worker) its file; returns the id."""
        template_id, version_id = self.templates[kind]
        with self.app.app_context():
            row = Document(
                organisation_id=self.organisation_id,
                template_id=template_id,
                template_version_id=version_id,
                policy_id=policy_id,
                job_id=job_id,
                format=OutputFormat.html,
                status=status,
                created_at=created_at or utcnow(),
                file_name=f"{kind.value}.html",
                media_type="text/html",
            )
            if document_id is not None:
                row.id = document_id
            db.session.add(row)
            db.session.commit()
            if with_file:
                stored = self.store.put(
                    document_key(self.organisation_id, row.id),
                    data if data is not None else f"{kind.value} #{row.id} ".encode() * 40,
                    compress=False,
                    encrypt=False,
                )
                row.storage_key = stored.key
                row.size = stored.size
                row.stored_size = stored.stored_size
                row.sha256 = stored.sha256
                db.session.commit()
            return row.id

    def job(self, status: JobStatus, finished_at: dt.datetime) -> int:
        with self.app.app_context():
            job = Job(
                organisation_id=self.organisation_id,
                kind=JobKind.batch_render,
                status=status,
                finished_at=finished_at,
                created_at=finished_at,
            )
            db.session.add(job)
            db.session.commit()
            return job.id

    def abandon(self, document_id: int) -> str:
        """Delete a document's row and leave its file: an orphan; returns its key.

        Abandon a document that is not the newest: SQLite gives the highest id to the next
        row again, and the purge leaves files above the highest id for a later run.
        """
        with self.app.app_context():
            db.session.execute(delete(Document).where(Document.id == document_id))
            db.session.commit()
        return document_key(self.organisation_id, document_id)

    def orphan(self, document_id: int, data: bytes = b"left behind " * 10) -> str:
        """A stored file whose document row does not exist."""
        return self.store.put(
            document_key(self.organisation_id, document_id), data, compress=False, encrypt=False
        ).key


def set_policy_expiry(app: Flask, policy_id: int, expiry: dt.date) -> None:
    with app.app_context():
        db.session.execute(
            update(Policy)
            .where(Policy.id == policy_id)
            .values(effective_date=expiry - dt.timedelta(days=365), expiry_date=expiry)
        )
        db.session.commit()


def document_ids(app: Flask) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(db.select(Document.id)))


def stored_keys(store: FileStore) -> set[str]:
    return set(store.keys())


def report_of(run: Any) -> list[dict[str, Any]]:
    return list(run.report or [])


class using_store:  # noqa: N801 (a context manager that reads like a clause)
    """Make ``store`` the app's file store for a while (each test gets an empty one)."""

    KEY = "monassurance_file_store"

    def __init__(self, app: Flask, store: FileStore) -> None:
        self.app = app
        self.store = store
        self._previous: Any = None

    def __enter__(self) -> FileStore:
        self._previous = self.app.extensions.get(self.KEY)
        self.app.extensions[self.KEY] = self.store
        return self.store

    def __exit__(self, *_exc: object) -> None:
        if self._previous is None:
            self.app.extensions.pop(self.KEY, None)
        else:
            self.app.extensions[self.KEY] = self._previous
