"""Organisation-scoped reads of documents and jobs: every door lists and loads through here.

A user sees the documents and jobs of their organisation; SUPERADMIN sees all.
Unknown ids and ids of another organisation give the same answer (None), so a
door cannot tell anyone that a row exists elsewhere.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Query, Session

from app.models import Document, Job
from app.services.scope import visible_organisation_id

MAX_ID = 2**31 - 1  # ids are SQL INTEGER


def valid_id(value: Any) -> bool:
    """A plausible row id: a positive int that fits the column (bool is not an id)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def documents_query(session: Session, user: Any) -> Query:
    """The documents ``user`` may see."""
    query = session.query(Document)
    organisation_id = visible_organisation_id(user)
    if organisation_id is None:
        return query
    return query.filter(Document.organisation_id == organisation_id)


def visible_document(session: Session, user: Any, document_id: Any) -> Document | None:
    """The document with this id if ``user`` may see it, else None."""
    if not valid_id(document_id):
        return None
    return documents_query(session, user).filter(Document.id == document_id).one_or_none()


def jobs_query(session: Session, user: Any) -> Query:
    """The jobs ``user`` may see; platform-wide jobs (no organisation) are SUPERADMIN's."""
    query = session.query(Job)
    organisation_id = visible_organisation_id(user)
    if organisation_id is None:
        return query
    return query.filter(Job.organisation_id == organisation_id)


def visible_job(session: Session, user: Any, job_id: Any) -> Job | None:
    """The job with this id if ``user`` may see it, else None."""
    if not valid_id(job_id):
        return None
    return jobs_query(session, user).filter(Job.id == job_id).one_or_none()
