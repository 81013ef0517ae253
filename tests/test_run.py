"""`python run.py` for real, and the production commands it stands in for.

Each test starts real processes in a temporary data folder on a free port: run.py
with its Huey consumer and gunicorn, or gunicorn and huey_consumer on their own
after the deploy commands. On the PostgreSQL leg they use a fresh schema and Redis.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sys
from pathlib import Path

import pytest

from app.services import demo
from tests.processes import (
    BIN,
    ROOT,
    Proc,
    api_login,
    backing_services,
    clean_env,
    flask,
    free_port,
    http,
    run,
    stop,
    wait_for_http,
    wait_until_gone,
)
from tests.test_api_request_limits import assert_request_line_limits

START_TIMEOUT = 90
BANNER = "Press Ctrl-C to stop."


def start_run_py(env: dict[str, str], logs: Path, name: str) -> tuple[Proc, str]:
    proc = Proc([sys.executable, "run.py"], env, logs, name)
    output = proc.wait_for_output(BANNER, START_TIMEOUT)
    return proc, output


def child_pids(run_py: Proc) -> dict[str, int]:
    """run.py's two children, read from /proc (Linux): the console does not list them."""
    children: dict[str, int] = {}
    for task in Path(f"/proc/{run_py.pid}/task").iterdir():
        for pid in (task / "children").read_text().split():
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if any(part.endswith(b"gunicorn") for part in command):
                children["web server"] = int(pid)
            elif b"worker.py" in command:
                children["Huey consumer"] = int(pid)
    return children


def assert_quiet_console(proc: Proc, *, password: str | None) -> None:
    """The console says where to go and how to log in, and nothing routine beside it.

    Allowed besides the banner: run.py's first line and the one line of the Huey
    consumer's start (its start-up details and the periodic tasks' runs are DEBUG).
    """
    console = proc.stdout + proc.stderr
    lines = [line for line in console.splitlines() if line.strip()]
    banner_lines = run_banner_lines(proc.stdout)
    assert banner_lines[0].startswith("MonAssurance is running at http://127.0.0.1:")
    assert "  Username: admin" in banner_lines
    if password:
        assert f"  Password: {password}" in banner_lines
    others = [line for line in lines if line not in banner_lines]
    assert [line for line in others if line.startswith("Starting MonAssurance (data in ")] == [
        others[0]
    ], console
    huey = [line for line in others if "huey.consumer: Huey consumer started with 2 thread" in line]
    assert len(huey) <= 1, console  # 0 when the banner came first: it starts just before
    left = [line for line in others[1:] if line not in huey]
    assert left == [], f"routine lines on the console:\n{console}"
    for word in ("Warning", "WARNING", "Traceback", "ERROR", "pkg_resources"):
        assert word not in console, console
    assert len(lines) == len(set(lines)), f"a line printed twice:\n{console}"


def run_banner_lines(stdout: str) -> list[str]:
    start = stdout.index("MonAssurance is running at")
    end = stdout.index(BANNER, start) + len(BANNER)
    return [line for line in stdout[start:end].splitlines() if line.strip()]


def policy_count(base_url: str, token: str) -> int:
    status, body = http("GET", base_url + "api/v1/policy/?q=(page_size:1)", token=token)
    assert status == 200, body
    return body["count"]


@pytest.mark.slow
def test_run_py_first_start_second_start_and_worker_death(tmp_path):
    with backing_services() as services:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}/"
        env = clean_env(tmp_path / "data", PORT=str(port), **services)

        # First start: everything from embedded defaults, a generated password printed.
        first, output = start_run_py(env, tmp_path / "logs", "first")
        assert f"MonAssurance is running at {base_url}" in output
        username = re.search(r"Username: (\S+)", output).group(1)
        password = re.search(r"Password: (\S+)", output).group(1)
        assert username == "admin"
        assert len(password) >= 16
        assert password not in first.stderr, "the generated password must not reach the logs"
        # Read before any request is made: the request log lines come after.
        assert_quiet_console(first, password=password)
        pids = child_pids(first)
        assert set(pids) == {"Huey consumer", "web server"}

        wait_for_http(base_url + "health", 30, first)
        token = api_login(base_url, username, password)
        assert policy_count(base_url, token) == demo.POLICY_COUNT
        # run.py's gunicorn reads gunicorn.conf.py: a long q reaches the app.
        assert_request_line_limits(base_url)
        status, page = http("GET", base_url + "login/")  # no Accept-Language: the default
        assert status == 200
        assert "Mot de passe" in page and "Nom d'utilisateur" in page

        # The embedded consumer runs tasks sent by another process (the operator's CLI).
        ping = flask("monassurance", "ping-worker", "--timeout", "30", env=env)
        assert ping.returncode == 0, ping.stdout + ping.stderr
        assert f"pid {pids['Huey consumer']}, database reachable" in ping.stdout

        # Ctrl-C: both children stop gracefully and run.py exits 0.
        assert stop(first, signal.SIGINT, timeout=30) == 0, first.stderr[-3000:]
        assert wait_until_gone(env_data(env)) == []
        assert "Consumer exiting." in first.stderr
        assert password not in first.stderr

        # Second start on the same folder: nothing duplicated, no password shown.
        second, output = start_run_py(env, tmp_path / "logs", "second")
        assert_quiet_console(second, password=None)
        assert "Password:" not in output
        assert password not in output
        assert "Demo data loaded" not in output
        token = api_login(base_url, username, password)
        assert policy_count(base_url, token) == demo.POLICY_COUNT
        # SIGTERM (a service manager's stop) is as clean as Ctrl-C.
        assert stop(second, signal.SIGTERM, timeout=30) == 0, second.stderr[-3000:]
        assert wait_until_gone(env_data(env)) == []

        # Third start: the consumer dies; run.py must not go on serving without it.
        third, output = start_run_py(env, tmp_path / "logs", "third")
        consumer = child_pids(third)["Huey consumer"]
        os.kill(consumer, signal.SIGKILL)
        assert third.wait(30) == 1
        assert f"the Huey consumer (pid {consumer}) exited with code -9" in third.stderr
        assert wait_until_gone(env_data(env)) == []
        with pytest.raises(OSError):
            http("GET", base_url + "health", timeout=2)


