"""A client's data export (RGPD art. 15): one ZIP a job builds, delivered as a document.

``start_data_export`` checks the client is in the caller's agency and queues a job of the
tabular-job machinery (app/services/reports: lease, retries, sweeper, delivery as a
Document); the producer writes the ZIP into the runner's scratch file entry by entry:
each table's rows as JSON (written row by row), the bytes of every attachment and
generated document (streamed from the store in blocks), and the audit entries about the
client's rows. Nothing is held whole in memory.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import Session

from app.models import (
    Attachment,
    AuditLog,
    Client,
    Document,
    DocumentStatus,
    Job,
    JobKind,
    OutputFormat,
)
from app.services.errors import NotFoundError
from app.services.privacy.records import client_records
from app.services.reports.jobs import start_tabular_job
from app.services.reports.tabular import (
    FileOutput,
    Progress,
    TabularError,
    TabularRequest,
    register_producer,
)
from app.services.storage import attachment_key, document_key, file_store

PRODUCER = "client-data-export"
CHUNK = 500  # rows read per query


def start_data_export(session: Session, user: Any, client: Client) -> Job:
    """Queue the export of ``client`` (already found in the caller's scope); commits."""
    return start_tabular_job(
        session,
        user,
        job_kind=JobKind.export,
        name=PRODUCER,
        params={"client_id": client.id},
        output_format=OutputFormat.zip,
        organisation_id=client.organisation_id,
    )


def _check(session: Session, _user: Any, organisation_id: int, params: dict) -> dict:
    client = session.get(Client, params.get("client_id"))
    if client is None or client.organisation_id != organisation_id:
        raise NotFoundError(_("No such client."))
    return {"client_id": client.id}


def export_jobs_of(session: Session, organisation_id: int, client_id: int) -> list[int]:
    """The ids of the documents earlier exports of this client were delivered as."""
    rows = session.execute(
        select(Job.params, Job.document_id).where(
            Job.organisation_id == organisation_id,
            Job.kind == JobKind.export,
            Job.document_id.is_not(None),
        )
    )
    return [
        document_id
        for params, document_id in rows
        if (params or {}).get("producer") == PRODUCER
        and (params.get("params") or {}).get("client_id") == client_id
    ]


def plain(value: Any) -> Any:
    """A column value as JSON: Decimal and dates as text, enums by value."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def row_dict(row: Any) -> dict[str, Any]:
    return {attr.key: plain(getattr(row, attr.key)) for attr in inspect(row).mapper.column_attrs}


def _write_json_rows(archive: zipfile.ZipFile, name: str, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    with archive.open(name, "w") as entry:
        entry.write(b"[")
        for row in rows:
            entry.write((b",\n" if count else b"\n") + json.dumps(row, ensure_ascii=False).encode())
            count += 1
        entry.write(b"\n]\n")
    return count


def _rows(session: Session, model: Any, ids: list[int]) -> Iterator[dict[str, Any]]:
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for row in session.scalars(select(model).where(model.id.in_(chunk)).order_by(model.id)):
            yield row_dict(row)


def _copy(archive: zipfile.ZipFile, name: str, blocks: Iterator[bytes]) -> None:
    with archive.open(name, "w", force_zip64=True) as entry:
        for block in blocks:
            entry.write(block)


def _safe_name(name: str | None) -> str:
    return re.sub(r"[^\w.\- ]", "_", name or "file")[:120]


def _produce(session: Session, request: TabularRequest) -> FileOutput:
    client = session.get(Client, request.params.get("client_id"))
    if client is None or client.organisation_id != request.organisation_id:
        raise TabularError("the client is no longer in this agency")
    records = client_records(session, client)
    attachments = records.of(Attachment)
    documents = records.of(Document)
    tables = [model for model in records.ids if records.of(model)]
    total = 2 + len(tables) + len(attachments) + len(documents)
    client_id = client.id
    stem = f"donnees-client-{client_id}"

    def write(target: Path, progress: Progress) -> None:
        store = file_store()
        done = 0

        def step() -> None:
            nonlocal done
            done += 1
            progress(done)

        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            _write_json_rows(archive, "client.json", iter([row_dict(client)]))
            step()
            for model in tables:
                name = f"{model.__tablename__}.json"
                _write_json_rows(archive, name, _rows(session, model, records.of(model)))
                step()
            _write_json_rows(archive, "audit_log.json", _audit_rows(session, records))
            step()
            for row in _files(session, Attachment, attachments):
                key = attachment_key(row.organisation_id, row.id)
                blocks = store.stream(key, compressed=False, encrypted=row.encrypted)
                _copy(archive, f"attachments/{row.id}-{_safe_name(row.file_name)}", blocks)
                step()
            for row in _files(session, Document, documents):
                if row.status is not DocumentStatus.ready:
                    step()
                    continue
                key = row.storage_key or document_key(row.organisation_id, row.id)
                blocks = store.stream(key, compressed=row.compressed, encrypted=row.encrypted)
                _copy(archive, f"documents/{row.id}-{_safe_name(row.file_name)}", blocks)
                step()
            archive.writestr("README.txt", _readme(client_id))

    return FileOutput(file_stem=stem, output=OutputFormat.zip, total=total, write=write)


def _files(session: Session, model: Any, ids: list[int]) -> Iterator[Any]:
    for start in range(0, len(ids), CHUNK):
        yield from session.scalars(
            select(model).where(model.id.in_(ids[start : start + CHUNK])).order_by(model.id)
        )


def _audit_rows(session: Session, records: Any) -> Iterator[dict[str, Any]]:
    grouped: dict[str, list[str]] = {}
    for kind, object_id in records.audit_objects():
        grouped.setdefault(kind, []).append(object_id)
    query = (
        select(AuditLog)
        .where(
            AuditLog.organisation_id == records.organisation_id,
            or_(
                *(
                    (AuditLog.object_type == kind) & AuditLog.object_id.in_(ids)
                    for kind, ids in grouped.items()
                )
            ),
        )
        .order_by(AuditLog.id)
        .execution_options(yield_per=CHUNK)
    )
    for entry in session.scalars(query):
        yield {
            "created_at": plain(entry.created_at),
            "username": entry.username,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "changes": entry.changes,
        }


def _readme(client_id: int) -> str:
    return (
        f"Data held about client {client_id} (RGPD art. 15).\n"
        "client.json: the client; <table>.json: its rows in each table (contracts: policy,"
        " terms, premium notices, payments, mandates with their IBAN, claims, complaints,"
        " proposals with the needs statement's answers and the advice given, their quotes,"
        " the DER and FIC (compliance_document), tasks, messages with their bodies);"
        " audit_log.json: the history of these rows; attachments/ and documents/: the"
        " files, as stored (the generated DER and FIC among the documents).\n"
    )


register_producer(
    PRODUCER, _produce, check=_check, job_kind=JobKind.export, formats=(OutputFormat.zip,)
)
