"""The daily premium run: issue what falls due, move the unpaid stages, agency by agency.

The Huey task (app/tasks/premiums.py) and ``flask monassurance issue-premiums`` call
``run_daily``. Each agency is one transaction: a failure (bad data, a constraint) rolls
back that agency's part only, is logged, and the next agency runs. Both steps are
idempotent (issuing inserts ON CONFLICT DO NOTHING, stages are computed from dates), so
an agency that failed is simply caught up by the next run. Then the reminders and
relances due that day are e-mailed (app/services/mail/reminders.py), in a second
transaction: what was issued stays issued if an e-mail template fails to render.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Organisation
from app.models.base import utcnow
from app.ops.outages import DATABASE_DOWN
from app.services.commissions import expected
from app.services.mail import reminders
from app.services.premiums import issuing, procedure
from app.services.renewals.contracts import agency_today

log = logging.getLogger(__name__)
# Two days: a run that failed or was skipped once is still caught up by the next.
REFRESH_WINDOW = dt.timedelta(days=2)


@dataclass
class DailyRun:
    """What one run did: {organisation id: count}, and the agencies that failed."""

    issued: dict[int, int] = field(default_factory=dict)
    moved: dict[int, int] = field(default_factory=dict)
    reminded: dict[int, int] = field(default_factory=dict)  # reminders e-mailed
    relanced: dict[int, int] = field(default_factory=dict)  # relances e-mailed (per contract)
    failed: dict[int, str] = field(default_factory=dict)  # organisation id -> error class
    dry_run: bool = False

    def summary(self) -> dict[str, object]:
        return {
            "issued": sum(self.issued.values()),
            "moved": sum(self.moved.values()),
            "reminded": sum(self.reminded.values()),
            "relanced": sum(self.relanced.values()),
            "organisations": len(set(self.issued) | set(self.moved)),
            "failed": sorted(self.failed),
            "dry_run": self.dry_run,
        }


def run_daily(
    session: Session,
    *,
    today: dt.date | None = None,
    dry_run: bool = False,
    organisation_id: int | None = None,
) -> DailyRun:
    """Issue due notices then move stages for every agency (or one); commits per agency.

    ``today`` defaults to each agency's own day (its time zone). ``dry_run`` does the
    same work and rolls each agency back: the counts say what a real run would do.
    """
    query = select(Organisation.id).order_by(Organisation.id)
    if organisation_id is not None:
        query = query.where(Organisation.id == organisation_id)
    organisation_ids = list(session.scalars(query))
    session.rollback()  # no transaction held open across agencies
    run = DailyRun(dry_run=dry_run)
    for org_id in organisation_ids:
        try:
            issued = issuing.issue_due(session, organisation_id=org_id, today=today)
            # Issue first: a notice issued today already past its reminder day gets its stage.
            moved = procedure.move_stages(session, organisation_id=org_id, today=today)
            # What was issued, paid or cancelled since the last run earns its commission.
            expected.refresh(session, org_id, changed_since=utcnow() - REFRESH_WINDOW)
            if dry_run:
                sent = reminders.send_due(
                    session, org_id, _day(session, org_id, today), dry_run=True
                )
                session.rollback()
            else:
                session.commit()
                # Its own commit (queue_messages): the messages, then Huey.
                sent = reminders.send_due(session, org_id, _day(session, org_id, today))
        except DATABASE_DOWN:
            session.rollback()
            raise  # every agency would fail the same way: the task fails and Huey says so
        except Exception as error:  # noqa: BLE001 (one agency's bad row must not stop the rest)
            session.rollback()
            log.exception("daily premium run failed for organisation %s", org_id)
            run.failed[org_id] = type(error).__name__
            continue
        run.issued.update(issued)
        run.moved.update(moved)
        if sent.reminders:
            run.reminded[org_id] = sent.reminders
        if sent.relances:
            run.relanced[org_id] = sent.relances
    return run


def _day(session: Session, organisation_id: int, today: dt.date | None) -> dt.date:
    return today or agency_today(session, organisation_id)
