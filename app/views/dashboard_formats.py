"""What every dashboard card shares: numbers, money and dates in the reader's language
(formatted like the policy list), the month axis of the monthly charts, and the widths
and insurer count the cards are drawn with."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_compact_currency, format_currency, format_decimal, format_percent
from flask_babel import get_locale

INSURERS_SHOWN = 12
# viewBox widths matched to the cards' Bootstrap columns, so text keeps a readable size.
NARROW = 320
HALF = 480


# A year of days holds thousands of small counts and dates to format. Babel parses
# its locale on every call and flask_babel looks the locale up through the request
# context: most of the page's time before (measured with cProfile). So the locale is
# read once per page and the few distinct values are formatted once per process.
@lru_cache(maxsize=8192)
def _number(value: Decimal | int, locale: str) -> str:
    return format_decimal(value, locale=locale)


@lru_cache(maxsize=8192)
def _date(day: dt.date, pattern: str, locale: str) -> str:
    return format_date(day, pattern, locale=locale)


class Formats:
    """Numbers, money and dates in one locale (the reader's), as the policy list shows them."""

    def __init__(self, locale: str) -> None:
        self.locale = locale

    @classmethod
    def current(cls) -> Formats:
        return cls(str(get_locale() or "fr"))

    def number(self, value: Decimal | int) -> str:
        return _number(value, self.locale)

    def money(self, amount: Decimal | int, currency: str) -> str:
        return format_currency(amount, currency, locale=self.locale)

    def compact_money(self, amount: Decimal | int, currency: str) -> str:
        """12,3 k € or 104 M € for axis ticks and column tops: three figures at most, so
        the text fits over a column (the tooltip holds the exact amount)."""
        if abs(amount) < 1000:
            return format_compact_currency(
                round(amount), currency, locale=self.locale, fraction_digits=0
            )
        unit = 1000
        while abs(amount) >= unit * 1000 and unit < 10**12:
            unit *= 1000
        digits = 0 if abs(amount) / unit >= 100 else 1
        return format_compact_currency(amount, currency, locale=self.locale, fraction_digits=digits)

    def date(self, day: dt.date, pattern: str) -> str:
        return _date(day, pattern, self.locale)

    def percent(self, value: Decimal) -> str:
        """87,5 % from 87.5 (one decimal, none when it is 0: 100 %, not 100,0 %)."""
        share = (value / 100).quantize(Decimal("0.001")).normalize()
        return format_percent(share, locale=self.locale, decimal_quantization=False)


def month_axis(fmt: Formats, months: list[dt.date]) -> tuple[list[str], list[str], list[str]]:
    """Labels, the year under the first month and each January, and tooltip titles."""
    # "janv." over "2026": "janv. 26" under each of 12 columns would not fit side by side.
    labels = [fmt.date(month, "MMM") for month in months]
    years = [
        fmt.date(month, "yyyy") if index == 0 or month.month == 1 else ""
        for index, month in enumerate(months)
    ]
    return labels, years, [fmt.date(month, "MMMM yyyy") for month in months]
