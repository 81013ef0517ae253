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
import sys
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


# Python drops an exception that lands in a weakref or garbage-collector callback
# ("Exception ignored in ..."), and WeasyPrint's layout triggers both. A stop that
# lands there is lost, so the watchdog injects it again while the render runs.
REINJECT_SECONDS = 0.05


def _inside_work(work: Callable[[], T]) -> T:
    """Calls ``work``; its frame on a thread's stack means "still rendering"."""
    return work()


_WORK_CODE = _inside_work.__code__


def _is_rendering(thread_id: int) -> bool:
    frame = sys._current_frames().get(thread_id)
    while frame is not None:
        if frame.f_code is _WORK_CODE:
            return True
        frame = frame.f_back
    return False


class Watchdog:
    """Arms a timer that stops the calling thread after ``seconds``.

    The stop is injected only while the thread is inside the render (its
    ``_inside_work`` frame is on the stack), and again every REINJECT_SECONDS
    while it still is. Once the render has returned nothing more is sent, so at
    most one stop can still be pending; ``run_with_time_limit`` catches it
    wherever it lands on the way out and ``disarm`` withdraws it.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._thread_id = threading.get_ident()
        self._lock = threading.Lock()
        self._armed = False
        self._fired = False
        self._timer = self._new_timer(seconds)
        self.deadline = time.monotonic() + seconds

    def _new_timer(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self._fire)
        timer.daemon = True
        return timer

    def arm(self) -> None:
        with self._lock:
            self._armed = True
            self.deadline = time.monotonic() + self.seconds
            self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if not self._armed:
                return
            # Not inside the render (not yet entered, or just returned): send
            # nothing, look again shortly; disarming ends the rounds.
            if _is_rendering(self._thread_id):
                self._fired = True
                _set_async_exc(self._thread_id, _Deadline)
            self._timer = self._new_timer(REINJECT_SECONDS)
            self._timer.start()

    def disarm(self) -> bool:
        """Stop the timer; return True if it fired (a pending exception is withdrawn)."""
        with self._lock:
            self._armed = False
            self._timer.cancel()
            fired = self._fired
            if fired:
                # Still pending if the thread ran no bytecode since: withdraw it.
                _set_async_exc(self._thread_id, None)
        return fired

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


def _disarm(watchdog: Watchdog) -> None:
    """Disarm even if a stop lands on the way in (before ``disarm`` took its lock)."""
    while True:
        try:
            watchdog.disarm()
            return
        except _Deadline:
            continue


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
    _local.watchdog = watchdog
    try:
        finished, result = _run_armed(watchdog, work)
    finally:
        _local.watchdog = None
    if not finished:
        raise RenderTimeout(
            _(
                "The document took longer than its time limit (%(seconds)s s) and was stopped.",
                seconds=f"{seconds:g}",
            )
        )
    return result  # type: ignore[return-value]


def _run_armed(watchdog: Watchdog, work: Callable[[], T]) -> tuple[bool, T | None]:
    """(True, result), or (False, None) when the watchdog stopped the render."""
    try:
        try:
            watchdog.arm()
            return True, _inside_work(work)
        except _Deadline:
            return False, None
        finally:
            _disarm(watchdog)
    except _Deadline:
        # The one stop still pending when the render returned landed in a handler
        # above: the render reached its limit all the same.
        _disarm(watchdog)
        return False, None


def check_output_size(size: int, limit: int = MAX_OUTPUT_CHARS) -> None:
    if size > limit:
        raise RenderError(
            _(
                "The document is too large (more than %(millions)s million characters).",
                millions=limit // 1_000_000,
            )
        )
