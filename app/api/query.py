"""Checks on the rison arguments of list requests (``?q=``), before FAB runs the query.

FAB validates the shape of ``q`` with a JSON schema but passes values to SQL as
they come: a string compared with a numeric column, an id beyond the column's
range or an unknown enum value answer 500 on PostgreSQL, an unknown operator is
silently ignored and an invalid date silently drops the filter. Here every
filter is checked against its column and its value converted to the column's
type, so the query either means what the client asked or is refused with 400.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Boolean, Column, Date, Enum, Integer, Numeric, String

from app.api.schemas import integer_bound

MAX_PAGE = 1_000_000
MAX_FILTERS = 20
MAX_IN_VALUES = 100
MAX_FILTER_TEXT = 200


class QueryArgumentError(ValueError):
    """A ``q`` argument the API refuses; the message is shown to the client."""


def check_page_args(args: dict[str, Any], max_page_size: int) -> None:
    """Refuse pages FAB would clamp silently or pass on as a negative OFFSET."""
    for name in ("page", "page_size"):
        value = args.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise QueryArgumentError(_("%(name)s must be an integer.", name=name))
    page = args.get("page")
    if page is not None and not 0 <= page <= MAX_PAGE:
        raise QueryArgumentError(_("page must be between 0 and %(max)d.", max=MAX_PAGE))
    page_size = args.get("page_size")
    if page_size is not None and not 1 <= page_size <= max_page_size:
        raise QueryArgumentError(_("page_size must be between 1 and %(max)d.", max=max_page_size))


def check_filters(
    filters: list[dict[str, Any]], columns: dict[str, Column], operators: dict[str, set[str]]
) -> None:
    """Check each filter and replace its value, in place, by one of the column's type.

    ``columns`` maps each searchable name to its column, ``operators`` each
    name to the operators FAB offers for it.
    """
    if len(filters) > MAX_FILTERS:
        raise QueryArgumentError(_("At most %(n)d filters.", n=MAX_FILTERS))
    for item in filters:
        name, operator = item.get("col"), item.get("opr")
        if name not in columns:
            raise QueryArgumentError(_("Filter column %(col)s is not searchable.", col=name))
        if operator not in operators.get(name, set()):
            raise QueryArgumentError(
                _("Filter operator %(opr)s is not allowed on %(col)s.", opr=operator, col=name)
            )
        column = columns[name]
        value = item.get("value")
        if operator in ("in", "not_in"):
            if not isinstance(value, list) or len(value) > MAX_IN_VALUES:
                limit = MAX_IN_VALUES
                message = _("%(opr)s needs a list of at most %(n)d values.", opr=operator, n=limit)
                raise QueryArgumentError(message)
            item["value"] = [_typed(column, name, element) for element in value]
        else:
            item["value"] = _typed(column, name, value)


def _typed(column: Column, name: str, value: Any) -> Any:
    """The filter value converted to the column's type, or QueryArgumentError."""
    try:
        converted = _convert(column, value)
    except (TypeError, ValueError, ArithmeticError):
        converted = None
    if converted is None:
        raise QueryArgumentError(_("Invalid value for filter on %(col)s.", col=name))
    return converted


def _convert(column: Column, value: Any) -> Any:
    sql_type = column.type
    if isinstance(sql_type, Boolean):
        return value if isinstance(value, bool) else None  # rison's !t and !f only
    if isinstance(value, (bool, list, dict)) or value is None:
        return None
    if isinstance(sql_type, Enum):
        allowed = set(sql_type.enums)
        return value if isinstance(value, str) and value in allowed else None
    if isinstance(sql_type, Integer):
        number = value if isinstance(value, int) else int(str(value).strip(), 10)
        bound = integer_bound(column)
        return number if -bound - 1 <= number <= bound else None
    if isinstance(sql_type, Numeric):
        number = decimal.Decimal(str(value))
        limit = decimal.Decimal(10) ** ((sql_type.precision or 38) - (sql_type.scale or 0))
        return number if number.is_finite() and abs(number) < limit else None
    if isinstance(sql_type, Date):
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    if isinstance(sql_type, String):
        text = value if isinstance(value, str) else str(value)
        return text if len(text) <= MAX_FILTER_TEXT else None
    return None
