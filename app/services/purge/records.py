"""Rows that go: documents past retention, failed documents and jobs, spent single-use links.

Each kind has a finder (dry run) and a remover that asks the same question again,
restricted to the items found, inside the transaction that holds document inserts
(app.services.purge.orphans): what changed since the dry run is kept.
A document's file is deleted before its row: if the commit then fails, a row without
its file remains (the next run removes it), never a file with no row under an id that
SQLite could hand out again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from app.models import (
    Document,
    DocumentStatus,
    Job,
    JobStatus,
    Policy,
    SpentLink,
    Template,
)
from app.services import audit
from app.services.purge.items import (
    FAILED_DOCUMENT,
    FAILED_JOB,
    RETENTION,
    SPENT_LINKS,
    PurgeItem,
    PurgeScope,
)
from app.services.purge.retention import RetentionRules, finished
from app.services.storage import FileStore, document_key

# A worker may be writing these: never touched.
IN_FLIGHT = (DocumentStatus.queued, DocumentStatus.running)
SPENT_LINKS_REASON = "single-use link nonces past their expiry"


def file_key(row: Any) -> str:
    """Where a document's file is: its recorded key, else the key built from its ids."""
    return row.storage_key or document_key(row.organisation_id, row.id)


# --- documents past retention --------------------------------------------------------


def _expired(rules: RetentionRules, now: dt.datetime, scope: PurgeScope) -> Select[Any]:
    query = (
        select(
            Document.id,
            Document.organisation_id,
            Document.storage_key,
            Document.stored_size,
            Document.created_at,
            Document.file_name,
            Document.sha256,
            Document.size,
            Document.template_id,
            Document.template_version_id,
            Document.policy_id,
            Template.kind,
            Policy.expiry_date,
        )
        # Outer: reports and exports have no template (retention: the report kind's).
        .outerjoin(Template, Template.id == Document.template_id)
        .outerjoin(Policy, Policy.id == Document.policy_id)
        .where(Document.status.not_in(IN_FLIGHT), rules.expired(now))
        .order_by(Document.id)
    )
    return _scoped(query, Document.organisation_id, scope)


def find_expired_documents(
    session: Session,
    store: FileStore,
    listed: Collection[str],
    rules: RetentionRules,
    now: dt.datetime,
    scope: PurgeScope,
) -> list[PurgeItem]:
    items = []
    for row in session.execute(_expired(rules, now, scope)):
        key = file_key(row)
        stored = key in listed
        size = row.stored_size if row.stored_size is not None else store.stored_size(key)
        items.append(
            PurgeItem(
                category=RETENTION,
                reason=rules.reason(row.kind, row.created_at, row.expiry_date),
                organisation_id=row.organisation_id,
                key=key if stored else None,
                document_id=row.id,
                size=(size or 0) if stored else 0,
            )
        )
    return items


def delete_expired_documents(
    session: Session,
    store: FileStore,
    items: list[PurgeItem],
    rules: RetentionRules,
    now: dt.datetime,
    scope: PurgeScope,
    run_id: int,
    actor: audit.Actor,
) -> list[tuple[PurgeItem, bool]]:
    """Check, delete each file then the rows, audit each document. Returns (item, file removed)."""
    wanted = {item.document_id: item for item in items}
    rows = session.execute(_expired(rules, now, scope).where(Document.id.in_(wanted))).all()
    done = []
    for row in rows:
        removed = store.delete(file_key(row))
        done.append((wanted[row.id], removed))
    _delete_documents(session, rows, wanted, run_id, actor, done)
    return done


# --- failed documents with no file ----------------------------------------------------


def _failed_documents(rules: RetentionRules, now: dt.datetime, scope: PurgeScope) -> Select[Any]:
    query = (
        select(
            Document.id,
            Document.organisation_id,
            Document.storage_key,
            Document.created_at,
            Document.file_name,
            Document.sha256,
            Document.size,
            Document.template_id,
            Document.template_version_id,
            Document.policy_id,
            finished(Document.finished_at, Document.updated_at).label("failed_at"),
        )
        .where(
            Document.status == DocumentStatus.failed,
            finished(Document.finished_at, Document.updated_at) < rules.failed_cutoff(now),
        )
        .order_by(Document.id)
    )
    return _scoped(query, Document.organisation_id, scope)


def find_failed_documents(
    session: Session,
    listed: Collection[str],
    rules: RetentionRules,
    now: dt.datetime,
    scope: PurgeScope,
    already: Collection[int],
) -> list[PurgeItem]:
    return [
        PurgeItem(
            category=FAILED_DOCUMENT,
            reason=rules.failed_reason("document", row.failed_at),
            organisation_id=row.organisation_id,
            document_id=row.id,
        )
        for row in session.execute(_failed_documents(rules, now, scope))
        # Past retention (listed there already), or holding a file (retention decides).
        if row.id not in already and file_key(row) not in listed
    ]


