"""Asking for documents: one, or a batch for many policies.

Each use case owns its transaction: it writes the Document row(s), the Job and
one audit row together and commits, and only then hands the ids to the queue.
The row is the truth: when the queue refuses the message (Redis down), the row
stays queued and the sweeper enqueues it later, so the caller still gets 202.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Document,
    DocumentStatus,
    Job,
    JobKind,
    JobStatus,
    OutputFormat,
    Policy,
    Template,
    TemplateKind,
    TemplateVersion,
)
from app.services import audit
from app.services.batches import in_lists
from app.services.documents.queries import valid_id
from app.services.documents.queueing import enqueue_renders
from app.services.errors import InvalidRequestError, NotFoundError
from app.services.scope import visible_organisation_id

# An HTML body renders to HTML or, converted, to PDF; a sheet description only to XLSX.
COMPATIBLE_FORMATS = {
    OutputFormat.html: (OutputFormat.html, OutputFormat.pdf),
    OutputFormat.pdf: (OutputFormat.html, OutputFormat.pdf),
    OutputFormat.xlsx: (OutputFormat.xlsx,),
}


def request_document(
    session: Session,
    user: Any,
    *,
    template_id: int,
    policy_id: int,
    format: str | OutputFormat | None = None,  # noqa: A002 (the API's field name)
    compress: bool = False,
    encrypt: bool = False,
) -> Document:
    """Queue one document of ``template_id``'s published version for ``policy_id``.

    Raises NotFoundError (template or policy outside the user's reach),
    InvalidRequestError (no published version, incompatible format, encryption
    without keys). Returns the committed Document, queued unless a worker was
    already quick enough to take it.
    """
    template, version = _published(session, user, template_id)
    output = _output_format(template, format)
    compress, encrypt = _storage_flags(compress, encrypt)
    organisation_id = _policy_organisations(session, user, [policy_id], template)
    try:
        job = Job(
            organisation_id=organisation_id,
            owner_id=user.id,
            kind=JobKind.render,
            status=JobStatus.queued,
            progress_done=0,
            progress_total=1,
            params={"template_id": template.id, "policy_id": policy_id, "format": output.value},
        )
        session.add(job)
        session.flush()
        document = _new_document(
            user, organisation_id, template, version, policy_id, job.id, output, compress, encrypt
        )
        session.add(document)
        session.flush()
        job.document_id = document.id
        audit.record(
            session,
            "document.requested",
            "Document",
            document.id,
            {
                "template_id": template.id,
                "template_version": version.number,
                "policy_id": policy_id,
                "format": output.value,
                "job_id": job.id,
                "compressed": compress,
                "encrypted": encrypt,
            },
            organisation_id=organisation_id,
            actor=_actor(user),
        )
        document_id = document.id
        session.commit()
    except BaseException:
        session.rollback()
        raise
    enqueue_renders(session, [document_id])
    return document


def request_batch(session: Session, user: Any, *, template_id: int, policy_ids: list[int]) -> Job:
    """Queue one document per policy under one batch job (the template's own format).

    1..DOCUMENT_BATCH_MAX distinct policies of one organisation; duplicates count
    once. Any policy outside the user's reach refuses the whole batch with 404,
    naming none. Each document gets its own task, so several workers share a batch.
    """
    ids = _distinct_ids(policy_ids)
    template, version = _published(session, user, template_id)
    output = template.output_format
    organisation_id = _policy_organisations(session, user, ids, template)
    try:
        job = Job(
            organisation_id=organisation_id,
            owner_id=user.id,
            kind=JobKind.batch_render,
            status=JobStatus.queued,
            progress_done=0,
            progress_total=len(ids),
            params={"template_id": template.id, "policy_count": len(ids), "format": output.value},
        )
        session.add(job)
        session.flush()
        documents = [
            _new_document(
                user, organisation_id, template, version, policy_id, job.id, output, False, False
            )
            for policy_id in ids
        ]
        session.add_all(documents)
        session.flush()
        audit.record(
            session,
            "document.batch_requested",
            "Job",
            job.id,
            {
                "template_id": template.id,
                "template_version": version.number,
                "format": output.value,
                "documents": len(ids),
                "policy_ids": ids,
            },
            organisation_id=organisation_id,
            actor=_actor(user),
        )
        document_ids = [document.id for document in documents]
        session.commit()
    except BaseException:
        session.rollback()
        raise
    enqueue_renders(session, document_ids)
    return job


# --- validation ------------------------------------------------------------------


def _published(session: Session, user: Any, template_id: Any) -> tuple[Template, TemplateVersion]:
    from app.services.templates import visible_template

    template = visible_template(session, user, template_id) if valid_id(template_id) else None
    if template is None:
        raise NotFoundError(_("Template not found."))
    version = (
        session.get(TemplateVersion, template.published_version_id)
        if template.published_version_id
        else None
    )
    if template.kind is TemplateKind.email:
        raise InvalidRequestError(
            _("An e-mail template makes messages, not documents."),
            {"template_id": _("Choose a document template.")},
        )
    if version is None or version.template_id != template.id:
        raise InvalidRequestError(
            _("This template has no published version."),
            {"template_id": _("Publish a version of this template first.")},
        )
    return template, version


def _output_format(template: Template, requested: str | OutputFormat | None) -> OutputFormat:
    if requested is None or requested == "":
        return template.output_format
    try:
        output = OutputFormat(requested)
    except ValueError:
        raise InvalidRequestError(
            _("Unknown document format."), {"format": _("Choose html, pdf or xlsx.")}
        ) from None
    allowed = COMPATIBLE_FORMATS[template.output_format]
    if output not in allowed:
        choices = ", ".join(item.value for item in allowed)
        message = _("This template cannot produce %(format)s: choose %(choices)s.") % {
            "format": output.value,
            "choices": choices,
        }
        raise InvalidRequestError(message, {"format": message})
    return output


def _storage_flags(compress: Any, encrypt: Any) -> tuple[bool, bool]:
    for name, value in (("compress", compress), ("encrypt", encrypt)):
        if not isinstance(value, bool):
            raise InvalidRequestError(
                _("%(field)s must be true or false.") % {"field": name},
                {name: _("true or false")},
            )
    if encrypt and not current_app.config.get("STORAGE_ENCRYPTION_KEYS"):
        message = _(
            "Encryption is not available: the server has no STORAGE_ENCRYPTION_KEYS configured."
        )
        raise InvalidRequestError(message, {"encrypt": message})
    return compress, encrypt


def _distinct_ids(policy_ids: Any) -> list[int]:
    if not isinstance(policy_ids, list | tuple):
        raise InvalidRequestError(
            _("policy_ids must be a list of policy ids."), {"policy_ids": _("a list of ids")}
        )
    if not all(isinstance(item, int) and not isinstance(item, bool) for item in policy_ids):
        raise InvalidRequestError(
            _("policy_ids must be a list of policy ids."), {"policy_ids": _("a list of ids")}
        )
    limit = current_app.config["DOCUMENT_BATCH_MAX"]
    ids = list(dict.fromkeys(policy_ids))  # keeps the order the user chose
    if not ids or len(ids) > limit:
        message = _("Choose between 1 and %(limit)d policies.") % {"limit": limit}
        raise InvalidRequestError(message, {"policy_ids": message})
    if not all(valid_id(policy_id) for policy_id in ids):
        raise NotFoundError(_("Policy not found."))  # an id no row can have
    return ids


def _policy_organisations(
    session: Session, user: Any, policy_ids: list[int], template: Template
) -> int:
    """The one organisation owning every policy; 404 when any is out of reach."""
    if not all(valid_id(policy_id) for policy_id in policy_ids):
        raise NotFoundError(_("Policy not found."))
    scope = visible_organisation_id(user)
    found: dict[int, int] = {}
    for chunk in in_lists(policy_ids):
        query = select(Policy.id, Policy.organisation_id).where(Policy.id.in_(chunk))
        if scope is not None:
            query = query.where(Policy.organisation_id == scope)
        found.update((row[0], row[1]) for row in session.execute(query))
    if len(found) != len(policy_ids):
        raise NotFoundError(_("Policy not found."))
    organisations = set(found.values())
    if len(organisations) > 1:
        raise InvalidRequestError(
            _("A batch covers the policies of one organisation."),
            {"policy_ids": _("Choose policies of one organisation.")},
        )
    organisation_id = organisations.pop()
    # SUPERADMIN sees every template: one agency's template never renders another's data.
    if template.organisation_id not in (None, organisation_id):
        raise NotFoundError(_("Template not found."))
    return organisation_id


# --- rows ------------------------------------------------------------------------


def _new_document(
    user: Any,
    organisation_id: int,
    template: Template,
    version: TemplateVersion,
    policy_id: int,
    job_id: int,
    output: OutputFormat,
    compress: bool,
    encrypt: bool,
) -> Document:
    return Document(
        organisation_id=organisation_id,
        template_id=template.id,
        # Pinned now: a later publish never changes what this document renders.
        template_version_id=version.id,
        policy_id=policy_id,
        job_id=job_id,
        created_by_id=user.id,
        format=output,
        status=DocumentStatus.queued,
        attempts=0,
        compressed=compress,
        encrypted=encrypt,
    )


def _actor(user: Any) -> audit.Actor:
    return audit.Actor(user.id, user.username, getattr(user, "organisation_id", None))
