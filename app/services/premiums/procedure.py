"""The unpaid-premium procedure on stored notices: stages moved daily, the mise en demeure.

The dates come from app/services/renewals/unpaid.py (L113-3). A daily task moves each
open notice to the stage of the day; nothing is ever cancelled here: the insurer
decides, and the cancellations door records it (ground ``non_payment``).
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.models import (
    NoticeStatus,
    Organisation,
    PremiumNotice,
    UnpaidStage,
)
from app.services import audit
from app.services.commissions.remittances import ensure_not_frozen
from app.services.errors import ConflictError, InvalidRequestError
from app.services.premiums.standing import OPEN, facts_of, refresh_stage, settle
from app.services.renewals.unpaid import (
    UnpaidRefusal,
    formal_notice,
    stage_on,
)
from app.services.timezones import local_today, zone


def move_stages(
    session: Session, *, organisation_id: int | None = None, today: dt.date | None = None
) -> dict[int, int]:
    """The daily run: every open notice of each agency to its stage; {organisation: changed}."""
    query = select(Organisation.id, Organisation.timezone, Organisation.reminder_days)
    if organisation_id is not None:
        query = query.where(Organisation.id == organisation_id)
    changed: dict[int, int] = {}
    for org_id, timezone, reminder_days in session.execute(query).all():
        day = today or local_today(zone(timezone))
        notices = session.scalars(
            select(PremiumNotice)
            .options(joinedload(PremiumNotice.policy), joinedload(PremiumNotice.term))
            .where(
                PremiumNotice.organisation_id == org_id,
                PremiumNotice.status.in_(OPEN),
                PremiumNotice.due_on <= day + dt.timedelta(days=reminder_days),
            )
        )
        count = sum(1 for notice in notices if refresh_stage(notice, day, reminder_days))
        if count:
            changed[org_id] = count
            audit.record(
                session,
                "premium_stages_moved",
                "PremiumNotice",
                None,
                {"count": count, "on": day.isoformat()},
                organisation_id=org_id,
            )
    return changed


def record_formal_notice(
    session: Session,
    notice: PremiumNotice,
    *,
    sent_on: dt.date,
    registered_letter_number: str | None,
    today: dt.date,
) -> PremiumNotice:
    """Record the mise en demeure sent: it fixes the suspension and cancellation dates."""
    if notice.status not in OPEN:
        raise ConflictError(_("Only an unpaid notice can be put in formal notice."))
    if notice.formal_notice_sent_on is not None:
        raise ConflictError(_("A formal notice was already sent for this notice."))
    if sent_on > today:
        raise InvalidRequestError(
            _("A formal notice cannot be sent in the future."),
            {"sent_on": _("Enter today's date or an earlier one.")},
        )
    try:
        dates = formal_notice(facts_of(notice), sent_on)
    except UnpaidRefusal as refusal:
        raise InvalidRequestError(
            _(
                "The formal notice is refused (L113-3): %(reason)s",
                reason=refusal_text(refusal.reason),
            ),
            {"sent_on": refusal.reason},
        ) from None
    notice.formal_notice_sent_on = sent_on
    notice.registered_letter_number = (registered_letter_number or "").strip()[:40] or None
    notice.suspension_on = dates.suspension_on
    notice.cancellable_on = dates.cancellable_on
    notice.stage = UnpaidStage(stage_on(facts_of(notice), today).value)
    settle(notice, today)
    audit.record(
        session,
        "premium_notice.formal_notice",
        "PremiumNotice",
        notice.id,
        {
            "sent_on": sent_on.isoformat(),
            "registered_letter_number": notice.registered_letter_number,
            "suspension_on": dates.suspension_on.isoformat(),
            "cancellable_on": dates.cancellable_on.isoformat(),
        },
        organisation_id=notice.organisation_id,
    )
    return notice


def cancel_notice(session: Session, notice: PremiumNotice, today: dt.date) -> PremiumNotice:
    """Cancel a notice nothing has been paid on (refund or reject payments first)."""
    if notice.status is NoticeStatus.cancelled:
        raise ConflictError(_("This notice is already cancelled."))
    ensure_not_frozen(session, [notice.id])
    if notice.paid_amount > 0:
        raise ConflictError(
            _("Payments are allocated to this notice: reject or reallocate them first.")
        )
    notice.status = NoticeStatus.cancelled
    notice.cancelled_on = today
    audit.record(
        session,
        "premium_notice.cancelled",
        "PremiumNotice",
        notice.id,
        {"number": notice.number, "total": str(notice.total)},
        organisation_id=notice.organisation_id,
    )
    return notice


def refusal_text(reason: str) -> str:
    texts = {
        "life_insurance_excluded": _("life insurance premiums have no suspension (L132-20)"),
        "already_cancelled": _("the notice is cancelled"),
        "already_paid": _("the notice is paid"),
        "before_payment_grace_ends": _("the 10 days that follow the due date are not over"),
    }
    return texts.get(reason, reason)
