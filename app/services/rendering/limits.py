"""Hard limits on a render: wall-clock time and output size.

Jinja cannot be interrupted cooperatively: a loop over literals makes no call
we could check a deadline in. So a watchdog timer injects an exception into the
rendering thread (``PyThreadState_SetAsyncExc``), which works in any thread:
Huey worker threads, gunicorn gthreads, the test runner. The exception lands at
the next Python bytecode the thread runs; a long C call (one Pango layout)
finishes first, which is short compared with the limit.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from flask import current_app, has_app_context
from flask_babel import gettext as _

from app.services.rendering.errors import RenderError, RenderTimeout

T = TypeVar("T")

DEFAULT_TIMEOUT_SECONDS = 30.0
MAX_OUTPUT_CHARS = 10_000_000  # rendered HTML; ~10 MB is hundreds of pages
MAX_XLSX_BYTES = 64 * 1024 * 1024
MAX_XLSX_ROWS = 1_048_000  # Excel's sheet holds 1,048,576 rows; keep room for headers


class _Deadline(BaseException):
    """Injected by the watchdog.

    A BaseException on purpose: libraries we call (WeasyPrint, Jinja filters)
    catch ``Exception`` to log and carry on, which would swallow the stop.
    """


def configured_timeout(timeout: float | None) -> float:
    """The explicit timeout, else RENDER_TIMEOUT_SECONDS from the app, else 30 s."""
    if timeout is not None:
        value = float(timeout)
    elif has_app_context():
        value = float(current_app.config.get("RENDER_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
    else:
        value = DEFAULT_TIMEOUT_SECONDS
    if value <= 0:
        raise RenderError(_("The render time limit must be positive."))
    return value


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> int:
    return ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc is not None else None
    )


class Watchdog:
    """Arms a timer that stops the calling thread after ``seconds``.

    Arming, firing and disarming hold one lock, so the timer can only inject
    while the render is still running; if it fired in the instant the render
    ended, ``disarm`` withdraws the pending exception before anything else can
    receive it.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._thread_id = threading.get_ident()
        self._lock = threading.Lock()
        self._armed = False
        self._fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self.deadline = time.monotonic() + seconds

    def arm(self) -> None:
        with self._lock:
            self._armed = True
            self.deadline = time.monotonic() + self.seconds
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if not self._armed:
                return
            self._armed = False
            self._fired = True
            _set_async_exc(self._thread_id, _Deadline)

    def disarm(self) -> bool:
        """Stop the timer; return True if it fired (its exception is then withdrawn)."""
        with self._lock:
            self._armed = False
            fired = self._fired
            if fired:
                # Still pending if the thread ran no bytecode since: withdraw it.
                _set_async_exc(self._thread_id, None)
        self._timer.cancel()
        return fired

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


_local = threading.local()


def remaining_time() -> float | None:
    """Seconds left to the render running in this thread (None outside a render).

    Subprocesses (wkhtmltopdf) wait in C, where the watchdog cannot reach:
    they take this as their own timeout.
    """
    watchdog: Watchdog | None = getattr(_local, "watchdog", None)
    return watchdog.remaining() if watchdog else None


def run_with_time_limit(work: Callable[[], T], seconds: float) -> T:
    """Run ``work`` in this thread; raise RenderTimeout if it runs past ``seconds``."""
    if getattr(_local, "watchdog", None) is not None:
        return work()  # already inside a limited render: the outer limit holds
    watchdog = Watchdog(seconds)
    try:
        _local.watchdog = watchdog
        try:
            watchdog.arm()
            try:
                return work()
            finally:
                # A result computed in time is kept even if the timer fired just after.
                watchdog.disarm()
        finally:
            _local.watchdog = None
    except _Deadline:
        raise RenderTimeout(
            _(
                "The document took longer than its time limit (%(seconds)s s) and was stopped.",
                seconds=f"{seconds:g}",
            )
        ) from None


def check_output_size(size: int, limit: int = MAX_OUTPUT_CHARS) -> None:
    if size > limit:
        raise RenderError(
            _(
                "The document is too large (more than %(millions)s million characters).",
                millions=limit // 1_000_000,
            )
        )
