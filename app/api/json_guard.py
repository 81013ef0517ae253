"""The body guard: every body sent to /api/ is measured before anything parses it.

- Larger than MAX_BODY_BYTES (by Content-Length, or as read for a chunked body): 413.
- Arrays and objects nested deeper than MAX_BODY_DEPTH: 400. Python's JSON parser
  recurses once per level, so 100,000 nested arrays (200 KB, under the size cap)
  raised RecursionError, a 500, on every POST and PUT. The depth is counted on the
  text with its strings taken out, in one pass and without recursion, before any
  parser sees it.
- A string the database would refuse (app/input_text.py), object keys included: 400.

The body is then parsed once, by ``request.get_json``, which keeps it for the door.
Multipart uploads (the import doors) keep their own, larger cap (IMPORT_MAX_BYTES).
"""

from __future__ import annotations

import json
import re

from flask import request
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from app.input_text import MESSAGE, all_storable, json_strings

MAX_BODY_BYTES = 256 * 1024
# Our bodies nest three levels at most; FAB's own schemas fewer.
MAX_BODY_DEPTH = 32
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MULTIPART = "multipart/form-data"
# A JSON string: between quotes, anything but a quote or a backslash, or an escape.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")


def nesting_exceeds(text: str, limit: int) -> bool:
    """Do arrays and objects in the JSON ``text`` nest deeper than ``limit``?

    Brackets inside strings do not count. On a text that is not JSON the answer
    may be wrong either way, but then the parser stops at the first error, before
    it could recurse deeper than the valid part counted here.
    """
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub("", text)):
        if bracket.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _text(data: bytes) -> str | None:
    """The body as the JSON parser will read it (UTF-8, -16 or -32), None if it cannot."""
    try:
        return data.decode(json.detect_encoding(data), "surrogatepass")
    except UnicodeDecodeError:
        return None


def body_refusal() -> tuple[int, str] | None:
    """Status and message refusing this request's body, None to let it in.

    Part of the /api/ before_request checks (app/api/guards.py).
    """
    if request.method not in BODY_METHODS or request.mimetype == MULTIPART:
        return None
    too_large = str(_("The request body is too large."))
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        return 413, too_large
    if not request.is_json:
        return None  # no door parses it: each answers that it wants JSON
    # A chunked body has no length: read one byte past the cap, at most, to know.
    request.max_content_length = MAX_BODY_BYTES + 1
    try:
        data = request.get_data(cache=True)
    except RequestEntityTooLarge:
        return 413, too_large
    if len(data) > MAX_BODY_BYTES:
        return 413, too_large
    text = _text(data)
    if text is None:
        return None  # not JSON text: the door answers it as malformed
    if nesting_exceeds(text, MAX_BODY_DEPTH):
        message = _(
            "The JSON body is nested too deeply: %(limit)d levels at most.", limit=MAX_BODY_DEPTH
        )
        return 400, message
    # Parsed once here; Flask keeps the value for the door's own get_json.
    body = request.get_json(silent=True)
    if not all_storable(json_strings(body)):
        return 400, str(MESSAGE)
    return None
