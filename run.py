#!/usr/bin/env python
"""MonAssurance in one command: `python run.py`.

In order, with nothing but embedded defaults (see the README's configuration table):
1. applies the database migrations (Flask-Migrate / Alembic);
2. syncs the roles and their permissions;
3. loads the demo portfolio into an empty database (DEMO_DATA=false skips it), and the
   built-in document templates that are missing or changed in this release (always);
4. creates the first administrator: ADMIN_USERNAME (default "admin") and ADMIN_PASSWORD,
   or a generated password printed once on this console and written nowhere else;
5. serves: the web server and the Huey consumer run as child processes; run.py prints
   the URL and the login, and watches both. Ctrl-C or SIGTERM stops both cleanly; if
   either dies, run.py says so and exits 1 rather than serve without a worker.

The web server starts first, before step 1: importing and building the app is the
longest part of a start, and its worker does it while this process prepares the
database; it answers only once that is done (app/ops/start_gate.py). The consumer
starts once the web server answers, so that it does not compete for the processor
with what the user is waiting for. The console shows the URL, the login and a
generated password, and what goes wrong: the frameworks' routine lines are logged at
DEBUG (LOG_LEVEL=DEBUG shows them).

The web server is gunicorn, in a child process of its own rather than in this one:
gunicorn's master installs its own signal handlers and reaps every child process,
which would swallow the consumer's exit status and make run.py unable to notice a
dead worker. As a child, gunicorn is the same production server as in a real
deployment (Werkzeug's server is for development only) and needs no system package.
It runs one worker process with threads: the rate limiter and the Prometheus
counters then live in one process and stay exact without extra set-up.

Production runs the same pieces as separate, supervised processes:
    flask db upgrade                              # at each deploy
    flask monassurance sync-roles                 # at each deploy
    flask monassurance load-templates             # at each deploy: built-in templates
    flask monassurance create-admin --username admin   # once; prompts for the password
    gunicorn -c gunicorn.conf.py wsgi:app         # the web server
    huey_consumer app.tasks.huey -w 2             # the worker; SIGINT stops it gracefully
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.ops.start_gate import StartGate

ROOT = Path(__file__).resolve().parent
STARTUP_TIMEOUT = 90.0  # seconds for the web server to answer /health
STOP_TIMEOUT = 20.0  # seconds for both children to stop before they are killed
WEB_THREADS = 8
WORKER_THREADS = 2
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    data_dir: Path
    admin_username: str
    admin_password: str | None
    demo_data: bool

    @property
    def url(self) -> str:
        """Where a browser on this machine reaches the server."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)  # noqa: S104
        return f"http://{_bracketed(host)}:{self.port}/"

    @property
    def bind(self) -> str:
        return f"{_bracketed(self.host)}:{self.port}"


@dataclass(frozen=True)
class Bootstrap:
    admin_username: str | None  # None: the named administrator is not (or no longer) there
    generated_password: str | None  # only when made in this run
    admin_created: bool
    demo_policies: int | None  # policies loaded in this run


class StartupError(Exception):
    """Run.py cannot start; the message tells the operator what to do."""


def read_settings() -> Settings:
    # Small modules only: the web server starts right after this, before the app's imports.
    from app.services.passwords import PasswordPolicyError, check_password
    from config import Config, data_dir, env_bool, env_int, env_str

    try:
        Config()  # every variable the app reads, checked before any work
        port = env_int("PORT", 8000)
        demo_data = env_bool("DEMO_DATA", True)
    except ValueError as error:
        raise StartupError(str(error)) from None
    if not 1 <= port <= 65535:
        raise StartupError(f"PORT must be between 1 and 65535, got {port}")
    username = (env_str("ADMIN_USERNAME", "admin") or "admin").strip()
    password = env_str("ADMIN_PASSWORD")
    if password is not None:
        try:
            check_password(password, username)
        except PasswordPolicyError as error:
            raise StartupError(f"ADMIN_PASSWORD is refused: {error.message}") from None
    return Settings(
        host=env_str("HOST", "127.0.0.1") or "127.0.0.1",
        port=port,
        data_dir=data_dir(),
        admin_username=username,
        admin_password=password,
        demo_data=demo_data,
    )


