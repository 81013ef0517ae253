"""Logging: plain text by default, one JSON object per line with LOG_JSON=true."""

from __future__ import annotations

import logging
import sys

from flask import has_request_context
from pythonjsonlogger.json import JsonFormatter

from app.ops.requests import current_request_id

# Lines the frameworks log at INFO that say nothing an operator acts on: Huey's start-up
# details and the runs of its periodic tasks (nine lines a minute on an idle server),
# FAB's "Initializing AppBuilder" in every process. They go out at DEBUG instead, so
# LOG_LEVEL=DEBUG still shows them; what a periodic task did is logged by the task itself.
_ROUTINE_PREFIXES = {
    "huey.consumer": ("Scheduler runs every", "Periodic tasks are", "The following commands"),
    "huey.consumer.Scheduler": ("Enqueueing periodic task",),
    "flask_appbuilder.base": ("Initializing AppBuilder",),
}
_TASK_RUN_MESSAGES = ("Executing %s", "%s executed in %0.3fs")  # huey/api.py's wording


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() if has_request_context() else None
        return True


class BankAccountFilter(logging.Filter):
    """IBANs never reach the logs: any run that looks like one is masked in the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        from app.services.bank_accounts import mask_ibans_in

        message = record.getMessage()
        masked = mask_ibans_in(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


class RoutineToDebug(logging.Filter):
    """Log a routine INFO record at DEBUG: kept when the logger is at DEBUG, else dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not is_routine(record):
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def is_routine(record: logging.LogRecord) -> bool:
    """True for the framework lines listed above, and for a periodic task's run."""
    message = str(record.msg)
    if message.startswith(_ROUTINE_PREFIXES.get(record.name, ())):
        return True
    if record.name == "huey" and message in _TASK_RUN_MESSAGES and record.args:
        from huey.api import PeriodicTask

        task = record.args[0] if isinstance(record.args, tuple) else None
        return isinstance(task, PeriodicTask)
    return False


def quiet_routine_logs() -> None:
    """Put RoutineToDebug on the loggers that emit routine lines (once per logger).

    A logger's filters see only its own records, not its children's: each is named.
    """
    for name in (*_ROUTINE_PREFIXES, "huey"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RoutineToDebug) for f in logger.filters):
            logger.addFilter(RoutineToDebug())


def configure_logging(level: str, as_json: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(BankAccountFilter())
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
    quiet_routine_logs()
    # In JSON mode Python warnings become log records too, so every stderr line parses.
    logging.captureWarnings(as_json)


def json_formatter() -> logging.Formatter:
    """One JSON object per line: time (ISO 8601), level, logger, message, request_id, extras."""
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )
