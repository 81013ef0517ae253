"""The one "already told" mark of a premium notice, shared by every e-mail about it.

Two paths e-mail a client about a notice: the daily reminders and relances
(app/services/mail/reminders.py) and the task rules that send an e-mail
(app/services/tasks/mailing.py, applied by app/services/tasks/engine.py). Each kept its
own record of what it sent, so a client could get both for the same notice and moment.
Both now consult ``not_told`` and set the mark of the moment: ``reminded_on`` before
the due date, ``relanced_on`` from it on (the printed relances of
app/services/premiums/letters.py set it too). Once a mise en demeure is sent the
registered letter speaks and no mark is shared: a rule's own (rule, record) uniqueness
still keeps it from writing twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from app.models import PremiumNotice


def _before_due(today: dt.date) -> ColumnElement[bool]:
    return PremiumNotice.due_on > today


def _relance_moment(today: dt.date) -> ColumnElement[bool]:
    return and_(PremiumNotice.due_on <= today, PremiumNotice.formal_notice_sent_on.is_(None))


def not_told(today: dt.date) -> ColumnElement[bool]:
    """The notices whose client has not been told yet at ``today``'s moment."""
    return or_(
        and_(_before_due(today), PremiumNotice.reminded_on.is_(None)),
        and_(_relance_moment(today), PremiumNotice.relanced_on.is_(None)),
        and_(PremiumNotice.due_on <= today, PremiumNotice.formal_notice_sent_on.is_not(None)),
    )


def mark(notice: PremiumNotice, today: dt.date) -> None:
    """Set the mark of ``today``'s moment on a notice the caller holds (locked) and tells."""
    if notice.due_on > today:
        notice.reminded_on = today
    elif notice.formal_notice_sent_on is None:
        notice.relanced_on = today


def claim(session: Session, notice_ids: Iterable[int], today: dt.date) -> set[int]:
    """Mark those of ``notice_ids`` not told yet; the ids the caller may now tell.

    Conditional UPDATEs, not a read then a write: on PostgreSQL a notice the daily run
    holds (FOR UPDATE) is waited for, then found marked, so two paths at once still
    tell once. Flushed in the caller's transaction; a rollback (a dry run) undoes it.
    """
    ids = sorted(set(notice_ids))
    if not ids:
        return set()
    claimed: set[int] = set()
    for column, moment in (
        (PremiumNotice.reminded_on, _before_due(today)),
        (PremiumNotice.relanced_on, _relance_moment(today)),
    ):
        statement = (
            update(PremiumNotice)
            .where(PremiumNotice.id.in_(ids), moment, column.is_(None))
            .values({column.key: today})
            .returning(PremiumNotice.id)
        )
        claimed.update(session.scalars(statement))
    past_formal_notice = select(PremiumNotice.id).where(
        PremiumNotice.id.in_(ids),
        PremiumNotice.due_on <= today,
        PremiumNotice.formal_notice_sent_on.is_not(None),
    )
    claimed.update(session.scalars(past_formal_notice))
    return claimed
