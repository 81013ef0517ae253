"""Writing messages to the outbox: checked, rendered texts kept, committed, then queued.

Everything is checked before anything is written (addresses, the records and the
documents attached, all of the caller's agency), so a refusal queues nothing. Each
message gets its Message-ID here, before any attempt to send it; the rows are
committed and only then handed to the queue (app/services/leasing.py), so a worker or
an SMTP outage delays a message and never loses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import formataddr
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models import Document, DocumentStatus, Message, MessageStatus, Organisation
from app.models.base import utcnow
from app.services import audit, leasing
from app.services.batches import in_lists
from app.services.errors import InvalidRequestError, NotFoundError
from app.services.mail.smtp import new_message_id

MAX_RECIPIENTS = 20


@dataclass
class Draft:
    """One message as its author (or its template) wrote it, and what it is about."""

    to: list[str]
    subject: str
    body_text: str
    cc: list[str] = field(default_factory=list)
    body_html: str | None = None
    document_ids: list[int] = field(default_factory=list)
    template_version_id: int | None = None
    client_id: int | None = None
    policy_id: int | None = None
    renewal_cycle_id: int | None = None
    premium_notice_id: int | None = None
    claim_id: int | None = None


def sender_of(organisation: Organisation) -> tuple[str, str | None]:
    """The agency's From (its name and address) and Reply-To."""
    address = (
        organisation.mail_from or organisation.email or current_app.config["MAIL_DEFAULT_SENDER"]
    )
    reply_to = organisation.mail_reply_to or (
        organisation.email if organisation.email != address else None
    )
    return formataddr((organisation.name, address)), reply_to


def signature(organisation: Organisation) -> str:
    """What ends every message: the agency, and its ORIAS number as the law asks of brokers."""
    lines = [organisation.name]
    place = " ".join(part for part in (organisation.postal_code, organisation.city) if part)
    if organisation.address or place:
        lines.append(", ".join(part for part in (organisation.address, place) if part))
    # In French whoever asked for the message: it is read by the agency's clients.
    with force_locale("fr"):
        broker = _(
            "Insurance broker, ORIAS no. %(number)s (www.orias.fr)",
            number=organisation.orias_number,
        )
    lines.append(str(broker))
    return "\n".join(lines)


def queue_messages(
    session: Session,
    organisation_id: int,
    drafts: list[Draft],
    *,
    created_by_id: int | None,
    approval: bool = False,
    documents_may_be_pending: bool = False,
) -> list[int]:
    """Write one message per draft, committed; queued for sending unless ``approval``.

    Raises InvalidRequestError (an address, an empty subject, a document not ready)
    or NotFoundError (a document of another agency, or none) before writing anything.
    ``documents_may_be_pending``: documents still rendering may be attached (the
    message waits for them when it is sent). Returns the messages' ids.
    """
    status = MessageStatus.awaiting_approval if approval else MessageStatus.queued
    messages = build_messages(
        session,
        organisation_id,
        drafts,
        created_by_id=created_by_id,
        status=status,
        documents_may_be_pending=documents_may_be_pending,
    )
    session.add_all(messages)
    session.flush()
    for message in messages:
        audit.record(
            session,
            "message.awaiting_approval" if approval else "message.queued",
            "Message",
            message.id,
            _audited(message),
            organisation_id=organisation_id,
        )
    session.commit()
    ids = [message.id for message in messages]
    if not approval:
        enqueue_messages(session, ids)
    return ids


def build_messages(
    session: Session,
    organisation_id: int,
    drafts: list[Draft],
    *,
    created_by_id: int | None,
    status: MessageStatus = MessageStatus.queued,
    documents_may_be_pending: bool = False,
) -> list[Message]:
    """The checked, rendered messages of ``drafts`` (not added to the session).

    Raises as queue_messages does, before anything is written.
    """
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFoundError(_("Organisation not found."))
    documents = _documents(session, organisation_id, drafts, documents_may_be_pending)
    sender, reply_to = sender_of(organisation)
    closing = signature(organisation)
    messages = []
    for draft in drafts:
        to, cc = _addresses(draft.to, "to"), _addresses(draft.cc, "cc", required=False)
        subject = " ".join((draft.subject or "").split())
        if not subject:
            raise InvalidRequestError(
                _("A message needs a subject."), {"subject": _("This field is required.")}
            )
        messages.append(
            Message(
                organisation_id=organisation_id,
                status=status,
                message_id=new_message_id(sender),
                from_address=sender,
                reply_to=reply_to,
                to_addresses=", ".join(to),
                cc_addresses=", ".join(cc) or None,
                subject=subject[:300],
                body_text=f"{draft.body_text.rstrip()}\n\n-- \n{closing}\n",
                body_html=_html_with_signature(draft.body_html, closing),
                attachments=[_attachment(documents[i]) for i in draft.document_ids] or None,
                template_version_id=draft.template_version_id,
                client_id=draft.client_id,
                policy_id=draft.policy_id,
                renewal_cycle_id=draft.renewal_cycle_id,
                premium_notice_id=draft.premium_notice_id,
                claim_id=draft.claim_id,
                created_by_id=created_by_id,
                attempts=0,
            )
        )
    return messages


