"""Import of clients and policies from CSV or XLSX: read, map, validate, then upsert.

The doors (app/views/imports.py, the API) call only the functions below:
``stage`` keeps the upload server-side, ``analyse`` reads and validates it (writing
nothing), ``run`` writes it in one transaction (or rolls back for a dry run); ``run_bytes``
does all of it in one call for the API.
Imported rows always belong to the importer's organisation; an account without
one (a SUPERADMIN by default) is refused, as on the add screens.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.services.imports.columns import FIELDS, recogniser
from app.services.imports.common import KINDS, ImportRefusedError, Limits, RowError
from app.services.imports.reading import read_table, too_large_message
from app.services.imports.rows import Validation, validate
from app.services.imports.staging import Staged, Staging
from app.services.imports.upsert import Outcome, apply
from app.services.scope import organisation_for_new_rows

__all__ = [
    "FIELDS",
    "KINDS",
    "ImportRefusedError",
    "Limits",
    "Outcome",
    "RowError",
    "Staged",
    "Validation",
    "analyse",
    "limits",
    "run",
    "run_bytes",
    "stage",
    "staging",
    "target_organisation",
    "too_large_message",
]


def limits() -> Limits:
    return Limits.from_config(current_app.config)


def staging() -> Staging:
    config = current_app.config
    return Staging(config["DATA_DIR"], int(config.get("IMPORT_STAGING_SECONDS", 3600)))


def target_organisation(user: Any) -> int:
    """The organisation imported rows go to: always the importer's own."""
    organisation_id = organisation_for_new_rows(user)
    if organisation_id is None:
        raise ImportRefusedError(
            _("Your account belongs to no agency: rows are imported into the importer's agency.")
        )
    return organisation_id


def stage(data: bytes, file_name: str, kind: str, user: Any) -> Staged:
    """Refuse what cannot be read at all, then keep the file for the preview and the import."""
    organisation_id = target_organisation(user)
    read_table(data, file_name, limits(), recogniser(kind))
    return staging().put(
        data, kind=kind, user_id=user.id, organisation_id=organisation_id, file_name=file_name
    )


def analyse(session: Session, staged: Staged) -> Validation:
    """Map the columns and check every row; writes nothing."""
    data = staging().read(staged)
    return analyse_bytes(session, staged.kind, data, staged.file_name, staged.organisation_id)


def analyse_bytes(
    session: Session, kind: str, data: bytes, file_name: str, organisation_id: int
) -> Validation:
    table = read_table(data, file_name, limits(), recogniser(kind))
    return validate(session, kind, table, organisation_id)


def run(session: Session, staged: Staged, *, dry_run: bool) -> tuple[Validation, Outcome | None]:
    """Validate again (the data may have changed since the preview), then upsert or roll back."""
    validation = analyse(session, staged)
    if not validation.ok:
        return validation, None
    outcome = apply(
        session,
        validation,
        staged.organisation_id,
        file_name=staged.file_name,
        sha256=staged.sha256,
        dry_run=dry_run,
    )
    if not dry_run:
        staging().discard(staged.token)
    return validation, outcome


def run_bytes(
    session: Session, kind: str, data: bytes, file_name: str, user: Any, *, dry_run: bool
) -> tuple[Validation, Outcome | None]:
    """The API's one-request import: read, check every row, then upsert or roll back."""
    organisation_id = target_organisation(user)
    validation = analyse_bytes(session, kind, data, file_name, organisation_id)
    if not validation.ok:
        return validation, None
    digest = hashlib.sha256(data).hexdigest()
    outcome = apply(
        session, validation, organisation_id, file_name=file_name, sha256=digest, dry_run=dry_run
    )
    return validation, outcome
