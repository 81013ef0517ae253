"""The daily opening of renewal cycles, agency by agency.

The Huey task (app/tasks/renewals.py) and ``flask monassurance open-renewals`` call
``open_everywhere``. Each agency is one transaction: a failure (bad data, a constraint)
rolls back that agency's cycles only, is logged, and the next agency runs. Opening is
idempotent (app/services/renewals/cycles.py), so an agency that failed is caught up by
the next run, and a contract changed during the day already got its cycle at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Organisation
from app.ops.outages import DATABASE_DOWN
from app.services.renewals.cycles import open_due_cycles

log = logging.getLogger(__name__)


@dataclass
class Opening:
    """What one run did: cycles opened per organisation id, and the agencies that failed."""

    opened: dict[int, int] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)  # organisation id -> error class
    dry_run: bool = False

    def summary(self) -> dict[str, object]:
        return {
            "opened": sum(self.opened.values()),
            "organisations": len(self.opened),
            "failed": sorted(self.failed),
            "dry_run": self.dry_run,
        }


def open_everywhere(
    session: Session,
    *,
    today: dt.date | None = None,
    organisation_id: int | None = None,
    dry_run: bool = False,
) -> Opening:
    """Open the due cycles of every agency (or one), committing each agency on its own.

    ``today`` defaults to each agency's own date. ``dry_run`` opens them and rolls each
    agency back: the counts say what a real run would open.
    """
    query = select(Organisation.id).order_by(Organisation.id)
    if organisation_id is not None:
        query = query.where(Organisation.id == organisation_id)
    organisation_ids = list(session.scalars(query))
    session.rollback()  # no transaction held open across agencies
    run = Opening(dry_run=dry_run)
    for org_id in organisation_ids:
        try:
            opened = open_due_cycles(session, organisation_id=org_id, today=today)
            if dry_run:
                session.rollback()
            else:
                session.commit()
        except DATABASE_DOWN:
            session.rollback()
            raise  # every agency would fail alike: the task fails and the worker says so
        except Exception as error:  # noqa: BLE001 (one agency's bad row must not stop the rest)
            session.rollback()
            log.exception("opening renewal cycles failed for organisation %s", org_id)
            run.failed[org_id] = type(error).__name__
            continue
        run.opened.update(opened)
    return run
