"""Handing document ids to the Huey queue, after the rows are committed.

Huey has no acknowledgements, so the queue is only a messenger: a message that
could not be sent (Redis down) or that was lost leaves its row queued, and the
sweeper sends it again. Nothing here raises because the queue refused.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import Document
from app.services import leasing


def enqueue_renders(session: Session, document_ids: list[int]) -> int:
    """Enqueue one render task per id; returns how many the queue accepted."""
    from app.tasks.documents import render_document

    return leasing.send(session, Document, document_ids, render_document)
