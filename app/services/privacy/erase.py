"""Erasure (RGPD art. 17): a client's personal data anonymised, its accounting kept.

What goes: names, contacts, address, birth date, notes; mandates' IBAN, BIC and debtor
name; payers' names and notes; claims' circumstances, place, third parties, expert and
their payments' counterparties; complaints' subjects; renewal and cancellation notes;
the titles and notes of tasks about the client; the addresses, subjects and bodies of
the e-mails about it; its proposals' needs statement answers (the questions asked stay),
recommendations and reasons; every attached file (bytes and row) and the generated
documents of its contracts and its DER and FIC (they print its name). What stays: ids,
numbers, amounts (the quotes' premiums too), dates and statuses, so the agency's accounts
and registers (which advice was given when, which quote became which contract) add up.

The audit trail keeps the fact (``client.erased``: who, when, which client id, how many
rows) and loses the data: the older entries about the client's rows, and any entry of
the agency quoting its e-mail, phone, IBAN or full name, have those values replaced.
This is the one rewrite of the append-only trail; it is done by a bulk UPDATE (the ORM
listener that refuses updates guards flushes of loaded rows, app/models/audit.py).

Rows are changed by bulk statements too: the flush listener would otherwise write the
old values into new audit entries. Files are deleted before the commit: if the commit
then fails, a row may name a missing file (it answers 404), never the reverse.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Text, bindparam, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from app.models import (
    Attachment,
    AuditLog,
    Cancellation,
    Claim,
    ClaimPayment,
    Client,
    Complaint,
    Document,
    Mandate,
    Message,
    Payment,
    Proposal,
    RenewalCycle,
    Task,
)
from app.models.base import utcnow
from app.services import audit
from app.services.errors import ConflictError
from app.services.privacy.export import export_jobs_of
from app.services.privacy.holds import Hold, legal_holds
from app.services.privacy.records import ClientRecords, client_facts, client_records
from app.services.storage import FileStore, attachment_key, document_key, file_store

ERASED = "[effacé]"
ERASED_NAME = "Client anonymisé"
# The placeholder the mandate's IBAN takes: not an account, and says why.
ERASED_IBAN = "ERASED"
# Keys of audit diffs that hold personal data whatever their value.
PERSONAL_KEYS = frozenset(
    {
        "first_name",
        "last_name",
        "company_name",
        "siren",
        "email",
        "phone",
        "address",
        "postal_code",
        "city",
        "birth_date",
        "notes",
        "note",
        "iban",
        "bic",
        "debtor_name",
        "payer",
        "circumstances",
        "place",
        "third_parties",
        "expert",
        "counterparty",
        "subject",
        "title",
        "result_note",
        "decision_reason",
        "file_name",
        "to",
        "to_addresses",
        "cc_addresses",
        "body_text",
        "body_html",
        "client",
        "name",
        "answers",
        "answer",
        "recommendation",
        "reasons",
    }
)
# Shorter values would match unrelated text ("Paris", "Léa").
MIN_TOKEN = 5


def holds_message(holds: Iterable[Hold]) -> dict[str, str]:
    """The 409's field errors: each hold kind and the contracts, claims or notices it names."""
    labels = {
        "open_contract": _("Open contract"),
        "claim_not_prescribed": _("Claim not prescribed"),
        "accounting_open": _("Accounting period not over"),
        "open_complaint": _("Complaint not answered"),
    }
    grouped: dict[str, list[str]] = {}
    for hold in holds:
        grouped.setdefault(hold.kind, []).append(hold.what)
    return {
        kind: _("%(hold)s: %(items)s", hold=labels[kind], items=", ".join(whats))
        for kind, whats in grouped.items()
    }


def check_erasable(session: Session, client: Client, today: dt.date) -> None:
    """ConflictError (409) when the client was erased already or a legal hold applies."""
    if client.erased_at is not None:
        raise ConflictError(_("This client's data was already erased."))
    holds = legal_holds(client_facts(session, client), today)
    if holds:
        raise ConflictError(
            _("This client's data must be kept for now (legal holds)."), holds_message(holds)
        )


