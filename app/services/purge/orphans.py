"""Orphan files: stored files that no document row refers to, found and removed safely.

Why this never deletes the file of a live document, even while documents are generated
---------------------------------------------------------------------------------------
Facts we rely on:

(W) A file is written after its row: the service commits a Document row, then a worker
    that has read that committed row stores the file at ``document_key(organisation, id)``.
    So a file at ``org-o/doc-k.bin`` exists only if a row (k, o) was committed earlier.
(I) Ids. PostgreSQL hands out ids from a sequence and never gives one twice. Our SQLite
    tables use ``INTEGER PRIMARY KEY`` without AUTOINCREMENT (app/models, migrations):
    a new row takes the highest id + 1, so once the row with the highest id is deleted,
    the next row gets that id again, at the same key if it is in the same organisation.

Finding (``find_orphans``):
1. Read H, the highest document id, *before* listing the store.
2. List the store, then ask which (id, organisation) pairs have a row, in queries made
   *after* the listing is complete, each in a fresh transaction.
3. A listed key (o, k) whose row is missing, with k <= H, is an orphan.
   By (W), its row was committed before the listing, and it is gone by step 2: the file
   belongs to a deleted document. A row committed between listing and querying is seen
   by the query, so its file is kept. A key above H is left for the next run: by (I),
   on SQLite these are exactly the ids the next documents will get, and on any database
   they are rows we may not have seen; judging them later costs nothing.

Deleting (``delete_orphans``), in batches, each batch in one transaction that first stops
new document rows: ``LOCK TABLE document IN SHARE ROW EXCLUSIVE MODE`` on PostgreSQL
(it waits for inserts in flight, and blocks new ones and another purge); on SQLite any
write takes the database's only write lock, so we write our PurgeRun row first. Inside
the lock we check again that (k, o) has no row, delete the file, and commit. A row
committed before the lock is seen by this check (the "row committed between listing and
deleting" case, including an id handed out again by SQLite); a row committed after the
lock gets its file only after that (W), so the file we deleted was not its file.

Keys are matched by id *and* organisation: the worker writes at ``document_key`` of the
row's own organisation, and a row never changes organisation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from app.models import Document, PurgeRun
from app.services.batches import in_lists
from app.services.purge.items import ORPHAN, PurgeItem, PurgeScope
from app.services.storage import FileStore

log = logging.getLogger(__name__)

ORPHAN_REASON = "stored file with no document row"


def parse_key(key: str) -> tuple[int, int]:
    """org-<organisation>/doc-<document>.bin -> (organisation id, document id)."""
    folder, name = key.split("/", 1)
    return int(folder[len("org-") :]), int(name[len("doc-") : -len(".bin")])


def highest_document_id(session: Session) -> int:
    """Step 1: H, read in its own transaction before the store is listed."""
    high_water = session.scalar(select(func.max(Document.id))) or 0
    session.commit()
    return high_water


def list_keys(store: FileStore, scope: PurgeScope) -> list[str]:
    """Every stored key in scope (sizes are asked for the orphans only)."""
    prefix = None if scope.everything else f"org-{scope.organisation_id}/"
    keys = store.keys()  # a FileStore is not a mapping: its keys() walks the store
    return [key for key in keys if prefix is None or key.startswith(prefix)]


def find_orphans(
    session: Session, store: FileStore, listed: Iterable[str], high_water: int
) -> tuple[list[PurgeItem], int]:
    """Step 2 and 3: the orphans among ``listed`` keys, and how many were too new to judge."""
    pairs: dict[tuple[int, int], str] = {}
    too_new = 0
    for key in listed:
        organisation_id, document_id = parse_key(key)
        if document_id > high_water:
            too_new += 1
        else:
            pairs[(document_id, organisation_id)] = key
    present = rows_present(session, pairs)
    orphans = []
    for (document_id, organisation_id), key in sorted(pairs.items()):
        if (document_id, organisation_id) in present:
            continue
        size = store.stored_size(key)
        if size is None:  # deleted meanwhile (another purge): nothing to do
            continue
        orphans.append(
            PurgeItem(
                category=ORPHAN,
                reason=ORPHAN_REASON,
                organisation_id=organisation_id,
                key=key,
                document_id=document_id,
                size=size,
            )
        )
    return orphans, too_new


def rows_present(session: Session, pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (document id, organisation id) pairs that have a row now."""
    wanted = list(pairs)
    session.commit()  # a fresh snapshot, whatever the isolation level
    present: set[tuple[int, int]] = set()
    for chunk in in_lists(wanted):
        ids = {document_id for document_id, _org in chunk}
        rows = session.execute(
            select(Document.id, Document.organisation_id).where(Document.id.in_(ids))
        )
        present.update((row.id, row.organisation_id) for row in rows)
    return present


def hold_document_inserts(session: Session, run_id: int) -> None:
    """Stop new document rows until this transaction ends (module docstring)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE document IN SHARE ROW EXCLUSIVE MODE"))
    # On SQLite this write takes the write lock; elsewhere it is only bookkeeping.
    session.execute(update(PurgeRun).where(PurgeRun.id == run_id).values(finished_at=None))


def delete_orphans(
    session: Session, store: FileStore, items: list[PurgeItem]
) -> list[tuple[PurgeItem, bool]]:
    """Inside a transaction that holds document inserts: check again, then delete each file.

    Returns the items whose file this call removed. The caller commits.
    """
    ids = {item.document_id for item in items}
    rows = session.execute(
        select(Document.id, Document.organisation_id).where(Document.id.in_(ids))
    )
    referenced = {(row.id, row.organisation_id) for row in rows}
    done = []
    for item in items:
        assert item.key is not None
        if (item.document_id, item.organisation_id) in referenced:
            log.info("purge: %s has a document row again, kept", item.key)
        elif store.delete(item.key):
            done.append((item, True))
    return done
