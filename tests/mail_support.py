"""A real SMTP server for the e-mail tests (aiosmtpd, on a free loopback port), and helpers.

The server keeps every DATA it accepted, and can refuse chosen recipients with a 550.
``unique()`` keeps one message per Message-ID, as a receiving server that recognises a
repeat would: the outbox promises exactly one *distinct* message per row.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask

from app.extensions import db, mail
from app.models import Document, DocumentStatus, OutputFormat
from app.services.storage import document_key, file_store
from tests.processes import free_port


@dataclass
class Recorder:
    """aiosmtpd handler: accepts everything but ``refuse``, keeps what it received."""

    refuse: set[str] = field(default_factory=set)
    received: list[Any] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: unknown user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.received.append(parsed)
        return f"250 2.0.0 Ok: queued as Q{len(self.received)}"

    def unique(self) -> dict[str, Any]:
        return {message["Message-ID"]: message for message in self.received}


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.recorder = Recorder()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@contextmanager
def smtp_for(app: Flask, server: SmtpServer) -> Iterator[None]:
    """Point the app's MAIL settings at ``server`` (as MAIL_URL=smtp://127.0.0.1:port would)."""
    from config import mail_settings

    saved = {key: app.config.get(key) for key in mail_settings(None) | {"MAIL_PORT": 0}}
    settings = mail_settings(f"smtp://127.0.0.1:{server.port}?timeout=5")
    app.config.update(settings)
    mail.init_app(app)
    try:
        yield
    finally:
        for key in settings:
            app.config.pop(key, None)
        app.config.update(saved)
        mail.init_app(app)


def ready_document(app: Flask, organisation_id: int, data: bytes, name: str = "avis.pdf") -> int:
    """A ready document whose stored bytes are ``data``; its id."""
    with app.app_context():
        document = Document(
            organisation_id=organisation_id,
            format=OutputFormat.pdf,
            status=DocumentStatus.ready,
            file_name=name,
            media_type="application/pdf",
        )
        db.session.add(document)
        db.session.flush()
        stored = file_store().put(
            document_key(organisation_id, document.id), data, compress=True, encrypt=False
        )
        document.storage_key = stored.key
        document.sha256 = stored.sha256
        document.size = stored.size
        document.compressed = True
        db.session.commit()
        return document.id
