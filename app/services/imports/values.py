"""Turning one cell (text from a CSV, or a typed XLSX value) into the value a model expects.

Each parser returns None for an empty cell and raises CellError with a message for
the user; the models' own @validates checks run afterwards on the parsed value.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from app.services.vocabulary import ENUM_LABELS

FRENCH_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+)?$")
AMOUNT = re.compile(r"^-?[0-9]+(?:[.,][0-9]+)?$")


class CellError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a postal code or a SIREN typed as a number in Excel
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()
    value = str(value).strip()
    return value or None


def date(value: Any) -> dt.date | None:
    """A date cell, DD/MM/YYYY (French) or YYYY-MM-DD (ISO) text."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raw = text(value)
    if raw is None:
        return None
    match = FRENCH_DATE.match(raw)
    parts = (match.group(3), match.group(2), match.group(1)) if match else None
    if parts is None and (match := ISO_DATE.match(raw)):
        parts = (match.group(1), match.group(2), match.group(3))
    try:
        if parts is None:
            raise ValueError(raw)
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise CellError(_("Not a date: use DD/MM/YYYY or YYYY-MM-DD.")) from None


def amount(value: Any) -> Decimal | None:
    """An amount with a decimal comma or point; spaces as thousands separators are allowed."""
    if isinstance(value, bool):
        raise CellError(_("Not an amount."))
    if isinstance(value, int | float | Decimal):
        result = Decimal(str(value))
    else:
        raw = text(value)
        if raw is None:
            return None
        raw = re.sub(r"[\s\u00a0\u202f]", "", raw).removesuffix("€")
        if not AMOUNT.match(raw):
            raise CellError(_("Not an amount: write it like 1234,56."))
        try:
            result = Decimal(raw.replace(",", "."))
        except InvalidOperation:
            raise CellError(_("Not an amount: write it like 1234,56.")) from None
    if not result.is_finite():
        raise CellError(_("Not an amount."))
    return result


def choice(enum_class: type[enum.Enum]) -> Callable[[Any], enum.Enum | None]:
    """A parser accepting a member's stored value or its screen label, in English or French."""
    accepted: dict[str, enum.Enum] = {}

    def parse(value: Any) -> enum.Enum | None:
        raw = text(value)
        if raw is None:
            return None
        if not accepted:
            accepted.update(_accepted_names(enum_class))
        member = accepted.get(normalise(raw))
        if member is None:
            allowed = ", ".join(member.value for member in enum_class)
            raise CellError(_("Unknown value: use one of %(values)s.", values=allowed))
        return member

    return parse


def _accepted_names(enum_class: type[enum.Enum]) -> dict[str, enum.Enum]:
    # Labels are lazy strings: rendered once per language, inside the app context.
    names = {normalise(member.value): member for member in enum_class}
    for locale in ("en", "fr"):
        with force_locale(locale):
            for member in enum_class:
                names.setdefault(normalise(str(ENUM_LABELS[enum_class][member])), member)
    return names


def normalise(name: str) -> str:
    """Lower case, no accents, one space between words: 'Date d’effet ' == 'date d'effet'."""
    decomposed = unicodedata.normalize("NFKD", str(name))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    plain = plain.replace("’", "'").replace("*", " ")
    return " ".join(re.sub(r"[\s_\-]+", " ", plain).split())
