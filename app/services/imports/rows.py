"""Validating every row: parse the cells, run the models' own checks, resolve the references.

The same rules as the screens and the API apply because the same code runs: each
value goes through the model's @validates hooks on a transient row (never added to
the session) and policies through ``check_invariants``. References (a policy's
client and insurer) and the upsert keys are resolved by organisation-scoped queries
in app.services.imports.references.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.models import Client, Policy
from app.models.base import ModelValidationError
from app.services.imports import references
from app.services.imports.columns import Mapping, map_columns
from app.services.imports.common import RowError, Table
from app.services.imports.values import CellError

MODELS: dict[str, type] = {"clients": Client, "policies": Policy}
# Cells that name another row instead of holding a value of the imported one.
REFERENCE_FIELDS = {"client_email", "insurer"}


@dataclass
class RowPlan:
    row: int
    key: str  # the upsert key: the client's e-mail (lower case) or the policy number
    values: dict[str, Any]  # model attributes, as the model's checks left them
    references: dict[str, str] = field(default_factory=dict)
    existing_id: int | None = None


@dataclass
class Validation:
    kind: str
    mapping: Mapping
    total_rows: int
    rows: list[RowPlan] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.mapping.ok and not self.errors

    @property
    def to_create(self) -> int:
        return sum(1 for plan in self.rows if plan.existing_id is None)

    @property
    def to_update(self) -> int:
        return sum(1 for plan in self.rows if plan.existing_id is not None)


def validate(session: Session, kind: str, table: Table, organisation_id: int) -> Validation:
    """Check every row of the table against the models and the organisation's rows."""
    mapping = map_columns(kind, table.headers)
    result = Validation(kind=kind, mapping=mapping, total_rows=len(table.rows))
    if not mapping.ok:
        return result
    header_of = {column.field.name: column.header for column in mapping.used if column.field}
    first_row_of_key: dict[str, int] = {}
    for number, cells in table.rows:
        plan, errors = _check_row(kind, mapping, number, cells, header_of, organisation_id)
        if plan is not None and plan.key in first_row_of_key:
            errors.append(
                RowError(
                    number,
                    header_of["email" if kind == "clients" else "number"],
                    _(
                        "Same key as row %(row)d: each row must be unique.",
                        row=first_row_of_key[plan.key],
                    ),
                )
            )
        elif plan is not None:
            first_row_of_key[plan.key] = number
        if errors:
            result.errors.extend(errors)
        elif plan is not None:
            result.rows.append(plan)
    resolve = references.resolve_clients if kind == "clients" else references.resolve_policies
    result.errors.extend(resolve(session, organisation_id, result.rows, header_of))
    failed = {error.row for error in result.errors}
    result.rows = [plan for plan in result.rows if plan.row not in failed]
    result.errors.sort(key=lambda error: error.row)
    return result


def _check_row(
    kind: str,
    mapping: Mapping,
    number: int,
    cells: list[Any],
    header_of: dict[str, str],
    organisation_id: int,
) -> tuple[RowPlan | None, list[RowError]]:
    errors: list[RowError] = []
    parsed: dict[str, Any] = {}
    for column in mapping.used:
        assert column.field is not None
        cell = cells[column.index] if column.index < len(cells) else None
        try:
            value = column.field.parse(cell)
        except CellError as error:
            errors.append(RowError(number, column.header, error.message))
            continue
        if value is None and column.field.required:
            errors.append(RowError(number, column.header, _("This field is required.")))
            continue
        parsed[column.field.name] = value
    refs = {name: str(parsed.pop(name)).strip() for name in REFERENCE_FIELDS if parsed.get(name)}
    model_values, model_errors = _run_model_checks(MODELS[kind], parsed, organisation_id)
    for name, message in model_errors.items():
        errors.append(RowError(number, header_of.get(name, ""), message))
    if errors:
        return None, errors
    key_field = "email" if kind == "clients" else "number"
    key = str(model_values[key_field])
    key = key.lower() if kind == "clients" else key
    if "client_email" in refs:
        refs["client_email"] = refs["client_email"].lower()
    return RowPlan(number, key, model_values, refs), []


def _run_model_checks(
    model: type, parsed: dict[str, Any], organisation_id: int
) -> tuple[dict[str, Any], dict[str, str]]:
    """Set each value on a transient row, field by field, so every error is reported."""
    probe = model()
    probe.organisation_id = organisation_id
    columns = model.__table__.columns
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in parsed.items():
        if value is None and not columns[name].nullable:
            continue  # an empty optional cell with a default: the default (or the current value)
        try:
            setattr(probe, name, value)
        except ModelValidationError as error:
            errors.update(error.errors)
            continue
        values[name] = getattr(probe, name)
    check = getattr(probe, "check_invariants", None)
    if check is not None and not errors:
        try:
            check()
        except ModelValidationError as error:
            errors.update(error.errors)
    return values, errors
