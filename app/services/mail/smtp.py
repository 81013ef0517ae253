"""The SMTP server, behind one module: every e-mail the product sends leaves through ``deliver``.

Flask-Mailman builds the MIME message and opens the connection (MAIL_URL, config.py);
the conversation itself is written out here so that the server's answer to DATA
("250 2.0.0 Ok: queued as …") and each refused recipient are kept on the message.

Two kinds of trouble, because the outbox treats them differently:
- ``RefusedError``: the server said no for good (5xx): trying again would get the same answer;
- ``UnreachableError``: it could not be asked, or said "later" (connection refused, timeout,
  4xx): the message waits and goes when the server is back, at no cost in attempts.
Without MAIL_URL nothing leaves: the message is "sent" to the local outbox.
"""

from __future__ import annotations

import contextlib
import smtplib
from dataclasses import dataclass, field
from email.utils import make_msgid

from flask import current_app
from flask_mailman import EmailMultiAlternatives
from flask_mailman.message import sanitize_address

from app.extensions import mail

LOCAL_OUTBOX = "local outbox"


class RefusedError(Exception):
    """The server refused the message for good; ``answer`` is what it said."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer[:1000]


class UnreachableError(Exception):
    """The server could not take the message now (down, timeout, a 4xx answer)."""


@dataclass(frozen=True)
class Outgoing:
    """A message as it leaves: addresses, texts and attachments (file name, bytes, media type)."""

    message_id: str
    from_address: str
    to: list[str]
    subject: str
    body_text: str
    reply_to: str | None = None
    cc: list[str] = field(default_factory=list)
    body_html: str | None = None
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)


def new_message_id(sender: str) -> str:
    """An RFC 5322 Message-ID in the sender's domain, chosen once per message."""
    domain = sender.rpartition("@")[2].strip(" >") or "localhost"
    return make_msgid(domain=domain)


def is_local() -> bool:
    return current_app.config.get("MAIL_BACKEND") == "outbox"


def deliver(outgoing: Outgoing) -> str:
    """Hand the message to the SMTP server; its answer. Raises RefusedError or UnreachableError."""
    if is_local():
        return LOCAL_OUTBOX
    email = _email(outgoing)
    connection = mail.get_connection(fail_silently=False)
    try:
        connection.open()
        return _converse(connection.connection, email)
    except smtplib.SMTPRecipientsRefused as error:
        answers = {
            address: f"{code} {_text(text)}" for address, (code, text) in error.recipients.items()
        }
        described = "; ".join(f"{address}: {answer}" for address, answer in answers.items())
        if any(not answer.startswith("5") for answer in answers.values()):
            raise UnreachableError(described) from None
        raise RefusedError(described) from None
    except smtplib.SMTPResponseException as error:
        answer = f"{error.smtp_code} {_text(error.smtp_error)}"
        if 500 <= error.smtp_code < 600:
            raise RefusedError(answer) from None
        raise UnreachableError(answer) from None
    except (smtplib.SMTPException, OSError) as error:
        raise UnreachableError(f"{type(error).__name__}: {error}"[:1000]) from None
    finally:
        # The message is already settled one way or the other.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            connection.close()


def _email(outgoing: Outgoing) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=outgoing.subject,
        body=outgoing.body_text,
        from_email=outgoing.from_address,
        to=outgoing.to,
        cc=outgoing.cc or None,
        reply_to=[outgoing.reply_to] if outgoing.reply_to else None,
        # Kept from the row: a second attempt is recognisably the same message.
        headers={"Message-ID": outgoing.message_id},
    )
    if outgoing.body_html:
        email.attach_alternative(outgoing.body_html, "text/html")
    for file_name, data, media_type in outgoing.attachments:
        email.attach(file_name, data, media_type)
    return email


def _converse(connection: smtplib.SMTP, email: EmailMultiAlternatives) -> str:
    """MAIL, RCPT for each recipient, DATA; the answer to DATA and any refused recipient."""
    encoding = email.encoding or "utf-8"
    sender = sanitize_address(email.from_email, encoding)
    recipients = [sanitize_address(address, encoding) for address in email.recipients()]
    raw = email.message().as_bytes(linesep="\r\n")
    connection.ehlo_or_helo_if_needed()
    code, text = connection.mail(sender)
    if code != 250:
        connection.rset()
        raise smtplib.SMTPSenderRefused(code, text, sender)
    refused: dict[str, tuple[int, bytes]] = {}
    for recipient in recipients:
        code, text = connection.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, text)
    if len(refused) == len(recipients):
        connection.rset()
        raise smtplib.SMTPRecipientsRefused(refused)
    code, text = connection.data(raw)
    if code != 250:
        connection.rset()
        raise smtplib.SMTPDataError(code, text)
    answer = f"{code} {_text(text)}"
    if refused:  # delivered to the others: say who was refused
        answer += "; refused: " + "; ".join(
            f"{address}: {code} {_text(text)}" for address, (code, text) in refused.items()
        )
    return answer[:1000]


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
