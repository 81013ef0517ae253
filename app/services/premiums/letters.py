"""The unpaid work list's letters: reminders, relances and mises en demeure, one batch job each.

The relance and the mise en demeure are built-in templates reading the contract's
``arrears`` (docs/templates.md), so one document per contract covers all its unpaid
notices; the reminder letter (avis de prélèvement / rappel d'échéance) reads its
``upcoming`` notices, those due within the agency's reminder days. Sending a reminder
sets the shared "told" mark (``reminded_on``, app/services/premiums/told.py) and skips
the notices whose client was already told since the reminder's moment (by the daily
e-mail, a task rule or an earlier letter). Sending a relance records
``relanced_on`` on the notices chosen; generating a mise en demeure only links the
letter to them: recording it *sent* (date, registered-letter number) stays the notice's
own action (procedure.record_formal_notice), since that date fixes the suspension.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Document,
    Job,
    NoticeStatus,
    Organisation,
    PremiumNotice,
    Template,
    UnpaidStage,
)
from app.services.documents.queries import valid_id
from app.services.documents.requests import request_batch
from app.services.errors import ConflictError, InvalidRequestError, NotFoundError
from app.services.premiums import told
from app.services.renewals.contracts import agency_today
from app.services.scope import visible_organisation_id

REMINDER_KEY = "lettre_rappel_echeance"
RELANCE_KEY = "lettre_relance"
FORMAL_NOTICE_KEY = "mise_en_demeure"
OPEN = (NoticeStatus.issued, NoticeStatus.partly_paid, NoticeStatus.unpaid)
# A mise en demeure is due from the 11th day after the due date (L113-3), and may be
# printed again while the procedure runs.
FORMAL_NOTICE_STAGES = (
    UnpaidStage.formal_notice_possible,
    UnpaidStage.in_formal_notice,
    UnpaidStage.suspended,
    UnpaidStage.cancellable,
)


def visible_notices(session: Session, user: Any, notice_ids: list[Any]) -> list[PremiumNotice]:
    """Every notice of ``notice_ids`` the user may see, or NotFoundError naming none."""
    if not notice_ids or not all(valid_id(notice_id) for notice_id in notice_ids):
        raise NotFoundError(_("Premium notice not found."))
    ids = list(dict.fromkeys(notice_ids))
    query = select(PremiumNotice).where(PremiumNotice.id.in_(ids))
    scope = visible_organisation_id(user)
    if scope is not None:
        query = query.where(PremiumNotice.organisation_id == scope)
    found = {notice.id: notice for notice in session.scalars(query)}
    if len(found) != len(ids):
        raise NotFoundError(_("Premium notice not found."))
    if len({notice.organisation_id for notice in found.values()}) > 1:
        raise InvalidRequestError(_("Choose the notices of one agency at a time."))
    return [found[notice_id] for notice_id in ids]


def builtin_template_id(session: Session, key: str) -> int:
    template_id = session.scalar(select(Template.id).where(Template.builtin_key == key))
    if template_id is None:
        raise InvalidRequestError(_("The built-in letter template is missing."))
    return template_id


def send_reminder_letters(session: Session, user: Any, notice_ids: list[Any]) -> Job:
    """One reminder letter per contract of the notices due soon, as one batch job.

    Only notices left to pay at the "reminder due" stage (within the agency's reminder
    days of their due date). Those whose client was told since the reminder's moment
    (``due_on - reminder_days``) are left out; ConflictError when none is left.
    """
    notices = visible_notices(session, user, notice_ids)
    early_or_late = [
        notice.number
        for notice in notices
        if notice.status not in OPEN or notice.stage is not UnpaidStage.reminder_due
    ]
    if early_or_late:
        raise ConflictError(
            _(
                "Only notices whose reminder is due get a reminder letter: %(numbers)s.",
                numbers=", ".join(early_or_late),
            )
        )
    organisation = session.get(Organisation, notices[0].organisation_id)
    days = dt.timedelta(days=organisation.reminder_days if organisation else 0)
    today = agency_today(session, notices[0].organisation_id)
    # Set the mark in the batch's transaction: committed with it, or rolled back with it.
    claimed = told.claim(session, {notice.id: notice.due_on - days for notice in notices}, today)
    if not claimed:
        raise ConflictError(_("These clients were already reminded of these notices."))
    return request_batch(
        session,
        user,
        template_id=builtin_template_id(session, REMINDER_KEY),
        policy_ids=list(
            dict.fromkeys(notice.policy_id for notice in notices if notice.id in claimed)
        ),
    )


def send_relances(session: Session, user: Any, notice_ids: list[Any]) -> Job:
    """One relance per contract of the notices, as one batch job; ``relanced_on`` today."""
    notices = visible_notices(session, user, notice_ids)
    closed = [notice.number for notice in notices if notice.status not in OPEN]
    if closed:
        raise ConflictError(
            _("Only notices left to pay get a relance: %(numbers)s.", numbers=", ".join(closed))
        )
    today = agency_today(session, notices[0].organisation_id)
    for notice in notices:
        notice.relanced_on = today  # committed with the batch, or rolled back with it
    return request_batch(
        session,
        user,
        template_id=builtin_template_id(session, RELANCE_KEY),
        policy_ids=list(dict.fromkeys(notice.policy_id for notice in notices)),
    )


def formal_notice_letters(session: Session, user: Any, notice_ids: list[Any]) -> Job:
    """One mise en demeure per contract of the notices, as one batch job, linked to them."""
    notices = visible_notices(session, user, notice_ids)
    early = [
        notice.number
        for notice in notices
        if notice.status not in OPEN or notice.stage not in FORMAL_NOTICE_STAGES
    ]
    if early:
        raise ConflictError(
            _(
                "No formal notice is possible yet for: %(numbers)s.",
                numbers=", ".join(early),
            )
        )
    ids = [notice.id for notice in notices]
    job = request_batch(
        session,
        user,
        template_id=builtin_template_id(session, FORMAL_NOTICE_KEY),
        policy_ids=list(dict.fromkeys(notice.policy_id for notice in notices)),
    )
    # .all(): a Result has keys(), so dict() would read it as a mapping of column names.
    documents = dict(
        session.execute(
            select(Document.policy_id, Document.id).where(Document.job_id == job.id)
        ).all()
    )
    for notice in session.scalars(select(PremiumNotice).where(PremiumNotice.id.in_(ids))):
        notice.formal_notice_document_id = documents.get(notice.policy_id)
    session.commit()
    return job
