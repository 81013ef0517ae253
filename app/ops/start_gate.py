"""Hold the web server's workers until run.py has prepared the database.

run.py starts gunicorn first, so that its worker imports and builds the app (the
longest part of a start) while run.py migrates, syncs the roles and loads the demo
data; the worker must not answer before that is done. run.py hands gunicorn the
read end of a pipe (MONASSURANCE_START_GATE_FD) and closes the write end when the
database is ready: every worker waiting on it sees end-of-file at once. A worker
started later (after a crash) finds the pipe already closed and does not wait.
Without the variable (production, tests) nothing waits.
"""

from __future__ import annotations

import os
import select
from collections.abc import Callable

GATE_ENV = "MONASSURANCE_START_GATE_FD"


class StartGate:
    """run.py's side: a pipe whose read end a child inherits."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()

    def child_environment(self, env: dict[str, str]) -> dict[str, str]:
        return {**env, GATE_ENV: str(self.read_fd)}

    def child_started(self) -> None:
        """The child holds its copy of the read end; ours is not needed any more."""
        os.close(self.read_fd)

    def open(self) -> None:
        """Let the waiting workers through (idempotent)."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1


def wait_for_gate(alive: Callable[[], bool], heartbeat: Callable[[], None]) -> None:
    """Block until run.py opens the gate; calls heartbeat every second meanwhile.

    gunicorn kills a worker that stays silent past its timeout: the heartbeat
    (worker.notify) keeps it alive however long the migrations take. Returns early
    when the worker is told to stop (alive() false).
    """
    value = os.environ.get(GATE_ENV)
    if not value:
        return
    fd = int(value)
    try:
        while alive():
            readable, _, _ = select.select([fd], [], [], 1.0)
            if readable and os.read(fd, 1) == b"":
                return  # end of file: run.py closed its end, the database is ready
            heartbeat()
    except OSError:
        return  # not our pipe (the variable came from elsewhere): nothing to wait for
