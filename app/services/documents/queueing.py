"""Handing document ids to the Huey queue, after the rows are committed.

Huey has no acknowledgements, so the queue is only a messenger: a message that
could not be sent (Redis down) or that was lost leaves its row queued, and the
sweeper sends it again. Nothing here raises because the queue refused.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.models import Document
from app.models.base import utcnow

log = logging.getLogger(__name__)
ID_CHUNK = 500
_CREDENTIALS = re.compile(r"(://[^:/@\s]*):[^@/\s]*@")


def enqueue_renders(session: Session, document_ids: list[int]) -> int:
    """Enqueue one render task per id; returns how many the queue accepted.

    Stops at the first refusal (the others would be refused too) and logs one
    warning; records ``enqueued_at`` for the ids that went through.
    """
    from app.tasks.documents import render_document

    sent: list[int] = []
    for document_id in document_ids:
        try:
            render_document(document_id)
        except Exception as error:  # redis.ConnectionError, sqlite3 errors...: any refusal
            log.warning(
                "queue refused document %s (%s: %s); %d of %d left queued for the sweeper",
                document_id,
                type(error).__name__,
                _without_credentials(str(error)),
                len(document_ids) - len(sent),
                len(document_ids),
            )
            break
        sent.append(document_id)
    if sent:
        _mark_enqueued(session, sent)
    return len(sent)


def _mark_enqueued(session: Session, document_ids: list[int]) -> None:
    # Unconditional: a fast worker may already be running it, which is fine.
    # Losing this write only makes the sweeper send the message a second time,
    # which the worker's claim turns into a no-op.
    now = utcnow()
    try:
        for start in range(0, len(document_ids), ID_CHUNK):
            chunk = document_ids[start : start + ID_CHUNK]
            session.execute(
                update(Document)
                .where(Document.id.in_(chunk))
                .values(enqueued_at=now)
                .execution_options(synchronize_session=False)
            )
        session.commit()
    except SQLAlchemyError as error:
        session.rollback()
        log.warning("could not record enqueued_at for %d documents: %s", len(document_ids), error)


def _without_credentials(text: str) -> str:
    return _CREDENTIALS.sub(r"\1:***@", text)
