"""Strict fields for the JSON bodies of our custom API routes.

marshmallow is lenient where a script's mistake should be loud: ``Integer(strict=True)``
still takes ``true``, ``Boolean`` takes ``"yes"`` and ``1``. These fields take JSON's
own types only, and ids stay within SQL INTEGER so no value reaches the database
that it would refuse with an error (design.md §6). Schemas keep marshmallow's
default ``unknown = RAISE``: an unexpected field answers 422 ``Unknown field.``
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _
from marshmallow import ValidationError, fields, validate

MAX_ID = 2**31 - 1  # our ids are SQL INTEGER


class StrictInteger(fields.Integer):
    """A JSON integer: not a float, not a string, not a boolean."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Id(StrictInteger):
    """The id of a row: a positive integer within SQL INTEGER (any other names no row)."""

    def __init__(self, **kwargs: Any) -> None:
        check = validate.Range(min=1, max=MAX_ID, error=_("Unknown id."))
        super().__init__(validate=check, **kwargs)


class StrictBoolean(fields.Boolean):
    """JSON ``true`` or ``false`` only."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError(str(_("Must be true or false.")))
        return value
