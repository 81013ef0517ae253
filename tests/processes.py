"""Helpers for tests that start real processes: run.py, gunicorn, huey_consumer, flask.

Each process gets a clean environment pointing at a temporary data folder, so
nothing leaks from the in-process test app (its HUEY_IMMEDIATE, its DATA_DIR).
On the PostgreSQL leg, `backing_services` hands out a fresh schema and a queue
name of its own on the test Redis.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")

# Variables the test session sets or an operator may have set, none of which a
# child should inherit: each test says what it wants.
_SCRUBBED = (
    "DATA_DIR",
    "DATABASE_URL",
    "REDIS_URL",
    "STORAGE_URL",
    "SECRET_KEY",
    "HUEY_IMMEDIATE",
    "HUEY_NAME",
    "HUEY_SQLITE_PATH",
    "ADMIN_USERNAME",
    "ADMIN_PASSWORD",
    "DEMO_DATA",
    "HOST",
    "PORT",
    "PROMETHEUS_MULTIPROC_DIR",
    "FLASK_APP",
    "GUNICORN_CMD_ARGS",
    "WEB_CONCURRENCY",
    "LOG_JSON",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    data_dir.mkdir(parents=True, exist_ok=True)
    env["DATA_DIR"] = str(data_dir.resolve())
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@contextmanager
def backing_services(redis: bool = True) -> Iterator[dict[str, str]]:
    """DATABASE_URL / REDIS_URL / HUEY_NAME for a child on the PostgreSQL+Redis leg, else {}."""
    if not TEST_DATABASE_URL:
        yield {}
        return
    import psycopg

    from config import normalise_database_url

    admin_url = TEST_DATABASE_URL.replace("+psycopg", "")
    schema = f"p_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    env = {
        "DATABASE_URL": normalise_database_url(
            f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3D{schema}"
        )
    }
    if redis and TEST_REDIS_URL:
        env["REDIS_URL"] = TEST_REDIS_URL
        env["HUEY_NAME"] = f"monassurance-test-{secrets.token_hex(4)}"
    try:
        yield env
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


class Proc:
    """A child process whose output goes to files, so a full pipe never blocks it."""

    def __init__(self, command: list[str], env: dict[str, str], logs: Path, name: str) -> None:
        logs.mkdir(parents=True, exist_ok=True)
        self.out_path = logs / f"{name}.out"
        self.err_path = logs / f"{name}.err"
        self._out = self.out_path.open("wb")
        self._err = self.err_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=self._out, stderr=self._err
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def send(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._out.close()
            self._err.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.wait(10)

    def wait_for_output(self, needle: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.stdout
            if needle in text:
                return text
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(
            f"{needle!r} never printed (exit {self.process.poll()}):\n"
            f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr[-4000:]}"
        )


def run(
    command: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def flask(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """The `flask` command as an operator types it in the repo root (.flaskenv gives FLASK_APP)."""
    return run([str(BIN / "flask"), *args], env, timeout)


def http(
    method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 10
) -> tuple[int, Any]:
    """One HTTP request; returns (status, parsed JSON or text)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw, kind = (
                response.status,
                response.read(),
                response.headers.get_content_type(),
            )
    except urllib.error.HTTPError as error:
        status, raw, kind = error.code, error.read(), error.headers.get_content_type()
    text = raw.decode("utf-8", errors="replace")
    return status, json.loads(text) if kind == "application/json" else text


def wait_for_http(url: str, timeout: float, proc: Proc | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.process.poll() is not None:
            raise AssertionError(f"exited with {proc.process.poll()}:\n{proc.stderr[-4000:]}")
        try:
            if http("GET", url, timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def api_login(base_url: str, username: str, password: str) -> str:
    status, body = http(
        "POST",
        base_url + "api/v1/security/login",
        {"username": username, "password": password, "provider": "db", "refresh": True},
    )
    assert status == 200, body
    return body["access_token"]


def pids_using(data_dir: Path) -> list[int]:
    """Live processes whose environment points at this data folder (Linux /proc)."""
    marker = f"DATA_DIR={data_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if state != "Z" and marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def wait_until_gone(data_dir: Path, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = pids_using(data_dir)
        if not left:
            return []
        time.sleep(0.1)
    return pids_using(data_dir)


def stop(proc: Proc, signum: int = signal.SIGINT, timeout: float = 30) -> int:
    proc.send(signum)
    return proc.wait(timeout)
