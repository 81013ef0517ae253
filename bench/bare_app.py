"""The bare reference app bench/load.py serves (`--pythonpath bench bare_app:app`)."""

from __future__ import annotations

from bare import create_bare_app

app = create_bare_app()
