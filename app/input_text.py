"""Text a request brings that the database would refuse, refused at the door.

PostgreSQL refuses a NUL character in text ("PostgreSQL text fields cannot contain
NUL (0x00) bytes") and a lone surrogate (``"\\ud800"`` in JSON) cannot be encoded as
UTF-8 at all: either reached SQL as a login name, a filter or a search and answered
500. One rule, ``storable``, decides; the hook below applies it to the path, the
query string and the form fields of every request, and the API's body guard
(app/api/json_guard.py) to every string of a JSON body.

The API answers 400 ``{"message": ...}``; a screen's form gets the message flashed
and the form back; a screen's query string (a list filter, a lookup search) 400.
A path holding such text names nothing: 404, as for any id that names no row.
Header values need no check here: gunicorn refuses control characters in them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from flask import Flask, abort, flash, redirect, request
from flask_babel import lazy_gettext as _
from werkzeug.wrappers import Response

from app.api.errors import API_PREFIX, json_error

MESSAGE = _("Text may not contain a NUL character or invalid Unicode.")
FORM_TYPE = "application/x-www-form-urlencoded"


def storable(text: str) -> bool:
    """Can the database store ``text`` as it is (no NUL, valid UTF-8)?"""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def all_storable(texts: Iterable[str]) -> bool:
    return all(storable(text) for text in texts)


def json_strings(value: Any) -> Iterator[str]:
    """Every string of a parsed JSON value, object keys included (without recursion)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            yield from item.keys()
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def _query() -> Iterator[str]:
    for key, values in request.args.lists():
        yield key
        yield from values


def _form_fields() -> Iterator[str]:
    # Only a browser's plain form: parsing a multipart upload here would read the
    # file before the import screen checks its size (app/views/imports.py), and the
    # only multipart forms are those uploads, whose rows the import checks.
    if request.mimetype != FORM_TYPE:
        return
    for key, values in request.form.lists():
        yield key
        yield from values


def check_request_text() -> Response | None:
    """The before_request hook: None lets the request go on."""
    api = request.path.startswith(API_PREFIX)
    if not storable(request.path):
        # Such a path names no row (a screen's /show/<pk> would look it up): not found.
        if api:
            return json_error(404, str(_("Not found")))
        abort(404)
    if not all_storable(_query()):
        if api:
            return json_error(400, str(MESSAGE))
        abort(400)
    if not api and not all_storable(_form_fields()):
        # Back to the form with the reason, as a form's own validation would.
        flash(str(MESSAGE), "danger")
        return redirect(request.full_path.rstrip("?"), code=303)
    return None


def init_input_text(app: Flask) -> None:
    app.before_request(check_request_text)
