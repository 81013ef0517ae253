"""Field checks shared by models (raise ModelValidationError with a translated message)."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _

from app.models.base import ModelValidationError

PHONE_PATTERN = re.compile(r"^\+?[0-9 .()-]{6,20}$")
SIREN_PATTERN = re.compile(r"^\d{9}$")


def clean_text(field: str, value: str | None, *, required: bool, max_length: int) -> str | None:
    value = value.strip() if isinstance(value, str) else value
    if not value:
        if required:
            raise ModelValidationError({field: str(_("This field is required."))})
        return None
    if len(value) > max_length:
        raise ModelValidationError({field: str(_("At most %(n)d characters.", n=max_length))})
    return value


def clean_email(field: str, value: str | None) -> str | None:
    value = clean_text(field, value, required=False, max_length=254)
    if value is None:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ModelValidationError({field: str(_("Invalid e-mail address."))}) from None


def clean_phone(field: str, value: str | None) -> str | None:
    value = clean_text(field, value, required=False, max_length=20)
    if value is not None and not PHONE_PATTERN.match(value):
        raise ModelValidationError({field: str(_("Invalid phone number."))})
    return value


def clean_siren(field: str, value: str | None) -> str | None:
    value = clean_text(field, value, required=False, max_length=9)
    if value is not None and not SIREN_PATTERN.match(value):
        raise ModelValidationError({field: str(_("A SIREN number has 9 digits."))})
    return value
