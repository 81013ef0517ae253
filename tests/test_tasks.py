"""The task queue for real: a `huey_consumer` process answers `flask monassurance ping-worker`.

SQLite queue on both legs; Redis too when TEST_REDIS_URL is set. The heartbeat and
the app context of tasks are checked in process (immediate mode).
"""

from __future__ import annotations

import signal
import time

import pytest
from flask import current_app

from tests.processes import (
    BIN,
    TEST_REDIS_URL,
    Proc,
    backing_services,
    clean_env,
    flask,
    stop,
    wait_until_gone,
)

QUEUES = [
    pytest.param("sqlite", id="sqlite-queue"),
    pytest.param(
        "redis",
        id="redis-queue",
        marks=pytest.mark.skipif(not TEST_REDIS_URL, reason="TEST_REDIS_URL is not set"),
    ),
]


def queue_env(tmp_path, queue: str, services: dict[str, str]) -> dict[str, str]:
    env = clean_env(tmp_path / "data", **services)
    if queue == "sqlite":
        env.pop("REDIS_URL", None)
    assert ("REDIS_URL" in env) == (queue == "redis")
    return env


@pytest.mark.slow
@pytest.mark.parametrize("queue", QUEUES)
def test_ping_worker_fails_without_consumer_then_a_real_consumer_answers(tmp_path, queue):
    with backing_services() as services:
        env = queue_env(tmp_path, queue, services)

        # Nobody consumes yet: the operator is told, with exit code 1. The message names the
        # wait the command used (1 s, not its 10 s default); flask() bounds a hang at 60 s.
        unanswered = flask("monassurance", "ping-worker", "--timeout", "1", env=env)
        assert unanswered.returncode == 1
        assert "no worker answered within 1 s" in unanswered.stderr

        # The production command line, as documented in run.py.
        consumer = Proc(
            [str(BIN / "huey_consumer"), "app.tasks.huey", "-w", "2"], env, tmp_path, "consumer"
        )
        try:
            answered = flask("monassurance", "ping-worker", "--timeout", "30", env=env)
            assert answered.returncode == 0, answered.stdout + answered.stderr
            # The task ran in the consumer, which built its own app to reach the database.
            assert f"pid {consumer.pid}, database reachable" in answered.stdout
        finally:
            code = stop(consumer, signal.SIGINT)
        assert code == 0, consumer.stderr[-3000:]
        # Two pings were sent; the first was revoked when its sender gave up, so the
        # consumer skipped it instead of answering a question nobody asks any more.
        assert consumer.stderr.count("Executing app.tasks.heartbeat.ping") == 1
        assert "was revoked, not executing" in consumer.stderr
        assert wait_until_gone(tmp_path / "data") == []


def test_heartbeat_is_recorded_and_read_back(app):
    from app.tasks.heartbeat import last_heartbeat, record_heartbeat

    before = time.time()
    record_heartbeat()  # immediate mode in the test session: runs inline
    beat = last_heartbeat()
    assert beat is not None and before <= beat <= time.time()
    assert last_heartbeat() == beat  # reading does not consume it


def test_task_app_context_reuses_the_active_app_and_builds_one_otherwise(app, monkeypatch):
    from app.tasks import context

    monkeypatch.setattr(context, "_app", None)  # the built app does not outlive this test

    with app.app_context(), context.task_app_context() as inside:
        assert inside is app
        assert current_app._get_current_object() is app

    with context.task_app_context() as built:
        assert built is not app
        assert current_app._get_current_object() is built
    assert context.task_app() is built  # one app per worker process, kept