def insert_rule_messages(session: Session, messages: list[Message]) -> list[int]:
    """Insert a task rule's messages that are not written yet; the new ones' ids, audited.

    Each carries its rule_id and rule_key: the unique pair and ON CONFLICT DO NOTHING
    keep a re-run, or a second worker, from writing (and so sending) a message twice.
    Flushed in the caller's transaction, not committed: the caller queues the ids
    (enqueue_messages) once it has committed, and the sweeper does if it cannot.
    """
    if not messages:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(Message)
    elif dialect == "sqlite":
        statement = sqlite.insert(Message)
    else:  # pragma: no cover (the two databases the project runs on)
        raise RuntimeError(f"no ON CONFLICT for {dialect}")
    now = utcnow()
    columns = [column.key for column in Message.__table__.columns if column.key != "id"]
    rows = []
    for message in messages:
        message.created_at = message.updated_at = now
        rows.append({key: getattr(message, key) for key in columns})
    statement = statement.on_conflict_do_nothing(index_elements=["rule_id", "rule_key"])
    inserted = session.execute(statement.returning(Message.id, Message.rule_key), rows).all()
    by_key = {message.rule_key: message for message in messages}
    for message_id, rule_key in inserted:
        message = by_key[rule_key]
        audit.record(
            session,
            "message.queued",
            "Message",
            message_id,
            {**_audited(message), "rule_id": message.rule_id},
            organisation_id=message.organisation_id,
        )
    return sorted(message_id for message_id, _key in inserted)


def enqueue_messages(session: Session, message_ids: list[int]) -> int:
    """One send task per committed message; how many the queue accepted (never raises)."""
    from app.tasks.mail import send_message

    return leasing.send(session, Message, message_ids, send_message)


def _audited(message: Message) -> dict[str, Any]:
    """What the record's history shows of a message: to whom, what, about which record."""
    changes: dict[str, Any] = {"to": message.to_addresses, "subject": message.subject}
    for key in ("policy_id", "client_id", "renewal_cycle_id", "premium_notice_id", "claim_id"):
        if getattr(message, key) is not None:
            changes[key] = getattr(message, key)
    if message.attachments:
        changes["attachments"] = [item["file_name"] for item in message.attachments]
    return changes


def _addresses(values: list[str], key: str, *, required: bool = True) -> list[str]:
    cleaned = []
    for value in values or []:
        try:
            cleaned.append(validate_email(value.strip(), check_deliverability=False).normalized)
        except (EmailNotValidError, AttributeError):
            raise InvalidRequestError(
                _("Invalid e-mail address: %(address)s", address=str(value)[:254]),
                {key: _("Invalid e-mail address.")},
            ) from None
    if required and not cleaned:
        raise InvalidRequestError(
            _("A message needs a recipient's e-mail address."),
            {key: _("This field is required.")},
        )
    if len(cleaned) > MAX_RECIPIENTS:
        raise InvalidRequestError(
            _("At most %(n)d recipients.", n=MAX_RECIPIENTS),
            {key: _("At most %(n)d recipients.", n=MAX_RECIPIENTS)},
        )
    return cleaned


def _documents(
    session: Session, organisation_id: int, drafts: list[Draft], pending: bool
) -> dict[int, Document]:
    """The documents attached, all of the agency and ready (or rendering, if ``pending``);
    404 for any other."""
    wanted = sorted({i for draft in drafts for i in draft.document_ids})
    found: dict[int, Document] = {}
    for chunk in in_lists(wanted):
        rows = session.execute(
            select(Document).where(
                Document.id.in_(chunk), Document.organisation_id == organisation_id
            )
        ).scalars()
        found.update((row.id, row) for row in rows)
    if len(found) != len(wanted):
        raise NotFoundError(_("Document not found."))
    allowed = {DocumentStatus.ready}
    if pending:
        allowed |= {DocumentStatus.queued, DocumentStatus.running}
    for document in found.values():
        if document.status not in allowed or (
            document.status is DocumentStatus.ready and not document.storage_key
        ):
            raise InvalidRequestError(
                _("Document %(name)s is not ready yet.", name=str(document)),
                {"document_ids": _("Attach documents that are ready.")},
            )
    return found


def _attachment(document: Document) -> dict[str, Any]:
    return {
        "document_id": document.id,
        "file_name": document.file_name or f"document-{document.id}",
        "media_type": document.media_type or "application/octet-stream",
        "size": document.size,
        "sha256": document.sha256,
    }


def _html_with_signature(body_html: str | None, closing: str) -> str | None:
    if not body_html:
        return None
    from markupsafe import escape

    lines = "<br>".join(escape(line) for line in closing.splitlines())
    return f'{body_html}\n<p class="signature">{lines}</p>\n'