def check_port_free(settings: Settings) -> None:
    """Fail before any work when another program holds the port (gunicorn would retry for 5 s)."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host, settings.port))
        except OSError as error:
            raise StartupError(
                f"cannot listen on {settings.bind}: {error.strerror}. "
                "Stop the other program or choose another PORT."
            ) from None


def bootstrap(settings: Settings) -> Bootstrap:
    """Migrate, sync roles, load the demo data and create the first administrator."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.ops.logs import configure_logging
    from app.services.accounts import AccountError, ensure_first_admin
    from app.services.demo import (
        database_is_empty,
        demo_organisation_id,
        ensure_builtin_templates,
        load_demo_data,
    )
    from app.services.roles import sync_roles

    app = create_app()
    with app.app_context():
        # Each migration's name is for `flask db upgrade` at a deploy, not for this
        # console (LOG_LEVEL=DEBUG still shows them).
        verbose = app.config["LOG_LEVEL"] == "DEBUG"
        with _quiet("alembic", logging.INFO if verbose else logging.WARNING):
            upgrade()
        # Alembic's logging set-up (migrations/alembic.ini) may have replaced ours.
        configure_logging(app.config["LOG_LEVEL"], app.config["LOG_JSON"])
        # FAB logs each of its ~150 permissions at INFO, on an empty database advises
        # `flask fab create-admin`, and then "Added user": run.py does and says that itself.
        with _quiet("flask_appbuilder.security", logging.ERROR):
            sync_roles(app.appbuilder)
            demo = None
            if settings.demo_data and database_is_empty(db.session):
                demo = load_demo_data(db.session)
            ensure_builtin_templates(db.session)
            try:
                admin = ensure_first_admin(
                    app.appbuilder,
                    settings.admin_username,
                    settings.admin_password,
                    demo_organisation_id(db.session),
                )
            except AccountError as error:
                raise StartupError(f"cannot create the administrator: {error}") from None
            if demo is not None and admin is not None:
                # The training log needs a person of the agency: the first administrator.
                from app.services.compliance.demo import add_demo_training

                add_demo_training(db.session, demo.organisation_id, admin.username)
                db.session.commit()
        # Name an existing account only if it is there (it may have been renamed).
        existing = admin is None and app.appbuilder.sm.find_user(username=settings.admin_username)
        db.session.remove()
        # The children open their own connections; none is inherited or kept open here.
        db.engine.dispose()
    return Bootstrap(
        admin_username=admin.username if admin else (settings.admin_username if existing else None),
        generated_password=admin.password if admin else None,
        admin_created=admin is not None,
        demo_policies=demo.policies if demo else None,
    )


