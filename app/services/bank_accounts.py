"""IBAN, BIC and SEPA creditor identifiers: checked, normalised and masked.

Pure functions (schwifty for IBAN and BIC, the ISO 7064 MOD 97-10 check for creditor
identifiers), so models, services and the audit trail share one definition of a valid
account and of what of it may be shown. An IBAN is personal data that lets money be
taken: lists, logs and audit diffs show its country, check digits and last four only.
"""

from __future__ import annotations

import re

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

MASK_CHARACTER = "•"
_SPACES = re.compile(r"\s+")
# ISO 20022 / EPC: CC + 2 check digits + 3-character business code + national identifier.
_CREDITOR_IDENTIFIER = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}$")
# IBANs inside free text (a log line): two letters, two digits, then 11 to 30 alphanumerics.
_IBAN_IN_TEXT = re.compile(r"\b[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]){11,30}\b")


class BankDetailsError(ValueError):
    """A malformed IBAN, BIC or creditor identifier; the message says what is wrong."""


def compact(value: str | None) -> str:
    return _SPACES.sub("", value or "").upper()


def valid_iban(value: str | None) -> str:
    """The IBAN in its compact form, or BankDetailsError (length, country, checksum)."""
    text = compact(value)
    if not text:
        raise BankDetailsError("empty")
    try:
        return IBAN(text).compact
    except SchwiftyException as error:
        raise BankDetailsError(str(error)) from None


def valid_bic(value: str | None) -> str | None:
    """The BIC (8 or 11 characters), None when empty, or BankDetailsError."""
    text = compact(value)
    if not text:
        return None
    try:
        return str(BIC(text).compact)
    except SchwiftyException as error:
        raise BankDetailsError(str(error)) from None


def valid_creditor_identifier(value: str | None) -> str:
    """A SEPA creditor identifier (ICS in France, e.g. FR72ZZZ123456), check digits verified.

    The check digits are computed as an IBAN's (ISO 7064 MOD 97-10) over the national
    identifier, the country code and "00", the 3-character business code left out.
    """
    text = compact(value)
    if not _CREDITOR_IDENTIFIER.match(text):
        raise BankDetailsError("format")
    country, check, national = text[:2], text[2:4], text[7:]
    if int(check) != 98 - _mod97(national + country + "00"):
        raise BankDetailsError("checksum")
    return text


def creditor_check_digits(country: str, national: str) -> str:
    """The two check digits of a creditor identifier (for tests and set-up help)."""
    return f"{98 - _mod97(compact(national) + compact(country) + '00'):02d}"


def _mod97(text: str) -> int:
    digits = "".join(str(int(char, 36)) for char in text)
    return int(digits) % 97


def mask_iban(value: str | None) -> str | None:
    """FR76 •••• •••• •••• •••• •••• 0189: the country, check digits and last four."""
    if not value:
        return value
    text = compact(value)
    if len(text) <= 8:
        return MASK_CHARACTER * len(text)
    hidden = MASK_CHARACTER * (len(text) - 8)
    masked = text[:4] + hidden + text[-4:]
    return " ".join(masked[i : i + 4] for i in range(0, len(masked), 4))


def mask_ibans_in(text: str) -> str:
    """Free text (a log line, an error) with every IBAN-looking run masked."""
    return _IBAN_IN_TEXT.sub(lambda match: mask_iban(match.group(0)) or "", text)
