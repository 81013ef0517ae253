"""A Flask application for tasks, built lazily once per worker process.

Tasks run in the Huey consumer, outside any request: they need an app context
for the database session and the configuration. The consumer process builds one
app the first time a task asks for it (never at import, so `huey_consumer`
starts fast and a forked process never inherits another's connections). When a
task runs inline (immediate mode in tests, or called from a request) the app
already active is reused.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context

from app.tasks.queue import huey

_lock = threading.Lock()
_app: Flask | None = None
_app_pid: int | None = None


def task_app() -> Flask:
    """The app of this worker process, created on first use."""
    global _app, _app_pid
    with _lock:
        if _app is None or _app_pid != os.getpid():
            from app import create_app

            _app = create_app()
            _app_pid = os.getpid()
        return _app


@contextmanager
def task_app_context() -> Iterator[Flask]:
    """`with task_app_context() as app:` gives a task the app and a database session."""
    if has_app_context():
        yield current_app._get_current_object()  # type: ignore[attr-defined]
        return
    app = task_app()
    with app.app_context():
        yield app


@huey.on_startup()
def _use_application_logging() -> None:
    """Send the consumer's own log lines through the app's handler.

    `huey_consumer` puts a handler of its own on the "huey" logger; once a task
    builds the app, the root logger gets ours and every Huey line would print
    twice, in two formats. One handler keeps LOG_JSON=true true for the worker.
    """
    from app.ops.logs import configure_logging
    from config import env_bool, env_str

    configure_logging((env_str("LOG_LEVEL", "INFO") or "INFO").upper(), env_bool("LOG_JSON"))
    huey_logger = logging.getLogger("huey")
    for handler in list(huey_logger.handlers):
        if type(handler) is logging.StreamHandler:
            huey_logger.removeHandler(handler)
