"""A real consumer killed mid-send: the message is sent exactly once.

Real processes, as tests/test_documents_durability.py: ``huey_consumer`` on the test
database (SQLite, or the PostgreSQL leg's schema) and a loopback SMTP server (aiosmtpd,
tests/mail_support.py). The server has the message's DATA but holds back its "250" while
the worker that sends it is killed; a consumer started again sends it once more, under
the same Message-ID, which the receiving side keeps once.
"""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from app.models import MessageStatus
from app.services.mail import sweep as sweep_outbox
from tests.mail_support import Recorder, SmtpServer
from tests.test_documents_durability import consumer_env, start_consumer  # noqa: F401
from tests.test_mail_outbox import agency, queue, row  # noqa: F401

SEND_STARTED = "Executing app.tasks.mail.send_message"


class FirstAnswerHeld(Recorder):
    """Keeps the first message it receives, then holds its "250" back a while: the
    sender is killed after the server has the message and before it knows so."""

    hold_seconds = 8.0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.received) == 1:
            await asyncio.sleep(self.hold_seconds)
        return answer


def wait_until(condition, timeout: float, *procs, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        for proc in procs:
            assert proc.process.poll() is None, f"consumer exited:\n{proc.stderr[-3000:]}"
        if time.monotonic() > deadline:
            logs = "\n".join(proc.stderr[-3000:] for proc in procs)
            raise AssertionError(f"{what} after {timeout} s\n{logs}")
        time.sleep(0.05)


@pytest.mark.slow
def test_a_consumer_killed_mid_send_sends_the_message_exactly_once(
    app,
    agency,  # noqa: F811
    consumer_env,  # noqa: F811
):
    smtp = SmtpServer()
    smtp.recorder = FirstAnswerHeld()
    smtp.start()
    mail_url = {"MAIL_URL": f"smtp://127.0.0.1:{smtp.port}?timeout=60"}
    consumers = []
    try:
        first = start_consumer(consumer_env, "first", **mail_url)
        consumers.append(first)
        [message_id] = queue(app, agency["organisation"])

        # The server has the message; the worker waits for its answer: kill it there.
        wait_until(lambda: smtp.recorder.received, 60, first, what="no message reached the server")
        assert row(app, message_id).status is MessageStatus.running
        first.process.send_signal(signal.SIGKILL)
        first.wait(10)
        leased = row(app, message_id)
        assert (leased.status, leased.attempts) == (MessageStatus.running, 1)

        # Nobody renews the dead worker's lease (2 s here); then the sweeper sends it on.
        with app.app_context():
            wait_until(
                lambda: sweep_outbox().requeued > 0, 30, what="the sweeper never re-enqueued it"
            )
        second = start_consumer(consumer_env, "second", **mail_url)
        consumers.append(second)
        wait_until(
            lambda: row(app, message_id).status is not MessageStatus.running,
            60,
            second,
            what="the message was not sent again",
        )
    finally:
        for consumer in consumers:
            if consumer.process.poll() is None:
                consumer.send(signal.SIGINT)
                consumer.wait(30)
        smtp.stop()

    message = row(app, message_id)
    assert message.status is MessageStatus.sent, message.error
    assert message.attempts == 2
    assert message.smtp_answer.startswith("250 2.0.0 Ok: queued as Q2")
    assert second.stderr.count(SEND_STARTED) == 1
    # Received twice at most, always as the same message: the receiving side keeps one.
    assert len(smtp.recorder.received) == 2
    assert list(smtp.recorder.unique()) == [message.message_id]
