"""Writing a validated import: every row in one transaction, with one audit entry for the import.

The flush listener of app.services.audit also records each created or changed
client and policy, as for any other door. A dry run goes through exactly the same
writes and rolls them back, so it proves the database would accept them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app import metrics
from app.models.base import ModelValidationError
from app.services import audit
from app.services.batches import in_lists
from app.services.imports.common import ImportRefusedError
from app.services.imports.rows import MODELS, Validation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    created: int
    updated: int
    unchanged: int
    applied: bool


def apply(
    session: Session,
    validation: Validation,
    organisation_id: int,
    *,
    file_name: str,
    sha256: str,
    dry_run: bool,
) -> Outcome:
    """Upsert every row, or none: any invalid row refuses the whole import."""
    if not validation.ok:
        raise ImportRefusedError(_("The file has errors: nothing was imported."))
    model = MODELS[validation.kind]
    ids = [plan.existing_id for plan in validation.rows if plan.existing_id is not None]
    existing = {}
    for chunk in in_lists(ids):
        query = select(model).where(model.organisation_id == organisation_id, model.id.in_(chunk))
        existing.update({row.id: row for row in session.scalars(query)})
    created = updated = 0
    try:
        # Resolved once: the flush listener would otherwise look the user up for every row.
        with audit.acting_as(audit.current_actor()), session.no_autoflush:
            for plan in validation.rows:
                row = existing.get(plan.existing_id) if plan.existing_id else None
                if row is None:
                    row = model(organisation_id=organisation_id)
                    session.add(row)
                    created += 1
                for name, value in plan.values.items():
                    if name == "email" and plan.existing_id:
                        continue  # the key matched without regard to case: keep the stored one
                    setattr(row, name, value)
                if plan.existing_id and session.is_modified(row):
                    updated += 1
            session.flush()
        unchanged = len(validation.rows) - created - updated
        if not dry_run:
            audit.record(
                session,
                "import",
                model.__name__,
                None,
                {
                    "file_name": file_name,
                    "sha256": sha256,
                    "rows": len(validation.rows),
                    "created": created,
                    "updated": updated,
                    "unchanged": unchanged,
                },
                organisation_id=organisation_id,
            )
            session.commit()
        else:
            session.rollback()
    except (ModelValidationError, SQLAlchemyError):
        # A row changed by someone else since the validation (e.g. the same policy number
        # created meanwhile): nothing is kept, the user uploads the file again.
        session.rollback()
        log.info("import refused by the database", exc_info=True)
        raise ImportRefusedError(
            _(
                "The database refused the import (did the data change meanwhile?): "
                "nothing was imported."
            )
        ) from None
    if not dry_run:
        counter = (
            metrics.CLIENTS_CREATED if model.__name__ == "Client" else metrics.POLICIES_CREATED
        )
        counter.labels(channel="import").inc(created)
    return Outcome(created=created, updated=updated, unchanged=unchanged, applied=not dry_run)
