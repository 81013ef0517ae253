"""What the commission statement doors (app/api/commission_statements.py,
app/api/statement_lines.py) read from a request: the uploaded file within its limit,
the mapping and tolerance fields, ids and paging numbers; each refusal a domain error."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from flask import request
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from app.api.base import parse_pk
from app.api.imports import FORM_OVERHEAD
from app.extensions import db
from app.models import CommissionStatement
from app.services.commissions import statements
from app.services.commissions.statement_file import statement_limits
from app.services.errors import InvalidRequestError, MalformedRequestError, NotFoundError
from app.services.imports import too_large_message
from app.services.scope import current_user, visible_organisation_id


def read_upload() -> tuple[bytes, str]:
    """The uploaded statement's bytes and file name; 413 beyond the statement limit."""
    limits = statement_limits()
    too_large = too_large_message(limits)
    if (request.content_length or 0) > limits.max_bytes + FORM_OVERHEAD:
        raise _TooLargeError(too_large)
    request.max_content_length = limits.max_bytes + FORM_OVERHEAD
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        raise _TooLargeError(too_large) from None
    if upload is None or not upload.filename:
        raise MalformedRequestError(_("Send the file in the multipart field 'file'."))
    data = upload.stream.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise _TooLargeError(too_large)
    return data, upload.filename


class _TooLargeError(InvalidRequestError):
    status = 413


def own_organisation() -> int:
    organisation_id = getattr(current_user(), "organisation_id", None)
    if organisation_id is None:
        raise InvalidRequestError(_("Your account belongs to no organisation."))
    return organisation_id


def statement_pk(raw: str) -> int:
    # The tables' ids are 32-bit integers: a larger number names no row (PostgreSQL would
    # refuse to compare it).
    parsed = parse_pk(raw, 2**31 - 1)
    if parsed is None:
        raise NotFoundError(_("Not found."))
    return parsed


def statement_of(raw: str) -> CommissionStatement:
    return statements.visible_statement(db.session, visible_organisation_id(), statement_pk(raw))


def mapping_field() -> dict[str, str] | None:
    raw = request.form.get("mapping")
    if not raw:
        return None
    try:
        mapping = json.loads(raw)
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str | None) for k, v in mapping.items()
    ):
        raise MalformedRequestError(
            _("mapping must be a JSON object: field -> the file's column header.")
        )
    return mapping


def tolerance_field() -> Decimal | None:
    raw = request.form.get("tolerance")
    if not raw:
        return None
    try:
        value = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(1000):
        raise InvalidRequestError(
            _("Enter a tolerance between 0 and 1000."), {"tolerance": _("Between 0 and 1000.")}
        )
    return value.quantize(Decimal("0.01"))


def int_arg(name: str, default: int, maximum: int, minimum: int = 0) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not minimum <= int(raw) <= maximum:
        raise MalformedRequestError(
            _(
                "%(name)s must be a whole number from %(low)d to %(high)d.",
                name=name,
                low=minimum,
                high=maximum,
            )
        )
    return int(raw)