def delete_failed_documents(
    session: Session,
    store: FileStore,
    items: list[PurgeItem],
    rules: RetentionRules,
    now: dt.datetime,
    scope: PurgeScope,
    run_id: int,
    actor: audit.Actor,
) -> list[tuple[PurgeItem, bool]]:
    wanted = {item.document_id: item for item in items}
    query = _failed_documents(rules, now, scope).where(Document.id.in_(wanted))
    rows = [row for row in session.execute(query) if not store.exists(file_key(row))]
    done = [(wanted[row.id], False) for row in rows]
    _delete_documents(session, rows, wanted, run_id, actor, done)
    return done


def _delete_documents(
    session: Session,
    rows: list[Any],
    wanted: dict[int, PurgeItem],
    run_id: int,
    actor: audit.Actor,
    done: list[tuple[PurgeItem, bool]],
) -> None:
    if not rows:
        return
    # Spent links go with them (ON DELETE CASCADE); jobs forget them (SET NULL).
    session.execute(delete(Document).where(Document.id.in_([row.id for row in rows])))
    removed = {item.document_id: file_removed for item, file_removed in done}
    for row in rows:
        item = wanted[row.id]
        audit.record(
            session,
            "document.purged",
            "Document",
            row.id,
            {
                "reason": item.reason,
                "category": item.category,
                "purge_run_id": run_id,
                "file_name": row.file_name,
                "storage_key": file_key(row),
                "file_removed": removed[row.id],
                "sha256": row.sha256,
                "size": row.size,
                "created_at": row.created_at.isoformat(),
                "template_id": row.template_id,
                "template_version_id": row.template_version_id,
                "policy_id": row.policy_id,
            },
            organisation_id=row.organisation_id,
            actor=actor,
        )


# --- failed jobs ------------------------------------------------------------------------


def _failed_jobs(rules: RetentionRules, now: dt.datetime, scope: PurgeScope) -> Select[Any]:
    query = (
        select(
            Job.id,
            Job.organisation_id,
            finished(Job.finished_at, Job.updated_at).label("failed_at"),
        )
        .where(
            Job.status == JobStatus.failed,
            finished(Job.finished_at, Job.updated_at) < rules.failed_cutoff(now),
        )
        .order_by(Job.id)
    )
    return _scoped(query, Job.organisation_id, scope)


def find_failed_jobs(
    session: Session, rules: RetentionRules, now: dt.datetime, scope: PurgeScope
) -> list[PurgeItem]:
    return [
        PurgeItem(
            category=FAILED_JOB,
            reason=rules.failed_reason("job", row.failed_at),
            organisation_id=row.organisation_id,
            job_id=row.id,
        )
        for row in session.execute(_failed_jobs(rules, now, scope))
    ]


def delete_failed_jobs(
    session: Session,
    items: list[PurgeItem],
    rules: RetentionRules,
    now: dt.datetime,
    scope: PurgeScope,
) -> list[tuple[PurgeItem, bool]]:
    wanted = {item.job_id: item for item in items}
    query = _failed_jobs(rules, now, scope).where(Job.id.in_(wanted))
    ids = [row.id for row in session.execute(query)]
    if ids:
        session.execute(delete(Job).where(Job.id.in_(ids)))
    return [(wanted[job_id], False) for job_id in ids]


# --- spent single-use links --------------------------------------------------------------


def _spent_links(now: dt.datetime, scope: PurgeScope) -> Any:
    condition = SpentLink.expires_at < now
    if scope.everything:
        return condition
    in_scope = select(Document.id).where(Document.organisation_id == scope.organisation_id)
    return condition & SpentLink.document_id.in_(in_scope)


def find_spent_links(session: Session, now: dt.datetime, scope: PurgeScope) -> list[PurgeItem]:
    count = session.scalar(
        select(func.count()).select_from(SpentLink).where(_spent_links(now, scope))
    )
    if not count:
        return []
    return [
        PurgeItem(
            category=SPENT_LINKS,
            reason=SPENT_LINKS_REASON,
            organisation_id=scope.organisation_id,
            count=count,
        )
    ]


def delete_spent_links(
    session: Session, items: list[PurgeItem], now: dt.datetime, scope: PurgeScope
) -> list[tuple[PurgeItem, bool]]:
    if not items:
        return []
    # Everything past expiry is dead anyway: the same condition, asked again, is the check.
    count = session.execute(delete(SpentLink).where(_spent_links(now, scope))).rowcount
    return [(PurgeItem(**{**items[0].__dict__, "count": count}), False)] if count else []


def _scoped(query: Select[Any], column: Any, scope: PurgeScope) -> Select[Any]:
    return query if scope.everything else query.where(column == scope.organisation_id)
