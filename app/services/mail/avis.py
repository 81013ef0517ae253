"""The avis d'échéance to attach to renewal cycles' e-mails: the cycle's own, or made now.

A cycle whose avis document exists (and did not fail) sends that one; the others get
one from the built-in "avis_echeance" template, in one batch (app/services/documents).
The messages are written at once and wait for their document to be ready
(app/services/mail/sending.py), so asking never waits for a render.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Document, DocumentStatus, RenewalCycle, Template
from app.services.batches import in_lists
from app.services.errors import InvalidRequestError

AVIS_KEY = "avis_echeance"
EMAIL_KEY = "email_avis_echeance"


def email_avis(session: Session, user: Any, cycle_ids: list[int]) -> Any:
    """The Échéances screen's bulk action: the built-in avis e-mail, each avis attached."""
    from app.services.mail.compose import send_bulk

    template_id = session.execute(
        select(Template.id).where(Template.builtin_key == EMAIL_KEY)
    ).scalar()
    if template_id is None:
        raise InvalidRequestError(_("The built-in avis d'échéance e-mail is missing."))
    return send_bulk(
        session,
        user,
        template_id=template_id,
        record_kind="renewal_cycle",
        record_ids=cycle_ids,
        attach_avis=True,
    )


def avis_documents(session: Session, user: Any, cycle_ids: list[int]) -> dict[int, int]:
    """cycle id -> the document to attach (existing, or queued now in one batch)."""
    from app.services.documents import request_batch

    cycles: dict[int, tuple[int, int | None]] = {}
    for chunk in in_lists(cycle_ids):
        rows = session.execute(
            select(RenewalCycle.id, RenewalCycle.policy_id, RenewalCycle.avis_document_id).where(
                RenewalCycle.id.in_(chunk)
            )
        )
        cycles.update((row.id, (row.policy_id, row.avis_document_id)) for row in rows)
    usable = _usable({doc for _policy, doc in cycles.values() if doc is not None}, session)
    chosen = {cycle: doc for cycle, (_policy, doc) in cycles.items() if doc in usable}
    missing = [cycle for cycle in cycle_ids if cycle not in chosen]
    if missing:
        template_id = session.execute(
            select(Template.id).where(Template.builtin_key == AVIS_KEY)
        ).scalar()
        if template_id is None:
            raise InvalidRequestError(_("The built-in avis d'échéance template is missing."))
        policies = {cycles[cycle][0] for cycle in missing}
        job = request_batch(session, user, template_id=template_id, policy_ids=sorted(policies))
        made = dict(
            session.execute(
                select(Document.policy_id, Document.id).where(Document.job_id == job.id)
            ).all()
        )
        chosen.update((cycle, made[cycles[cycle][0]]) for cycle in missing)
    return chosen


def _usable(document_ids: set[int], session: Session) -> set[int]:
    found: set[int] = set()
    for chunk in in_lists(sorted(document_ids)):
        found.update(
            session.execute(
                select(Document.id).where(
                    Document.id.in_(chunk), Document.status != DocumentStatus.failed
                )
            ).scalars()
        )
    return found
