"""Checks run before a business row is written, whatever door it came through."""

from __future__ import annotations

import functools
from typing import Any

from flask_babel import lazy_gettext as _
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.models.base import ModelValidationError, OrganisationOwned


def check_references(session: Session, item: Any) -> None:
    """Refuse foreign ids that do not exist in the item's own organisation.

    Reading the mapper's foreign keys keeps this generic: a new relation between
    organisation-owned models is checked without code here.
    """
    references, plain = _references(type(item))
    errors: dict[str, str] = {}
    for key, target in references.items():
        value = getattr(item, key)
        if value is None or key == "organisation_id":
            continue
        if target is None or not _agency_scoped(target, plain=key in plain):
            continue
        query = select(target.id).where(
            target.id == value, target.organisation_id == item.organisation_id
        )
        if session.execute(query).first() is None:
            errors[key] = str(_("Unknown id %(id)s.", id=value))
    if errors:
        raise ModelValidationError(errors)


@functools.cache
def _references(model: type) -> tuple[dict[str, type | None], frozenset[str]]:
    # The mapping is fixed once mappers are configured: read it once per model, not per row.
    mapper = inspect(model)
    references: dict[str, type | None] = {}
    for column in mapper.columns:
        for foreign_key in column.foreign_keys:
            references[column.key] = _model_for_table(mapper, foreign_key.column.table.name)
    # Many-to-one relations on a plain column (no database reference: see migration 0014).
    plain: set[str] = set()
    for relation in mapper.relationships:
        if relation.direction.name == "MANYTOONE":
            for column in relation.local_columns:
                if column.key not in references:
                    plain.add(column.key)
                references.setdefault(column.key, relation.mapper.class_)
    return references, frozenset(plain)


def _agency_scoped(model: type, *, plain: bool) -> bool:
    # Users carry their agency too: a contract's manager (a plain column) is one of the
    # agency's own people. Referencing columns to users (authors, SET NULL) stay unchecked:
    # a SUPERADMIN, of no agency, writes shared rows.
    from app.models import AppUser

    return issubclass(model, OrganisationOwned) or (plain and model is AppUser)


def validate_item(session: Session, item: Any) -> None:
    """Run the model's own invariants, then the cross-organisation reference checks."""
    errors: dict[str, str] = {}
    check = getattr(item, "check_invariants", None)
    for step in (check, lambda: check_references(session, item)):
        if step is None:
            continue
        try:
            step()
        except ModelValidationError as error:
            errors.update(error.errors)
    if errors:
        raise ModelValidationError(errors)


def _model_for_table(mapper: Any, table_name: str) -> type | None:
    for candidate in mapper.registry.mappers:
        if candidate.local_table is not None and candidate.local_table.name == table_name:
            return candidate.class_
    return None
