"""Attachment files with no row: what an upload leaves when its process dies between
storing the bytes and committing the row, found and removed safely.

Why this never deletes the file of a live attachment, even while files are uploaded
-----------------------------------------------------------------------------------
(U) An upload flushes its row (which gives it its id), stores the file at
    ``attachment_key(organisation, id)`` (and its thumbnail beside it), then commits
    (app/services/attachments/files.py). A failure the process survives deletes the
    files it stored; a process killed between the write and the commit leaves them,
    with no row. So a file without a row is either such a leftover or an upload in
    flight, whose file was written a moment ago.

Finding (``find_orphan_attachments``): list the attachment keys in scope, then ask, in a
query made after the listing, which (id, organisation) pairs have a row. A key without a
row whose file was last written before the cut-off (ATTACHMENT_ORPHAN_GRACE_HOURS ago,
24 by default) is an orphan; a younger one is left for a later run — an upload's
transaction lasts a request, not hours.

Deleting (``delete_orphan_attachments``), in batches, in the transaction in which the
purge holds inserts: on PostgreSQL ``LOCK TABLE attachment IN SHARE ROW EXCLUSIVE MODE``
waits for the uploads whose row is flushed and not committed, and stops new ones; on
SQLite the purge run's write (``orphans.hold_document_inserts``) takes the database's
only write lock, which an upload holds from its flush to its commit. Inside, each key is
checked again: still no row, and its file still older than the cut-off. The second check
matters on SQLite, where a new upload can be given the id a dead one never committed
(app/services/purge/orphans.py, fact I): it rewrote the file at the same key, which is
young again, and is kept.

Thumbnails go with their attachment: a thumbnail is kept while its attachment's row
exists, and removed like the file when it does not.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models import Attachment
from app.services.batches import in_lists
from app.services.purge.items import ORPHAN_ATTACHMENT, PurgeItem, PurgeScope
from app.services.storage import FileStore

log = logging.getLogger(__name__)

REASON = "stored attachment file with no attachment row, written before {cutoff} UTC"


def parse_attachment_key(key: str) -> tuple[int, int]:
    """org-<organisation>/att-<attachment>[-thumb].bin -> (organisation id, attachment id)."""
    folder, name = key.split("/", 1)
    number = name[len("att-") : -len(".bin")].removesuffix("-thumb")
    return int(folder[len("org-") :]), int(number)


def find_orphan_attachments(
    session: Session, store: FileStore, scope: PurgeScope, cutoff: dt.datetime
) -> list[PurgeItem]:
    """The attachment files in scope with no row, written before ``cutoff``."""
    prefix = None if scope.everything else f"org-{scope.organisation_id}/"
    listed = [key for key in store.attachment_keys() if prefix is None or key.startswith(prefix)]
    by_pair: dict[tuple[int, int], list[str]] = {}
    for key in listed:
        organisation_id, attachment_id = parse_attachment_key(key)
        by_pair.setdefault((attachment_id, organisation_id), []).append(key)
    session.commit()  # a fresh snapshot, taken after the listing
    present = _rows_present(session, by_pair)
    reason = REASON.format(cutoff=cutoff.isoformat(timespec="seconds"))
    found = []
    for (attachment_id, organisation_id), keys in sorted(by_pair.items()):
        if (attachment_id, organisation_id) in present:
            continue
        for key in sorted(keys):
            written = store.modified_at(key)
            if written is None or written >= cutoff:  # gone meanwhile, or maybe in flight
                continue
            size = store.stored_size(key)
            if size is None:
                continue
            found.append(
                PurgeItem(
                    category=ORPHAN_ATTACHMENT,
                    reason=reason,
                    organisation_id=organisation_id,
                    key=key,
                    attachment_id=attachment_id,
                    size=size,
                )
            )
    return found


def delete_orphan_attachments(
    session: Session, store: FileStore, items: list[PurgeItem], cutoff: dt.datetime
) -> list[tuple[PurgeItem, bool]]:
    """Inside the transaction holding inserts: check each key again, then delete its file.

    Returns the items whose file this call removed. The caller commits.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE attachment IN SHARE ROW EXCLUSIVE MODE"))
    present = _rows_present(session, [(item.attachment_id, item.organisation_id) for item in items])
    done = []
    for item in items:
        assert item.key is not None
        written = store.modified_at(item.key)
        if (item.attachment_id, item.organisation_id) in present:
            log.info("purge: %s has an attachment row again, kept", item.key)
        elif written is None or written >= cutoff:
            log.info("purge: %s was written again (or is gone), kept", item.key)
        elif store.delete(item.key):
            log.info("purge: removed %s, an attachment file with no row", item.key)
            done.append((item, True))
    return done


def _rows_present(session: Session, pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (attachment id, organisation id) pairs that have a row now."""
    present: set[tuple[int, int]] = set()
    for chunk in in_lists(list(pairs)):
        ids = {attachment_id for attachment_id, _org in chunk}
        rows = session.execute(
            select(Attachment.id, Attachment.organisation_id).where(Attachment.id.in_(ids))
        )
        present.update((row.id, row.organisation_id) for row in rows)
    return present
