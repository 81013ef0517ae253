"""The worker side: render one queued document, at most once at a time, never lost.

Huey has no acknowledgements, so the database row carries the work's state:
claim it under a lease (leases.py), render the pinned template version with
plain data, store the bytes under a key made of ids (a re-run overwrites the
one file, never adds one), then settle the row (outcomes.py).
"""

from __future__ import annotations

import logging
import time

from flask import current_app
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Template, TemplateVersion
from app.services import leasing
from app.services.advice.context import compliance_context, compliance_row, reference
from app.services.documents.leases import Claim, LeaseKeeper, claim_document
from app.services.documents.outcomes import Produced, settle_failed, settle_ready, settle_retry
from app.services.rendering import (
    RenderError,
    context_sha256,
    file_name_for,
    load_policy_for_render,
    policy_context,
    render,
    template_prefix,
)
from app.services.storage import document_key, file_store

log = logging.getLogger(__name__)
__all__ = ["claim_document", "run_render"]


class UnrenderableError(Exception):
    """A deterministic problem outside the template (policy gone, no key): fail at once."""


def run_render(document_id: int) -> None:
    """Render and store one document if it is ours to do; idempotent.

    Runs in its own session, never the caller's (in immediate mode the caller is
    the request that asked for the document).
    """
    config = current_app.config
    with Session(db.engine) as session:
        label = f"document {document_id}"
        claim = leasing.once_more_on_disconnect(
            session, label, lambda: claim_document(session, document_id)
        )
        if claim is None:
            return
        keeper = LeaseKeeper(db.engine, claim, config["DOCUMENT_LEASE_SECONDS"])

        def produce() -> Produced:
            with keeper:
                return _produce(session, claim, keeper)

        result = leasing.settle_attempt(
            session,
            label,
            produce,
            final=(UnrenderableError, RenderError),
            fail=lambda reason: settle_failed(session, claim, reason),
            retry=lambda reason: settle_retry(session, claim, reason),
            # Rendering runs third-party code (WeasyPrint, wkhtmltopdf): try again.
            retry_unexpected=True,
        )
        if result is not None:
            settle_ready(session, claim, result)


def _produce(session: Session, claim: Claim, keeper: LeaseKeeper) -> Produced:
    version = session.get(TemplateVersion, claim.template_version_id)
    template = session.get(Template, claim.template_id)
    if version is None or template is None:
        raise UnrenderableError("the template version of this document no longer exists")
    locale = template.locale or "fr"
    if claim.policy_id:
        policy = load_policy_for_render(session, claim.policy_id, claim.organisation_id)
        if policy is None:
            raise UnrenderableError("the policy of this document no longer exists")
        context, number = policy_context(policy, locale=locale), policy.number
    else:
        # A DER or a FIC: about a client or a proposal, before any contract.
        row = compliance_row(session, claim.document_id, claim.organisation_id)
        if row is None:
            raise UnrenderableError("the subject of this document no longer exists")
        context, number = compliance_context(session, row, locale=locale), reference(row)
    body = version.body
    prefix = template_prefix(template.name, template.builtin_key, template.kind)
    # Nothing of the database is held while the render runs (it may take seconds).
    session.rollback()

    started = time.monotonic()
    rendered = render(
        body,
        claim.format,
        context,
        locale=locale,
        timeout=current_app.config["RENDER_TIMEOUT_SECONDS"],
    )
    render_seconds = time.monotonic() - started

    store = file_store()
    if claim.encrypted and not store.codec.can_encrypt:
        raise UnrenderableError("encryption was asked for but STORAGE_ENCRYPTION_KEYS is not set")
    # Write only while the row is ours, so a worker that lost its lease cannot
    # replace the file of the one that took over.
    if keeper.lost.is_set() or not keeper.renew():
        raise leasing.LeaseLostError
    stored = store.put(
        document_key(claim.organisation_id, claim.document_id),
        rendered.data,
        compress=claim.compressed,
        encrypt=claim.encrypted,
    )
    return Produced(
        stored=stored,
        media_type=rendered.media_type,
        engine=rendered.engine,
        file_name=file_name_for(prefix, number, claim.document_id, rendered.extension),
        data_sha256=context_sha256(context),
        render_seconds=render_seconds,
    )
