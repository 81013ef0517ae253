"""Messages from a template and a record: one from a record's page, many from a list.

A record is a contract, a renewal cycle, a premium notice or a claim (each names its
contract, whose context the template reads, as documents do:
app/services/rendering/context.py; a claim adds its own ``claim`` facts), or a client
alone. The message is filed against the record and its contract and client, so that
each of their pages' history shows it. Every record must be of the caller's agency
(else 404, as unknown), the template an e-mail template the caller may read, with a
published version. A template that fails to render refuses the whole request, naming
the line: nothing is queued. Rendered texts are kept on each message (outbox.py), with the version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Claim,
    Client,
    Message,
    MessageStatus,
    Organisation,
    PremiumNotice,
    RenewalCycle,
    Template,
    TemplateKind,
    TemplateVersion,
)
from app.models.base import utcnow
from app.services import audit
from app.services.errors import InvalidRequestError, NotFoundError
from app.services.mail.outbox import Draft, enqueue_messages, queue_messages
from app.services.mail.templates import render_email
from app.services.rendering import RenderError, load_policy_for_render, policy_context
from app.services.rendering.context import organisation_context
from app.services.scope import visible_organisation_id
from app.services.templates.access import valid_id
from app.services.timezones import local_today, zone

RECORD_KINDS = ("policy", "client", "renewal_cycle", "premium_notice", "claim")
# Records that name their contract: the message is filed against both.
POLICY_RECORDS: dict[str, Any] = {
    "renewal_cycle": RenewalCycle,
    "premium_notice": PremiumNotice,
    "claim": Claim,
}


@dataclass
class Record:
    """What a message is about, and what its template reads."""

    organisation_id: int
    email: str | None
    context: dict[str, Any]
    links: dict[str, int | None] = field(default_factory=dict)


@dataclass(frozen=True)
class BulkResult:
    message_ids: list[int]
    skipped: list[dict[str, Any]]  # {"id": record id, "reason": why no message}


def email_template(
    session: Session, user: Any, template_id: Any
) -> tuple[Template, TemplateVersion]:
    """The published version of an e-mail template the user may read; 404 or 422 otherwise."""
    from app.services.templates import visible_template

    template = visible_template(session, user, template_id) if valid_id(template_id) else None
    if template is None:
        raise NotFoundError(_("Template not found."))
    if template.kind is not TemplateKind.email:
        raise InvalidRequestError(
            _("This template makes documents, not e-mails."),
            {"template_id": _("Choose an e-mail template.")},
        )
    version = (
        session.get(TemplateVersion, template.published_version_id)
        if template.published_version_id
        else None
    )
    if version is None:
        raise InvalidRequestError(
            _("This template has no published version."),
            {"template_id": _("Publish a version of this template first.")},
        )
    return template, version


def load_record(session: Session, user: Any, kind: str, record_id: Any) -> Record:
    """The record (policy, client, renewal_cycle, premium_notice or claim) in the user's reach."""
    return record_in_scope(session, visible_organisation_id(user), kind, record_id)


def record_in_scope(session: Session, scope: int | None, kind: str, record_id: Any) -> Record:
    """The record if it belongs to agency ``scope`` (None: any); NotFoundError otherwise.

    For callers acting for an agency without a user (a task rule's daily run).
    """
    if kind not in RECORD_KINDS or not valid_id(record_id):
        raise NotFoundError(_("Record not found."))
    if kind == "client":
        client = session.get(Client, record_id)
        if client is None or (scope is not None and client.organisation_id != scope):
            raise NotFoundError(_("Record not found."))
        return _client_record(session, client)
    policy_id, links, row = record_id, {"policy_id": record_id}, None
    if kind in POLICY_RECORDS:
        row = session.get(POLICY_RECORDS[kind], record_id)
        if row is None or (scope is not None and row.organisation_id != scope):
            raise NotFoundError(_("Record not found."))
        policy_id = row.policy_id
        links = {"policy_id": policy_id, f"{kind}_id": record_id}
    policy = load_policy_for_render(session, policy_id, scope)
    if policy is None:
        raise NotFoundError(_("Record not found."))
    links["client_id"] = policy.client_id
    context = policy_context(policy)
    if isinstance(row, Claim):
        context["claim"] = claim_context(row)
    return Record(policy.organisation_id, policy.client.email, context, links)


def claim_context(claim: Claim) -> dict[str, Any]:
    """What a message about a claim may say of it (docs/templates.md, "claim")."""
    return {
        "number": claim.number,
        "insurer_claim_number": claim.insurer_claim_number,
        "occurred_on": claim.occurred_on,
        "nature": claim.nature.value,
        "status": claim.status.value,
    }


def _client_record(session: Session, client: Client) -> Record:
    organisation = session.get(Organisation, client.organisation_id)
    context = {
        "organisation": organisation_context(organisation),
        "client": {
            "display_name": client.display_name,
            "first_name": client.first_name,
            "last_name": client.last_name,
            "company_name": client.company_name,
            "email": client.email,
        },
        "today": local_today(zone(organisation.timezone if organisation else None)),
    }
    return Record(client.organisation_id, client.email, context, {"client_id": client.id})


def draft_for(
    template: Template,
    version: TemplateVersion,
    record: Record,
    *,
    to: list[str] | None = None,
    cc: list[str] | None = None,
    document_ids: list[int] | None = None,
    links: list[tuple[str, str]] | None = None,
) -> Draft:
    """The message of ``template`` for ``record``; InvalidRequestError naming the line."""
    try:
        rendered = render_email(version.body, record.context, locale=template.locale or "fr")
    except RenderError as error:
        raise InvalidRequestError(
            _("The e-mail template could not be rendered: %(error)s", error=str(error)),
            {"template_id": str(error)},
        ) from None
    body_html, body_text = rendered.html, rendered.text
    for file_name, url in links or []:
        body_html += f'\n<p><a href="{escape(url)}">{escape(file_name)}</a></p>'
        body_text += f"\n\n{file_name} : {url}"
    recipients = to or ([record.email] if record.email else [])
    return Draft(
        to=recipients,
        cc=cc or [],
        subject=rendered.subject,
        body_text=body_text,
        body_html=body_html,
        document_ids=list(document_ids or []),
        template_version_id=version.id,
        **record.links,
    )


