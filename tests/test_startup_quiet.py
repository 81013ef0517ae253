"""A quiet console: what runs every minute, every login and every start logs nothing routine.

The console of `python run.py` is where the one-time administrator password is shown;
routine lines (Huey's periodic runs, FAB's warnings on ordinary logins, its start-up
notices) buried it. tests/test_run.py checks the console of a real start; these check
each source of noise through the code that produced it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading

import pytest
from huey.consumer import Scheduler

from app.ops.start_gate import GATE_ENV, StartGate, wait_for_gate
from app.tasks import huey
from app.tasks.heartbeat import HEARTBEAT_KEY, last_heartbeat
from tests.conftest import PASSWORD, csrf_token

# A minute at which every per-minute periodic task is due (and the nightly purge is not).
AN_IDLE_MINUTE = dt.datetime(2026, 3, 4, 10, 42)


def info_or_above(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.INFO]


def test_an_idle_minute_of_periodic_tasks_logs_nothing_at_info(app, caplog):
    huey.get(HEARTBEAT_KEY)  # read and removed: the run below must write it again
    scheduler = Scheduler(huey, threading.Event(), interval=1, periodic=True)
    due = huey.read_periodic(AN_IDLE_MINUTE)
    assert {task.name for task in due} >= {"sweep_documents", "sweep_tabular_jobs"}

    caplog.set_level(logging.INFO)
    with app.app_context():
        # Huey's scheduler, as the consumer calls it each minute; the tasks run inline here.
        scheduler.enqueue_periodic_tasks(AN_IDLE_MINUTE)

    assert last_heartbeat() is not None, "the periodic tasks did run"
    assert info_or_above(caplog) == []


def test_the_periodic_runs_are_still_logged_at_debug(app, caplog):
    scheduler = Scheduler(huey, threading.Event(), interval=1, periodic=True)
    caplog.set_level(logging.DEBUG)
    with app.app_context():
        scheduler.enqueue_periodic_tasks(AN_IDLE_MINUTE)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("huey")]
    assert any(line.startswith("Enqueueing periodic task") for line in lines)
    assert any("sweep_documents" in line and "executed in" in line for line in lines)
    assert info_or_above(caplog) == []


def test_a_task_someone_asked_for_is_still_logged_at_info(app, caplog):
    from app.tasks.heartbeat import ping

    caplog.set_level(logging.INFO)
    with app.app_context():
        ping()
    assert any(
        r.name == "huey" and "ping" in r.getMessage() and r.levelno == logging.INFO
        for r in caplog.records
    )


def test_an_ordinary_login_logs_no_invalid_redirect_warning(app, http, make_user, caplog):
    user = make_user("USER")
    caplog.set_level(logging.INFO)
    token = csrf_token(http, "/login/")
    response = http.post(
        "/login/", data={"username": user, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert not [r for r in caplog.records if "redirect" in r.getMessage().lower()]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_login_keeps_its_safe_next_page(app, http, make_user):
    user = make_user("USER")
    token = csrf_token(http, "/login/")
    response = http.post(
        "/login/?next=/policy/list/",
        data={"username": user, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/policy/list/"


def test_a_login_refuses_an_outside_next_page_and_says_so(app, http, make_user, caplog):
    user = make_user("USER")
    token = csrf_token(http, "/login/")
    response = http.post(
        "/login/?next=https://elsewhere.example/steal",
        data={"username": user, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert any("Invalid redirect" in r.getMessage() for r in caplog.records)


def test_a_logged_in_user_on_the_login_page_goes_home_quietly(app, http, login, make_user, caplog):
    login(make_user("USER"))
    caplog.set_level(logging.INFO)
    response = http.get("/login/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


# --- the start gate: gunicorn's worker waits for run.py's database work ----------------


def test_the_gate_holds_a_worker_until_opened(monkeypatch):
    gate = StartGate()
    monkeypatch.setenv(GATE_ENV, str(gate.read_fd))
    beats: list[int] = []
    passed = threading.Event()

    def worker() -> None:
        wait_for_gate(lambda: True, lambda: beats.append(1))
        passed.set()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert not passed.wait(1.5), "the worker went through a closed gate"
        assert beats, "a waiting worker keeps telling gunicorn it is alive"
        gate.open()
        assert passed.wait(10)
    finally:
        gate.open()
        thread.join(10)
        os.close(gate.read_fd)


def test_the_gate_lets_a_stopping_worker_go(monkeypatch):
    gate = StartGate()
    monkeypatch.setenv(GATE_ENV, str(gate.read_fd))
    try:
        wait_for_gate(lambda: False, lambda: None)  # returns at once: told to stop
    finally:
        gate.open()
        os.close(gate.read_fd)


def test_without_run_py_nothing_waits(monkeypatch):
    monkeypatch.delenv(GATE_ENV, raising=False)
    wait_for_gate(lambda: True, lambda: pytest.fail("no gate: no wait, no heartbeat"))
