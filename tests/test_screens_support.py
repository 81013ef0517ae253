"""Helpers for the screen tests: forms posted as a browser posts them (CSRF included).

No tests here; the other test_screens_* modules import these.
"""

from __future__ import annotations

import contextlib
import functools
import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.support import Translations
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from app.extensions import db

FLASH = re.compile(
    r'<div class="alert alert-(\w+)">\s*'
    r'<button type="button" class="close" data-dismiss="alert">&times;</button>(.*?)</div>',
    re.S,
)


def page_text(response: Any) -> str:
    """The page's HTML with entities decoded, so French apostrophes compare as typed."""
    return html.unescape(response.get_data(as_text=True))


def flashes(response: Any) -> list[tuple[str, str]]:
    """(category, text) of each flash message on the page."""
    return [
        (category, " ".join(html.unescape(text).split()))
        for category, text in FLASH.findall(response.get_data(as_text=True))
    ]


CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
VALUE = re.compile(r'value="([^"]+)"')


def csrf_token(http: FlaskClient, path: str) -> str:
    """The CSRF token of any form on ``path`` (edit forms, or a list's hidden delete form)."""
    page = http.get(path).get_data(as_text=True)
    tag = CSRF_INPUT.search(page)
    assert tag, f"no CSRF token on {path}"
    value = VALUE.search(tag.group(0))
    assert value, f"no CSRF token value on {path}"
    return value.group(1)


def post_form(
    http: FlaskClient, form_path: str, data: dict[str, Any], *, target: str | None = None
) -> Any:
    """Open ``form_path``, take its CSRF token and post ``data`` (to ``target`` or the form)."""
    token = csrf_token(http, form_path)
    return http.post(target or form_path, data={**data, "csrf_token": token}, follow_redirects=True)


def count_rows(app: Flask, model: type, **equal: Any) -> int:
    with app.app_context():
        query = select(func.count()).select_from(model)
        for column, value in equal.items():
            query = query.where(getattr(model, column) == value)
        return int(db.session.execute(query).scalar_one())


def load(app: Flask, model: type, row_id: int) -> Any:
    """A detached copy of one row's column values (None when it is gone)."""
    with app.app_context():
        row = db.session.get(model, row_id)
        if row is None:
            return None
        values = {column.key: getattr(row, column.key) for column in model.__table__.columns}
        db.session.expunge(row)
        return type("Row", (), values)


def policy_form(client: int, company: int, **overrides: Any) -> dict[str, Any]:
    data = {
        "number": "CT-2026-001",
        "client_id": str(client),
        "company_id": str(company),
        "line_of_business": "home",
        "status": "draft",
        "effective_date": "2026-03-01",
        "expiry_date": "2027-03-01",
        "premium": "1 250,40",
        "currency": "EUR",
        "payment_frequency": "monthly",
        "renewal_of_id": "",
        # What the cancellation rules read, as the form shows them for a new contract.
        "tacit_renewal": "y",
        "notice_months": "2",
        "use": "consumer",
    }
    data.update(overrides)
    return data


def client_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "kind": "person",
        "first_name": "Camille",
        "last_name": "Durand",
        "company_name": "",
        "siren": "",
        "email": "camille.durand@example.fr",
        "phone": "06 12 34 56 78",
        "address": "12 rue des Lilas",
        "postal_code": "69003",
        "city": "Lyon",
        "birth_date": "1984-05-17",
        "notes": "",
    }
    data.update(overrides)
    return data


def company_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Mutuelle du Rhône",
        "code": "MDR",
        "contact_name": "Paul Morel",
        "email": "contact@mdr.example.fr",
        "phone": "04 72 00 00 00",
    }
    data.update(overrides)
    return data


CATALOGUES = Path(__file__).resolve().parent.parent / "app" / "translations"


@functools.cache
def _french() -> Translations:
    return Translations.load(str(CATALOGUES), ["fr"])


def french(message: str) -> str:
    """A message as a visitor without a session reads it: in French, the default locale."""
    translated = _french().gettext(message)
    assert translated != message, f"not in the French catalogue: {message!r}"
    return translated


@contextlib.contextmanager
def counted_queries(app: Any) -> Iterator[list[str]]:
    """Every SQL statement the app's engine sends while the block runs."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