@pytest.mark.slow
@pytest.mark.one_leg
def test_run_py_refuses_a_weak_admin_password_before_doing_anything(tmp_path):
    env = clean_env(tmp_path / "data", ADMIN_PASSWORD="short")
    result = run([sys.executable, "run.py"], env, timeout=60)
    assert result.returncode == 2
    assert "ADMIN_PASSWORD is refused: The password must have at least 12 characters" in (
        result.stderr
    )
    assert "short" not in result.stdout
    assert not (tmp_path / "data" / "monassurance.db").exists()


@pytest.mark.slow
@pytest.mark.one_leg
def test_run_py_says_when_the_port_is_taken(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = clean_env(tmp_path / "data", PORT=str(port))
        result = run([sys.executable, "run.py"], env, timeout=60)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert not (tmp_path / "data" / "monassurance.db").exists()


@pytest.mark.slow
def test_production_commands_deploy_serve_and_work(tmp_path):
    """The documented production path: deploy commands, then gunicorn and huey_consumer."""
    with backing_services() as services:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}/"
        env = clean_env(tmp_path / "data", PORT=str(port), HOST="127.0.0.1", **services)
        for command in (
            ["db", "upgrade"],
            ["monassurance", "sync-roles"],
            [
                "monassurance",
                "create-admin",
                "--username",
                "ops",
                "--password",
                "night shift deploy key",
            ],
        ):
            result = flask(*command, env=env)
            assert result.returncode == 0, f"flask {' '.join(command)}:\n{result.stderr[-3000:]}"

        config = ["-c", "gunicorn.conf.py"] if (ROOT / "gunicorn.conf.py").exists() else []
        web = Proc([str(BIN / "gunicorn"), *config, "wsgi:app"], env, tmp_path / "logs", "web")
        worker = Proc(
            [str(BIN / "huey_consumer"), "app.tasks.huey", "-w", "2"], env, tmp_path / "logs", "w"
        )
        try:
            wait_for_http(base_url + "health", START_TIMEOUT, web)
            status, body = http("GET", base_url + "health/db")
            assert status == 200, body
            assert body["redis"] is (True if "REDIS_URL" in services else None)
            token = api_login(base_url, "ops", "night shift deploy key")
            assert policy_count(base_url, token) == 0
            ping = flask("monassurance", "ping-worker", "--timeout", "30", env=env)
            assert ping.returncode == 0, ping.stdout + ping.stderr
            assert f"pid {worker.pid}, database reachable" in ping.stdout
        finally:
            web_code = stop(web, signal.SIGTERM)
            worker_code = stop(worker, signal.SIGINT)
        assert (web_code, worker_code) == (0, 0), web.stderr[-2000:] + worker.stderr[-2000:]
        assert wait_until_gone(env_data(env)) == []


# --- the set-up steps of run.py, in process -------------------------------------------


def use_environment(monkeypatch, tmp_path, **values: str) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "ADMIN_USERNAME", "ADMIN_PASSWORD", "DEMO_DATA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    for name, value in values.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"PORT": "70000"}, "PORT must be between 1 and 65535, got 70000"),
        ({"PORT": "eighty"}, "PORT must be an integer, got 'eighty'"),
        ({"DEMO_DATA": "perhaps"}, "DEMO_DATA must be a boolean"),
        ({"ADMIN_PASSWORD": "x" * 300}, "at most 128 characters"),
        ({"ADMIN_USERNAME": "direction", "ADMIN_PASSWORD": "la direction 2024"}, "user name"),
    ],
)
def test_read_settings_refuses_bad_values(monkeypatch, tmp_path, values, message):
    import run

    use_environment(monkeypatch, tmp_path, **values)
    with pytest.raises(run.StartupError, match=re.escape(message)):
        run.read_settings()


def test_bootstrap_takes_the_admin_from_the_environment_once(monkeypatch, tmp_path, http):
    import run
    from app import create_app
    from app.extensions import db
    from tests.conftest import api_token, make_config

    with backing_services(redis=False) as services:
        chosen = "a long chosen passphrase"
        use_environment(
            monkeypatch,
            tmp_path,
            ADMIN_USERNAME="direction",
            ADMIN_PASSWORD=chosen,
            DEMO_DATA="false",
            **services,
        )
        settings = run.read_settings()
        assert (settings.host, settings.port, settings.url) == (
            "127.0.0.1",
            8000,
            "http://127.0.0.1:8000/",
        )
        first = run.bootstrap(settings)
        assert first == run.Bootstrap("direction", None, admin_created=True, demo_policies=None)
        assert "Password:" not in run.banner(settings, first)
        again = run.bootstrap(settings)
        assert again == run.Bootstrap("direction", None, admin_created=False, demo_policies=None)

        url = services.get("DATABASE_URL", f"sqlite:///{tmp_path / 'monassurance.db'}")
        app = create_app(make_config(SQLALCHEMY_DATABASE_URI=url))
        try:
            client = app.test_client()
            token = api_token(client, "direction", chosen)
            listing = client.get("/api/v1/policy/", headers={"Authorization": f"Bearer {token}"})
            assert listing.status_code == 200 and listing.json["count"] == 0  # no demo data
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def env_data(env: dict[str, str]) -> Path:
    return Path(env["DATA_DIR"])
