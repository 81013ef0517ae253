"""The outbox: messages written and committed before they are sent, sent once through a
real SMTP server (aiosmtpd), never lost to an SMTP outage, a lost task or a dead worker."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditLog, Message, MessageStatus, Organisation
from app.models.base import utcnow
from app.services import mail
from app.services.errors import InvalidRequestError, NotFoundError
from app.services.mail import sending
from config import mail_settings
from tests.mail_support import SmtpServer, ready_document, smtp_for

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


@pytest.fixture
def agency(app, make_organisation):
    organisation_id = make_organisation("Cabinet Durand")
    with app.app_context():
        organisation = db.session.get(Organisation, organisation_id)
        organisation.email = "contact@durand-assurances.fr"
        organisation.mail_reply_to = "gestion@durand-assurances.fr"
        db.session.commit()
        orias = organisation.orias_number
    return {"organisation": organisation_id, "orias": orias}


@pytest.fixture
def smtp(app):
    server = SmtpServer()
    server.start()
    with smtp_for(app, server):
        yield server
    server.stop()


def queue(app, organisation_id, *, to="jeanne@example.com", documents=(), count=1, **extra):
    drafts = [
        mail.Draft(
            to=[to],
            subject="Votre avis d'échéance",
            body_text="Bonjour,\nveuillez trouver votre avis d'échéance.",
            document_ids=list(documents),
            **extra,
        )
        for _ in range(count)
    ]
    with app.app_context():
        return mail.queue_messages(db.session, organisation_id, drafts, created_by_id=None)


def sweep(app, now=None):
    with app.app_context():
        return mail.sweep(now=now)


def row(app, message_id) -> Message:
    with app.app_context():
        message = db.session.get(Message, message_id)
        db.session.expunge(message)
        return message


def test_without_mail_url_the_message_stays_in_the_local_outbox_signed_with_the_orias(app, agency):
    [message_id] = queue(app, agency["organisation"])

    message = row(app, message_id)
    assert message.status is MessageStatus.sent
    assert message.smtp_answer == "local outbox"
    assert f"ORIAS n° {agency['orias']}" in message.body_text
    assert message.from_address == "Cabinet Durand <contact@durand-assurances.fr>"
    with app.app_context():
        actions = db.session.execute(
            select(AuditLog.action).where(
                AuditLog.object_type == "Message", AuditLog.object_id == str(message_id)
            )
        ).scalars()
        assert set(actions) == {"message.queued", "message.sent"}


def test_the_smtp_server_receives_the_attachment_s_exact_bytes(app, agency, smtp):
    document_id = ready_document(app, agency["organisation"], PDF)

    [message_id] = queue(app, agency["organisation"], documents=[document_id])

    message = row(app, message_id)
    assert message.status is MessageStatus.sent, message.error
    assert message.smtp_answer.startswith("250 2.0.0 Ok: queued as")
    [received] = smtp.recorder.received
    assert received["Message-ID"] == message.message_id
    assert received["Reply-To"] == "gestion@durand-assurances.fr"
    assert received["To"] == "jeanne@example.com"
    assert "Votre avis d" in received["Subject"]
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == "avis.pdf"
    assert attachment.get_content() == PDF
    assert message.attachments[0]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert agency["orias"] in received.get_body(("plain",)).get_content()


def test_an_smtp_outage_keeps_the_message_queued_and_it_goes_once_when_the_server_returns(
    app, agency
):
    server = SmtpServer()  # not started: connections are refused
    with smtp_for(app, server):
        [message_id] = queue(app, agency["organisation"])
        waiting = row(app, message_id)
        assert waiting.status is MessageStatus.queued
        assert waiting.attempts == 0  # an outage costs no attempt, however long
        assert "SMTP server unavailable" in waiting.error

        # Minutes of outage: the sweeper keeps trying, the message keeps waiting.
        for minute in (2, 3, 4):
            sweep(app, now=utcnow() + dt.timedelta(minutes=minute))
        assert row(app, message_id).status is MessageStatus.queued

        server.start()
        try:
            sweep(app, now=utcnow() + dt.timedelta(minutes=5))
            sweep(app, now=utcnow() + dt.timedelta(minutes=6))
        finally:
            server.stop()

    assert row(app, message_id).status is MessageStatus.sent
    assert len(server.recorder.received) == 1


def test_a_worker_killed_after_the_server_took_the_message_sends_it_again_with_the_same_id(
    app, agency, smtp, monkeypatch
):
    # The worker dies between the server's "250" and the row's update: nothing settles.
    monkeypatch.setattr(sending, "settle_sent", lambda *_args: None)
    [message_id] = queue(app, agency["organisation"])
    assert row(app, message_id).status is MessageStatus.running
    monkeypatch.undo()

    sweep(app)  # the lease still runs: nobody else may send it
    assert len(smtp.recorder.received) == 1
    with app.app_context():
        db.session.execute(
            update(Message)
            .where(Message.id == message_id)
            # Minutes later: the dead worker's lease has run out.
            .values(
                enqueued_at=utcnow() - dt.timedelta(minutes=6),
                lease_expires_at=utcnow() - dt.timedelta(seconds=1),
            )
        )
        db.session.commit()
    sweep(app)
    sweep(app)

    message = row(app, message_id)
    assert message.status is MessageStatus.sent
    assert message.attempts == 2
    # Sent at most twice, always as the same message: the receiving side keeps one.
    assert len(smtp.recorder.received) == 2
    assert list(smtp.recorder.unique()) == [message.message_id]


def test_a_recipient_the_server_refuses_fails_the_message_with_the_server_s_answer(
    app, agency, smtp
):
    smtp.recorder.refuse.add("nobody@example.com")

    [message_id] = queue(app, agency["organisation"], to="nobody@example.com")

    message = row(app, message_id)
    assert message.status is MessageStatus.failed
    assert message.attempts == 1  # refused for good: not tried again
    assert "550 5.1.1" in message.smtp_answer
    assert smtp.recorder.received == []
    with app.app_context():
        actions = set(
            db.session.execute(
                select(AuditLog.action).where(
                    AuditLog.object_type == "Message", AuditLog.object_id == str(message_id)
                )
            ).scalars()
        )
    assert "message.failed" in actions


def test_a_message_the_queue_refused_is_sent_by_the_sweeper(app, agency, monkeypatch):
    def redis_down(_message_id):
        raise ConnectionError("redis is away")

    monkeypatch.setattr("app.tasks.mail.send_message", redis_down)
    [message_id] = queue(app, agency["organisation"])
    assert row(app, message_id).status is MessageStatus.queued
    monkeypatch.undo()

    sweep(app, now=utcnow() + dt.timedelta(minutes=2))

    assert row(app, message_id).status is MessageStatus.sent


@pytest.mark.parametrize("address", ["not-an-address", "jeanne@", ""])
def test_a_bad_address_is_refused_and_nothing_is_queued(app, agency, address):
    with pytest.raises(InvalidRequestError):
        queue(app, agency["organisation"], to=address, count=2)
    with app.app_context():
        assert db.session.execute(select(Message.id)).first() is None


def test_an_attachment_of_another_agency_is_not_found_and_nothing_is_queued(
    app, agency, make_organisation
):
    other = make_organisation()
    theirs = ready_document(app, other, PDF)

    with pytest.raises(NotFoundError):
        queue(app, agency["organisation"], documents=[theirs])
    with app.app_context():
        assert db.session.execute(select(Message.id)).first() is None


def test_an_agency_over_its_rate_waits_for_the_next_minute(app, agency, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_RATE_PER_MINUTE", 2)

    ids = queue(app, agency["organisation"], count=3)

    statuses = [row(app, message_id).status for message_id in ids]
    assert statuses == [MessageStatus.sent, MessageStatus.sent, MessageStatus.queued]
    sweep(app, now=utcnow() + dt.timedelta(minutes=2))
    assert row(app, ids[2]).status is MessageStatus.queued  # still the same minute
    with app.app_context():
        db.session.execute(
            update(Message)
            .where(Message.id.in_(ids[:2]))
            .values(finished_at=utcnow() - dt.timedelta(minutes=2))
        )
        db.session.commit()
    sweep(app, now=utcnow() + dt.timedelta(minutes=2))
    assert row(app, ids[2]).status is MessageStatus.sent


def test_a_message_with_no_attempt_left_fails_with_the_reason(app, agency, monkeypatch):
    monkeypatch.setattr("app.tasks.mail.send_message", lambda _id: None)  # lost messages
    [message_id] = queue(app, agency["organisation"])
    with app.app_context():
        db.session.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(
                status=MessageStatus.running,
                attempts=app.config["DOCUMENT_MAX_ATTEMPTS"],
                lease_expires_at=utcnow() - dt.timedelta(minutes=1),
            )
        )
        db.session.commit()

    assert sweep(app).failed == 1

    message = row(app, message_id)
    assert message.status is MessageStatus.failed
    assert "the worker stopped" in message.error


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (None, {"MAIL_BACKEND": "outbox"}),
        (
            "smtp://user%40x:p%3Ass@mail.example.com:587?starttls",
            {
                "MAIL_SERVER": "mail.example.com",
                "MAIL_PORT": 587,
                "MAIL_USERNAME": "user@x",
                "MAIL_PASSWORD": "p:ss",
                "MAIL_USE_TLS": True,
                "MAIL_USE_SSL": False,
            },
        ),
        (
            "smtps://mail.example.com",
            {"MAIL_PORT": 465, "MAIL_USE_SSL": True, "MAIL_USE_TLS": False},
        ),
        ("smtp://mail.example.com", {"MAIL_PORT": 25, "MAIL_USE_TLS": False}),
    ],
)
def test_mail_url_gives_flask_mailman_its_settings(url, expected):
    settings = mail_settings(url)
    assert {key: settings[key] for key in expected} == expected


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "smtp://h:port"])
def test_a_mail_url_that_is_not_smtp_stops_the_start(url):
    with pytest.raises(ValueError, match="MAIL_URL"):
        mail_settings(url)