def send_from_record(
    session: Session,
    user: Any,
    *,
    template_id: Any,
    record_kind: str,
    record_id: Any,
    to: list[str] | None = None,
    cc: list[str] | None = None,
    document_ids: list[int] | None = None,
    link: bool = False,
) -> int:
    """One message about one record, queued at once; its id.

    ``link``: the documents are not attached but offered as signed download links
    (the longest lifetime allowed, LINK_TTL_MAX_SECONDS).
    """
    template, version = email_template(session, user, template_id)
    record = load_record(session, user, record_kind, record_id)
    if not to and not record.email:
        raise InvalidRequestError(
            _("This client has no e-mail address: give one."), {"to": _("This field is required.")}
        )
    links = _signed_links(session, user, document_ids or []) if link else None
    draft = draft_for(
        template,
        version,
        record,
        to=to,
        cc=cc,
        document_ids=None if link else document_ids,
        links=links,
    )
    [message_id] = queue_messages(
        session, record.organisation_id, [draft], created_by_id=getattr(user, "id", None)
    )
    return message_id


def send_bulk(
    session: Session,
    user: Any,
    *,
    template_id: Any,
    record_kind: str,
    record_ids: list[Any],
    attach_avis: bool = False,
    approval: bool = False,
) -> BulkResult:
    """One message per record (their clients' addresses), all or nothing.

    Over MAIL_BULK_MAX records: 422. Records whose client has no e-mail address are
    skipped and said. ``attach_avis`` (renewal cycles): each cycle's avis d'échéance
    document, generated first when it has none; the message waits for it.
    ``approval``: the messages wait for a manager's approval (``approve``).
    """
    ids = list(dict.fromkeys(record_ids or []))
    maximum = current_app.config["MAIL_BULK_MAX"]
    if not ids:
        raise InvalidRequestError(_("Choose at least one record."), {"record_ids": _("Empty.")})
    if len(ids) > maximum:
        raise InvalidRequestError(
            _("At most %(n)d messages in one sending.", n=maximum),
            {"record_ids": _("At most %(n)d messages in one sending.", n=maximum)},
        )
    if attach_avis and record_kind != "renewal_cycle":
        raise InvalidRequestError(
            _("The avis d'échéance is attached to renewal cycles only."),
            {"attach_avis": _("Choose renewal cycles.")},
        )
    template, version = email_template(session, user, template_id)
    records = [load_record(session, user, record_kind, record_id) for record_id in ids]
    organisations = {record.organisation_id for record in records}
    if len(organisations) > 1:
        raise InvalidRequestError(_("A sending covers the records of one agency."))
    drafts, skipped, with_address = [], [], []
    for record_id, record in zip(ids, records, strict=True):
        if not record.email:
            skipped.append({"id": record_id, "reason": _("The client has no e-mail address.")})
            continue
        drafts.append(draft_for(template, version, record))
        with_address.append(record_id)
    if attach_avis and drafts:
        from app.services.mail.avis import avis_documents

        documents = avis_documents(session, user, with_address)
        for draft, record_id in zip(drafts, with_address, strict=True):
            draft.document_ids = [documents[record_id]]
    message_ids = (
        queue_messages(
            session,
            organisations.pop(),
            drafts,
            created_by_id=getattr(user, "id", None),
            approval=approval,
            documents_may_be_pending=attach_avis,
        )
        if drafts
        else []
    )
    return BulkResult(message_ids, skipped)


def approve(session: Session, user: Any, message_ids: list[Any], *, approved: bool = True) -> int:
    """Approve (queue) or refuse (cancel) messages awaiting approval; how many changed.

    Messages of another agency, or no longer awaiting, are left as they are.
    """
    ids = [message_id for message_id in message_ids if valid_id(message_id)]
    scope = visible_organisation_id(user)
    query = select(Message).where(
        Message.id.in_(ids), Message.status == MessageStatus.awaiting_approval
    )
    if scope is not None:
        query = query.where(Message.organisation_id == scope)
    messages = session.execute(query.with_for_update()).scalars().all()
    now = utcnow()
    for message in messages:
        message.status = MessageStatus.queued if approved else MessageStatus.cancelled
        message.approved_by_id = getattr(user, "id", None)
        message.approved_at = now
        if not approved:
            message.finished_at = now
        audit.record(
            session,
            "message.approved" if approved else "message.refused",
            "Message",
            message.id,
            {"to": message.to_addresses, "subject": message.subject},
            organisation_id=message.organisation_id,
        )
    changed = [message.id for message in messages]
    session.commit()
    if approved and changed:
        enqueue_messages(session, changed)
    return len(changed)


def _signed_links(session: Session, user: Any, document_ids: list[int]) -> list[tuple[str, str]]:
    from app.services.documents import visible_document
    from app.services.links.issue import issue_link

    links = []
    ttl = current_app.config["LINK_TTL_MAX_SECONDS"]
    for document_id in document_ids:
        issued = issue_link(session, user, document_id, ttl=ttl)
        document = visible_document(session, user, document_id)
        url = url_for("download.download_link", token=issued.token, _external=True)
        links.append((document.file_name or f"document-{document_id}", url))
    return links
