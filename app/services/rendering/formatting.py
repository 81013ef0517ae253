"""Dates, money and numbers as a French or English reader writes them (Babel).

``fr`` renders with fr_FR ("1 janvier 2026", "1 234,50 €"); ``en`` with en_GB
("1 January 2026", "€1,234.50"): our English readers are clients in Europe,
who write the day before the month.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal, InvalidOperation
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from flask_babel import gettext as _

from app.services.rendering.errors import RenderError

LOCALES = {"fr": "fr_FR", "en": "en_GB"}
DATE_STYLES = ("short", "medium", "long", "full")
# Amounts beyond this are a template mistake (or an attempt to print a huge number).
MAX_AMOUNT = Decimal("1e15")


def babel_locale(locale: str | None) -> Locale:
    """The Babel locale for a template locale ("fr", "en", or a full one such as "fr_BE")."""
    return _parsed_locale(locale or "fr")


@functools.lru_cache(maxsize=32)
def _parsed_locale(locale: str) -> Locale:
    # Parsed once: Locale.parse costs more than the formatting itself.
    name = LOCALES.get(locale.lower(), locale)
    try:
        return Locale.parse(name)
    except (UnknownLocaleError, ValueError, TypeError):
        raise RenderError(_("Unknown locale '%(locale)s'.", locale=locale)) from None


def as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise TypeError(_("|date expects a date, got %(value)s", value=repr(value)[:40]))


def format_date_value(value: Any, style: str, locale: str) -> str:
    """``style``: short, medium, long, full, or a Babel pattern such as "dd/MM/yyyy"."""
    if value is None or value == "":
        return ""
    if not isinstance(style, str) or len(style) > 40:
        raise ValueError(_("|date takes a style (short, medium, long, full) or a short pattern."))
    return format_date(as_date(value), style, locale=babel_locale(locale))


def _as_decimal(value: Any, filter_name: str) -> Decimal:
    if isinstance(value, bool):
        raise TypeError(
            _("|%(filter)s expects a number, got %(value)s", filter=filter_name, value=repr(value))
        )
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise TypeError(
            _(
                "|%(filter)s expects a number, got %(value)s",
                filter=filter_name,
                value=repr(value)[:40],
            )
        ) from None
    if not number.is_finite() or abs(number) >= MAX_AMOUNT:
        raise ValueError(
            _(
                "|%(filter)s: %(value)s is not a printable amount",
                filter=filter_name,
                value=repr(value)[:40],
            )
        )
    return number


def format_money(value: Any, currency: str | None, locale: str) -> str:
    if value is None or value == "":
        return ""
    code = (currency or "EUR").upper()
    if len(code) != 3 or not code.isalpha():
        raise ValueError(
            _(
                "|money expects an ISO currency code such as EUR, got %(currency)s",
                currency=repr(currency)[:20],
            )
        )
    return format_currency(_as_decimal(value, "money"), code, locale=babel_locale(locale))


def format_number(value: Any, decimals: int | None, locale: str) -> str:
    if value is None or value == "":
        return ""
    number = _as_decimal(value, "number")
    if decimals is None:
        return format_decimal(number, locale=babel_locale(locale))
    if not isinstance(decimals, int) or not 0 <= decimals <= 10:
        raise ValueError(_("|number takes from 0 to 10 decimals."))
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(number, format=pattern, locale=babel_locale(locale))