def erase_client(
    session: Session,
    client: Client,
    *,
    today: dt.date,
    actor: audit.Actor | None = None,
    store: FileStore | None = None,
    reason: str | None = None,
) -> dict[str, int]:
    """Anonymise ``client`` (or refuse with 409); the caller commits. Returns the counts."""
    check_erasable(session, client, today)
    store = store or file_store()
    records = client_records(session, client)
    tokens = personal_tokens(session, client, records)
    # Claim the client first: a second erasure running at the same time waits on this
    # row (PostgreSQL) and then finds it erased, before it deletes any file.
    claimed = session.execute(
        update(Client)
        .where(Client.id == client.id, Client.erased_at.is_(None))
        .values(erased_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise ConflictError(_("This client's data was already erased."))
    counts = {
        "attachments": _delete_attachments(session, store, records),
        "documents": _delete_documents(session, store, records),
        "messages": len(records.of(Message)),
    }
    _scrub_rows(session, client, records)
    counts["audit_entries"] = scrub_audit(session, records, tokens)
    session.expire(client)
    audit.record(
        session,
        "client.erased",
        "Client",
        client.id,
        {**counts, **({"reason": reason} if reason else {})},
        organisation_id=client.organisation_id,
        actor=actor,
    )
    return counts


def personal_tokens(session: Session, client: Client, records: ClientRecords) -> dict[str, bool]:
    """Values to find in free text -> whether to look for them agency-wide (else own rows)."""
    tokens: dict[str, bool] = {}
    full = " ".join(part for part in (client.first_name, client.last_name) if part)
    for value in (client.email, client.phone, full, client.company_name, client.address):
        if value and len(value) >= MIN_TOKEN:
            tokens[value] = True
    for value in (client.last_name, client.notes):
        if value and len(value) >= MIN_TOKEN:
            tokens.setdefault(value, False)
    for iban, debtor in session.execute(
        select(Mandate.iban, Mandate.debtor_name).where(Mandate.id.in_(records.of(Mandate)))
    ):
        tokens[iban] = True
        if debtor and len(debtor) >= MIN_TOKEN:
            tokens.setdefault(debtor, False)
    return tokens


def _delete_attachments(session: Session, store: FileStore, records: ClientRecords) -> int:
    ids = records.of(Attachment)
    rows = session.execute(
        select(Attachment.id, Attachment.organisation_id, Attachment.has_thumbnail).where(
            Attachment.id.in_(ids)
        )
    ).all()
    for row in rows:
        store.delete(attachment_key(row.organisation_id, row.id))
        if row.has_thumbnail:
            store.delete(attachment_key(row.organisation_id, row.id, thumbnail=True))
    if ids:
        session.execute(delete(Attachment).where(Attachment.id.in_(ids)))
    return len(rows)


def _delete_documents(session: Session, store: FileStore, records: ClientRecords) -> int:
    """The contracts' generated documents print the client's name, and earlier data exports
    hold everything: file and row go."""
    ids = records.of(Document) + export_jobs_of(session, records.organisation_id, records.client_id)
    rows = session.execute(
        select(Document.id, Document.organisation_id, Document.storage_key).where(
            Document.id.in_(ids)
        )
    ).all()
    for row in rows:
        store.delete(row.storage_key or document_key(row.organisation_id, row.id))
    if ids:
        # Notices, cycles and cancellations forget them (SET NULL), spent links go (CASCADE).
        session.execute(delete(Document).where(Document.id.in_(ids)))
    return len(rows)


def _bulk(session: Session, model: Any, ids: list[int], **values: Any) -> None:
    if ids:
        session.execute(
            update(model)
            .where(model.id.in_(ids))
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _scrub_rows(session: Session, client: Client, records: ClientRecords) -> None:
    _bulk(
        session,
        Client,
        [client.id],
        first_name=None,
        last_name=ERASED_NAME,
        company_name=None,
        siren=None,
        email=None,
        phone=None,
        address=None,
        postal_code=None,
        city=None,
        birth_date=None,
        notes=None,
    )
    _bulk(
        session, Mandate, records.of(Mandate), iban=ERASED_IBAN, bic=None, debtor_name=ERASED_NAME
    )
    _bulk(session, Payment, records.of(Payment), payer=None, note=None)
    _bulk(
        session,
        Claim,
        records.of(Claim),
        circumstances=None,
        place=None,
        third_parties=None,
        expert=None,
    )
    _bulk(session, ClaimPayment, records.of(ClaimPayment), counterparty=None, note=None)
    _bulk(session, Complaint, records.of(Complaint), subject=ERASED)
    _bulk(session, RenewalCycle, records.of(RenewalCycle), decision_reason=None)
    _bulk(session, Cancellation, records.of(Cancellation), note=None)
    _bulk(session, Task, records.of(Task), title=ERASED, result_note=None)
    _bulk(session, Proposal, records.of(Proposal), recommendation=None, reasons=None)
    _erase_answers(session, records.of(Proposal))
    _bulk(
        session,
        Message,
        records.of(Message),
        to_addresses=ERASED,
        cc_addresses=None,
        subject=ERASED,
        body_text=ERASED,
        body_html=None,
        attachments=None,
        smtp_answer=None,
        error=None,
    )


def _erase_answers(session: Session, ids: list[int]) -> None:
    """Each proposal keeps the questions it asked (the needs statement was taken) and
    loses the client's answers. Core statements: no flush, so no audit entry re-quotes them."""
    table = Proposal.__table__
    rows = session.execute(select(table.c.id, table.c.answers).where(table.c.id.in_(ids))).all()
    blanked = [
        {
            "proposal_id": row.id,
            "blank": [
                {"question": item.get("question"), "answer": ERASED}
                for item in row.answers or []
                if isinstance(item, dict)
            ],
        }
        for row in rows
    ]
    if blanked:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("proposal_id"))
            .values(answers=bindparam("blank")),
            blanked,
        )


def _json_forms(token: str) -> list[str]:
    """How a value may read inside stored JSON text (PostgreSQL keeps it as written)."""
    escaped = json.dumps(token)[1:-1]
    return [token] if escaped == token else [token, escaped]


def scrub_audit(session: Session, records: ClientRecords, tokens: dict[str, bool]) -> int:
    """Replace the client's personal data in older audit entries; returns how many changed."""
    objects = records.audit_objects()
    text = cast(AuditLog.changes, Text)
    wide = [
        text.contains(form, autoescape=True)
        for token, everywhere in tokens.items()
        if everywhere
        for form in _json_forms(token)
    ]
    by_object = [
        (AuditLog.object_type == kind) & (AuditLog.object_id.in_(ids))
        for kind, ids in _group(objects).items()
    ]
    query = select(AuditLog.id, AuditLog.object_type, AuditLog.object_id, AuditLog.changes).where(
        AuditLog.organisation_id == records.organisation_id,
        AuditLog.changes.is_not(None),
        or_(*wide, *by_object),
    )
    changed = 0
    for row in session.execute(query).all():
        own = (row.object_type, row.object_id) in objects
        cleaned = scrub_value(row.changes, tokens, own=own)
        if cleaned != row.changes:
            session.execute(
                update(AuditLog)
                .where(AuditLog.id == row.id)
                .values(changes=cleaned)
                .execution_options(synchronize_session=False)
            )
            changed += 1
    return changed


def _group(objects: set[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for kind, object_id in objects:
        grouped.setdefault(kind, []).append(object_id)
    return grouped


def scrub_value(value: Any, tokens: dict[str, bool], *, own: bool, key: str = "") -> Any:
    """``value`` with personal data replaced: every leaf under a personal key of the
    client's own rows, and any text quoting a token (all of them on its own rows)."""
    if isinstance(value, dict):
        return {name: scrub_value(item, tokens, own=own, key=name) for name, item in value.items()}
    if isinstance(value, list):
        return [scrub_value(item, tokens, own=own, key=key) for item in value]
    if value is None or isinstance(value, bool):
        return value
    if own and key in PERSONAL_KEYS:
        return ERASED
    if isinstance(value, str):
        lowered = value.lower()
        for token, everywhere in tokens.items():
            if (own or everywhere) and token.lower() in lowered:
                return ERASED
    return value