class Child:
    """A supervised child process in a process group of its own.

    Its own group keeps the terminal's Ctrl-C away from it: run.py decides which
    signal each child gets, exactly once (a second SIGINT would cut Huey's
    graceful shutdown short).
    """

    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        stop_signal: int,
        pass_fds: tuple[int, ...] = (),
    ):
        self.name = name
        self.stop_signal = stop_signal
        self.process = subprocess.Popen(  # noqa: S603 (our own fixed command line)
            command,
            cwd=ROOT,
            env=env,
            process_group=0,
            pass_fds=pass_fds,
            preexec_fn=_die_with_parent(),  # only a prctl call
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def exit_code(self) -> int | None:
        return self.process.poll()

    def signal(self, signum: int) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signum)

    def kill_group(self) -> None:
        """SIGKILL the child and what it started (gunicorn's workers) unless it ended cleanly."""
        if self.process.poll() != 0:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def child_environment(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    # Children start in ROOT; an explicit folder keeps them on the same data.
    env["DATA_DIR"] = str(settings.data_dir)
    # run.py exists to run a real consumer: inline tasks would bypass it.
    env.pop("HUEY_IMMEDIATE", None)
    return env


def start_consumer(settings: Settings, env: dict[str, str]) -> Child:
    # huey_consumer with the app's log format from its first line (worker.py).
    command = [sys.executable, "worker.py"]
    command += ["--workers", str(WORKER_THREADS), "--worker-type", "thread"]
    # An idle consumer polls a SQLite queue ever less often, up to every 10 s by
    # default; 1 s keeps a queued task from waiting long for a few cheap reads.
    # (Redis needs no polling: Huey blocks on the list.)
    command += ["--max-delay", "1"]
    return Child("Huey consumer", command, env, signal.SIGINT)  # SIGINT: finish running tasks


def start_web(settings: Settings, env: dict[str, str], gate: StartGate) -> Child:
    # Flags win over a gunicorn.conf.py in ROOT, which is read too (hooks, logging).
    command = [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", settings.bind]
    command += ["--workers", "1", "--worker-class", "gthread", "--threads", str(WEB_THREADS)]
    command += ["--timeout", "60", "--graceful-timeout", "10"]
    # gunicorn 25+ opens a control socket shared by every instance of the same user.
    command += ["--no-control-socket"]
    # Its boot lines (version, address, worker pid) repeat what the banner says.
    command += ["--log-level", _gunicorn_log_level()]
    child = Child(
        "web server",
        command,
        gate.child_environment(env),
        signal.SIGTERM,  # SIGTERM: finish requests
        pass_fds=(gate.read_fd,),
    )
    gate.child_started()
    return child


def _gunicorn_log_level() -> str:
    level = (os.environ.get("LOG_LEVEL") or "INFO").upper()
    return "debug" if level == "DEBUG" else ("warning" if level == "INFO" else level.lower())


class Supervisor:
    """Watches the children; stops all of them on a signal or when one dies."""

    def __init__(self) -> None:
        self.children: list[Child] = []
        self.signals_received = 0

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self.signals_received += 1

    @property
    def stop_requested(self) -> bool:
        return self.signals_received > 0

    def dead_child(self) -> Child | None:
        return next((c for c in self.children if c.exit_code() is not None), None)

    def wait_until(self, ready: Callable[[], bool], timeout: float) -> bool:
        """Poll `ready` until true; False on timeout, a signal or a dead child."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.stop_requested or self.dead_child():
                return False
            if ready():
                return True
            time.sleep(0.25)
        return False

    def watch(self) -> Child | None:
        """Block until a signal arrives (None) or a child dies (that child)."""
        while not self.stop_requested:
            dead = self.dead_child()
            if dead:
                return dead
            time.sleep(0.25)
        return None

    def stop_all(self) -> bool:
        """Ask each child to stop, escalate on a second signal or the timeout; True if clean."""
        signals_at_start = self.signals_received
        for child in self.children:
            child.signal(child.stop_signal)
        deadline = time.monotonic() + STOP_TIMEOUT
        while any(c.exit_code() is None for c in self.children):
            if time.monotonic() > deadline or self.signals_received > signals_at_start + 1:
                print("Stopping now (killing what is left).", file=sys.stderr, flush=True)
                break
            time.sleep(0.1)
        clean = True
        for child in self.children:
            if child.exit_code() is None:
                clean = False
            child.kill_group()  # also reaps gunicorn workers orphaned by a killed master
            if child.exit_code() not in (0, None):
                clean = False
        return clean


def web_answers(settings: Settings) -> bool:
    try:
        with urllib.request.urlopen(settings.url + "health", timeout=2) as response:  # noqa: S310
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def credentials(boot: Bootstrap) -> list[str]:
    if boot.admin_username is None:
        return ["  Log in with an existing account (ADMIN_USERNAME names none)."]
    lines = [f"  Username: {boot.admin_username}"]
    if boot.generated_password:
        lines.append(f"  Password: {boot.generated_password}")
        lines.append("  (generated for you and shown only this once: write it down or change it)")
    elif boot.admin_created:
        lines.append("  (password taken from ADMIN_PASSWORD)")
    else:
        lines.append("  (use the password chosen when this account was created)")
    return lines


def banner(settings: Settings, boot: Bootstrap) -> str:
    lines = ["", f"MonAssurance is running at {settings.url}", *credentials(boot)]
    if boot.demo_policies:
        lines.append(f"  Demo data loaded: {boot.demo_policies} policies.")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines) + "\n"


def main() -> int:
    try:
        settings = read_settings()
        check_port_free(settings)
    except StartupError as error:
        print(f"run.py: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("run.py: interrupted during set-up", file=sys.stderr)
        return 130
    print(f"Starting MonAssurance (data in {settings.data_dir})…", flush=True)

    supervisor = Supervisor()
    env = child_environment(settings)
    gate = StartGate()
    # The web server builds its app meanwhile, and answers once the gate opens.
    supervisor.children.append(start_web(settings, env, gate))
    try:
        boot = bootstrap(settings)
    except StartupError as error:
        supervisor.stop_all()
        print(f"run.py: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        supervisor.stop_all()
        print("run.py: interrupted during set-up", file=sys.stderr)
        return 130
    except BaseException:
        supervisor.stop_all()
        raise
    gate.open()

    supervisor.install_signal_handlers()
    shown = False
    try:
        ready = supervisor.wait_until(lambda: web_answers(settings), STARTUP_TIMEOUT)
        if ready:
            supervisor.children.append(start_consumer(settings, env))
            print(banner(settings, boot), flush=True)
            shown = True
            dead = supervisor.watch()
        else:
            dead = supervisor.dead_child()
        if dead:
            print(
                f"\n*** run.py: the {dead.name} (pid {dead.pid}) exited with code "
                f"{dead.exit_code()}. MonAssurance cannot run without it: stopping. ***\n",
                file=sys.stderr,
                flush=True,
            )
            supervisor.stop_all()
            return 1
        if not ready and not supervisor.stop_requested:
            print(
                f"run.py: the web server did not answer within {STARTUP_TIMEOUT:.0f} s",
                file=sys.stderr,
            )
            supervisor.stop_all()
            return 1
        print("run.py: stopping…", flush=True)
        return 0 if supervisor.stop_all() else 1
    except BaseException:
        supervisor.stop_all()
        raise
    finally:
        if boot.generated_password and not shown:
            # The account exists now: its only copy of the password must not be lost.
            lines = ["run.py: MonAssurance stopped, but its administrator was created:"]
            print("\n".join([*lines, *credentials(boot)]), flush=True)


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, children get SIGTERM if run.py itself is killed, instead of living on."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork, called after

    def set_parent_death_signal() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return set_parent_death_signal


@contextlib.contextmanager
def _quiet(logger_name: str, level: int) -> Iterator[None]:
    logger = logging.getLogger(logger_name)
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


if __name__ == "__main__":
    sys.exit(main())
