"""The "already told" mark of a premium notice, shared by every e-mail about it.

Two paths e-mail a client about a notice: the daily reminders and relances
(app/services/mail/reminders.py) and the task rules that send an e-mail
(app/services/tasks/mailing.py, applied by app/services/tasks/engine.py). Each kept its
own record of what it sent, so a client could get both for the same notice and moment.

The mark is the day the client was last told at the notice's stage: ``reminded_on``
before the due date, ``relanced_on`` from it until a mise en demeure (the printed
relances of app/services/premiums/letters.py set it too). Each path has its own
*moment* per notice: a rule's is its anchor plus its offset (triggers.py), the daily
reminder's ``due_on - reminder_days``, the daily relance's ``due_on + relance_days``.
A notice is already told for a path when its mark is on or after that path's moment:
two paths whose moments have both come tell once (the second finds the first's mark),
while a deliberate sequence (a rule at due + 5, another at due + 20, or the daily
relance then a later rule) tells at each step, since the earlier mark predates the
later moment. Once a mise en demeure is sent the registered letter speaks and no mark is
shared: a rule's own (rule, record) uniqueness still keeps it from writing twice.

The moments are computed in Python from the loaded rows (no SQL date arithmetic, which
differs between SQLite and PostgreSQL); SQL narrows with ``maybe_untold``, which every
untold notice meets because a path only asks once its moment has come (moment <= today).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Protocol

from sqlalchemy import ColumnElement, and_, case, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.models import PremiumNotice


class Marked(Protocol):
    """A notice, or a row selecting these columns of it."""

    @property
    def due_on(self) -> dt.date: ...
    @property
    def formal_notice_sent_on(self) -> dt.date | None: ...
    @property
    def reminded_on(self) -> dt.date | None: ...
    @property
    def relanced_on(self) -> dt.date | None: ...


def _before_due(today: dt.date) -> ColumnElement[bool]:
    return PremiumNotice.due_on > today


def _relance_stage(today: dt.date) -> ColumnElement[bool]:
    return and_(PremiumNotice.due_on <= today, PremiumNotice.formal_notice_sent_on.is_(None))


def _past_formal_notice(today: dt.date) -> ColumnElement[bool]:
    return and_(PremiumNotice.due_on <= today, PremiumNotice.formal_notice_sent_on.is_not(None))


def _older(column: InstrumentedAttribute[dt.date | None], day: dt.date) -> ColumnElement[bool]:
    return or_(column.is_(None), column < day)


def maybe_untold(today: dt.date) -> ColumnElement[bool]:
    """SQL: the notices not told today at their stage (``told_since`` decides the rest).

    Every path's moment is on or before ``today``, so a notice told since it has a mark
    of ``today`` at most: those marked today are told for every path and left out here.
    """
    return or_(
        and_(_before_due(today), _older(PremiumNotice.reminded_on, today)),
        and_(_relance_stage(today), _older(PremiumNotice.relanced_on, today)),
        _past_formal_notice(today),
    )


def told_since(notice: Marked, today: dt.date, moment: dt.date) -> bool:
    """Whether the client was told about ``notice`` at its stage on or after ``moment``."""
    if notice.due_on > today:
        mark_on = notice.reminded_on
    elif notice.formal_notice_sent_on is None:
        mark_on = notice.relanced_on
    else:
        return False  # the mise en demeure speaks: no shared mark
    return mark_on is not None and mark_on >= moment


def mark(notice: PremiumNotice, today: dt.date) -> None:
    """Set the mark of ``today``'s stage on a notice the caller holds (locked) and tells."""
    if notice.due_on > today:
        notice.reminded_on = today
    elif notice.formal_notice_sent_on is None:
        notice.relanced_on = today


def claim(session: Session, moments: Mapping[int, dt.date], today: dt.date) -> set[int]:
    """Mark those of the notices (id -> the caller's moment) not told since their moment.

    Returns the ids the caller may now tell. Conditional UPDATEs, not a read then a write:
    on PostgreSQL a notice the daily run holds (FOR UPDATE) is waited for, then found
    marked today (on or after any moment that has come), so two paths at once still tell
    once. One UPDATE per distinct moment (notices due the same day share one), plus one
    SELECT for the notices past a mise en demeure. Flushed in the caller's transaction; a
    rollback (a dry run) undoes it.
    """
    by_moment: dict[dt.date, list[int]] = {}
    for notice_id, moment in moments.items():
        by_moment.setdefault(moment, []).append(notice_id)
    if not by_moment:
        return set()
    before_due, relance = _before_due(today), _relance_stage(today)
    claimed: set[int] = set()
    for moment, ids in sorted(by_moment.items()):
        # The stage is the row's own (read under the UPDATE's lock): one statement sets
        # whichever column the notice's stage uses, and only if older than the moment.
        statement = (
            update(PremiumNotice)
            .where(
                PremiumNotice.id.in_(sorted(ids)),
                or_(
                    and_(before_due, _older(PremiumNotice.reminded_on, moment)),
                    and_(relance, _older(PremiumNotice.relanced_on, moment)),
                ),
            )
            .values(
                reminded_on=case((before_due, today), else_=PremiumNotice.reminded_on),
                relanced_on=case((relance, today), else_=PremiumNotice.relanced_on),
            )
            .returning(PremiumNotice.id)
            .execution_options(synchronize_session="fetch")
        )
        claimed.update(session.scalars(statement))
    past_formal_notice = select(PremiumNotice.id).where(
        PremiumNotice.id.in_(sorted(moments)), _past_formal_notice(today)
    )
    claimed.update(session.scalars(past_formal_notice))
    return claimed
