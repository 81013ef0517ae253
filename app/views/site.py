"""What every screen shares, set once for the whole app.

- An empty value prints as nothing. FAB's list and show widgets (and our own
  templates) write ``{{ value }}``, which Jinja turns into "None" for an empty
  optional field: a company name of an individual, a queued document's file name,
  the user of an anonymous audit entry. Jinja's ``finalize`` sees every printed
  value, so this is the one place that decides (the document sandbox does the same,
  app/services/rendering/sandbox.py).
"""

from __future__ import annotations

from typing import Any

from flask import Flask


def blank_if_none(value: Any) -> Any:
    """What a template prints for ``value``: nothing for None, the value otherwise."""
    return "" if value is None else value


def init_site(app: Flask) -> None:
    """Before any template is compiled: ``finalize`` is read when a template is compiled."""
    app.jinja_env.finalize = blank_if_none
