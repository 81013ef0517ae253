"""Tighten the marshmallow schemas FAB generates from our models.

FAB derives each field from its column, but leaves holes a client can fall
into (design.md §6): foreign-key columns become ``Inferred`` fields that accept
objects and lists, ``Numeric`` becomes a float-looking number in the spec while
Flask sends a string, integers are not bounded by the column's range, text
columns have no length limit, and columns with a default are still required.
``harden_schema`` rebuilds the affected fields from the table definition, so a
new column gets the same treatment without code here.
"""

from __future__ import annotations

import copy
import datetime as dt
import decimal
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _
from marshmallow import Schema, ValidationError, fields, validate
from marshmallow_sqlalchemy import SQLAlchemyAutoSchema
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    Numeric,
    SmallInteger,
    String,
    inspect,
)

# Bounds of the SQL integer types; PostgreSQL refuses anything beyond them.
INTEGER_BOUNDS = {
    SmallInteger: 2**15 - 1,
    BigInteger: 2**63 - 1,
    Integer: 2**31 - 1,
}
# Text columns have no length in SQL; keep a bound so one request cannot store megabytes.
TEXT_MAX_LENGTH = 10_000


def integer_bound(column: Column) -> int:
    """The largest value a column of this integer type can hold."""
    for sql_type, bound in INTEGER_BOUNDS.items():
        if isinstance(column.type, sql_type):
            return bound
    return INTEGER_BOUNDS[Integer]


class DecimalString(fields.Decimal):
    """An exact amount: sent as a JSON string ("420.50"), read from a string or a number.

    A JSON number is read through its decimal text, so 12.3 stays 12.3; floats
    are never used. Amounts with more decimals than the column keeps are refused
    rather than rounded, so what a client sends is what is stored.
    """

    def __init__(self, *, precision: int, scale: int, **kwargs: Any) -> None:
        metadata = {"type": "string", "format": "decimal", "example": "420.50"}
        metadata.update(kwargs.pop("metadata", {}))
        super().__init__(as_string=True, allow_nan=False, metadata=metadata, **kwargs)
        self.precision = precision
        self.scale = scale

    def _validated(self, value: Any) -> decimal.Decimal:
        if isinstance(value, str) and not value.strip():
            raise self.make_error("invalid")
        number = super()._validated(value)
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -self.scale:
            raise ValidationError(str(_("At most %(n)d decimal places.", n=self.scale)))
        whole_digits = self.precision - self.scale
        if number.adjusted() >= whole_digits:
            message = _("At most %(n)d digits before the decimal point.", n=whole_digits)
            raise ValidationError(str(message))
        return number

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        # Plain notation with the column's decimals: "100000.00", never "1E+5".
        quantum = decimal.Decimal(1).scaleb(-self.scale)
        return format(decimal.Decimal(value).quantize(quantum), "f")


class UtcDateTime(fields.DateTime):
    """Our timestamps are stored as naive UTC; say so: "2026-01-31T09:30:00+00:00"."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return super()._serialize(value, attr, obj, **kwargs)


def harden_schema(schema: Schema, model: type, *, loads: bool, partial: bool = False) -> Schema:
    """Return a schema like ``schema`` whose column fields follow their SQL definition.

    ``loads`` is True for the POST/PUT schemas: their integer fields become
    strict and bounded, text gets a maximum length, and columns with a default
    may be left out. ``partial`` (PUT) makes every field optional: FAB fills the
    missing ones from the stored row, so the spec must not call them required.

    Only schemas FAB generated are changed: a schema an API declares itself
    already says what its author meant.
    """
    if not isinstance(schema, SQLAlchemyAutoSchema):
        return schema
    table_columns = {column.key: column for column in inspect(model).columns}
    overrides: dict[str, fields.Field] = {}
    for name, field in schema.fields.items():
        column = table_columns.get(name)
        replacement = None
        if column is not None:
            replacement = _field_for_column(column, field, loads=loads)
        if partial and (replacement or field).required:
            replacement = copy.copy(replacement or field)
            replacement.required = False
        if replacement is not None:
            overrides[name] = replacement
    if not overrides:
        return schema
    hardened = type(type(schema).__name__, (type(schema),), overrides)
    return hardened()


def describe_fields(schema: Schema | None, descriptions: Mapping[str, Any]) -> None:
    """Give the fields their ``description_columns`` text, so the OpenAPI spec says what
    ``_info`` says (a lazy string: the spec is written in the reader's language)."""
    if schema is None:
        return
    for name, field in schema.fields.items():
        if descriptions.get(name):
            field.metadata = {**field.metadata, "description": descriptions[name]}


def _field_for_column(column: Column, field: fields.Field, *, loads: bool) -> fields.Field | None:
    optional = column.nullable or column.default is not None or column.server_default is not None
    common: dict[str, Any] = {
        "required": loads and not optional,
        "allow_none": bool(column.nullable),
        "dump_only": field.dump_only,
    }
    if isinstance(column.type, Numeric):
        return DecimalString(
            precision=column.type.precision or 38, scale=column.type.scale or 0, **common
        )
    if isinstance(column.type, DateTime):
        return UtcDateTime(**common)
    if isinstance(column.type, Integer) and not column.primary_key:
        bound = integer_bound(column)
        if column.foreign_keys:
            # A reference outside the column's range cannot name a row.
            check = validate.Range(min=1, max=bound, error=str(_("Unknown id.")))
        else:
            check = validate.Range(min=-bound - 1, max=bound)
        return fields.Integer(strict=True, validate=check, **common)
    if loads and isinstance(field, fields.String) and isinstance(column.type, String):
        length = column.type.length or TEXT_MAX_LENGTH
        return fields.String(validate=validate.Length(max=length), **common)
    relax = loads and optional and field.required
    # A nullable column FAB maps itself (an enum, a date) may hold null: the spec says so.
    nullable = bool(column.nullable) and not field.allow_none
    if relax or nullable:
        relaxed = copy.copy(field)
        relaxed.required = field.required and not relax
        relaxed.allow_none = field.allow_none or nullable
        return relaxed
    return None
