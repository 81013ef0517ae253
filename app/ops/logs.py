"""Logging: plain text by default, one JSON object per line with LOG_JSON=true."""

from __future__ import annotations

import logging
import sys

from flask import has_request_context
from pythonjsonlogger.json import JsonFormatter

from app.ops.requests import current_request_id


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() if has_request_context() else None
        return True


def configure_logging(level: str, as_json: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if as_json:
        handler.setFormatter(json_formatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
        )
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_monassurance", False):
            root.removeHandler(existing)
    handler._monassurance = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # In JSON mode Python warnings become log records too, so every stderr line parses.
    logging.captureWarnings(as_json)


def json_formatter() -> logging.Formatter:
    """One JSON object per line: time (ISO 8601), level, logger, message, request_id, extras."""
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )
