"""What every screen shares, set once for the whole app.

- An empty value prints as nothing. FAB's list and show widgets (and our own
  templates) write ``{{ value }}``, which Jinja turns into "None" for an empty
  optional field: a company name of an individual, a queued document's file name,
  the user of an anonymous audit entry. Jinja's ``finalize`` sees every printed
  value, so this is the one place that decides (the document sandbox does the same,
  app/services/rendering/sandbox.py).
- The favicon, which browsers ask for at /favicon.ico on every page.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, send_from_directory

FAVICON_MAX_AGE = 7 * 24 * 3600  # a week: it changes with a release, if ever


def blank_if_none(value: Any) -> Any:
    """What a template prints for ``value``: nothing for None, the value otherwise."""
    return "" if value is None else value


def favicon() -> Response:
    return send_from_directory(
        current_app.static_folder or "static",
        "favicon.ico",
        mimetype="image/vnd.microsoft.icon",
        max_age=FAVICON_MAX_AGE,
    )


def init_site(app: Flask) -> None:
    """Before any template is compiled: ``finalize`` is read when a template is compiled."""
    app.jinja_env.finalize = blank_if_none
    app.add_url_rule("/favicon.ico", "favicon", favicon)
