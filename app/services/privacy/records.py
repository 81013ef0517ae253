"""Which rows are about a client: the one map the data export and the erasure share.

A client's rows are found by their ids, never by their text: the client, its contracts and
what hangs off them (terms, renewal cycles, cancellations, notices, generated documents),
its mandates, its payments (its own, and any allocated to its notices), its claims (their
payments and expected documents), its complaints, its proposals (the needs statement and
the advice) and their quotes, its DER and FIC, the tasks and e-mails about it or its
contracts, and the files attached to any of these. All inside the client's agency.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select, union_all
from sqlalchemy.orm import Session

from app.models import (
    Allocation,
    Attachment,
    Cancellation,
    Claim,
    ClaimDocument,
    ClaimPayment,
    Client,
    Complaint,
    ComplianceDocument,
    Document,
    Mandate,
    Message,
    Payment,
    Policy,
    PremiumNotice,
    Proposal,
    Quote,
    RenewalCycle,
    Task,
    Term,
)
from app.models.claim import ClaimStatus
from app.services.privacy.holds import ClaimFact, ClientFacts, ContractFact, NoticeFact


@dataclass
class ClientRecords:
    """The ids of every row about one client, per model, all in its organisation."""

    client_id: int
    organisation_id: int
    ids: dict[type, list[int]] = field(default_factory=dict)

    def of(self, model: type) -> list[int]:
        return self.ids.get(model, [])

    def audit_objects(self) -> set[tuple[str, str]]:
        """(object_type, object_id) pairs as the audit trail names these rows."""
        pairs = {("Client", str(self.client_id))}
        for model, ids in self.ids.items():
            pairs.update((model.__name__, str(row_id)) for row_id in ids)
        return pairs


def _ids(session: Session, column: Any, *where: Any) -> list[int]:
    return list(session.scalars(select(column).where(*where).order_by(column)))


def client_records(session: Session, client: Client) -> ClientRecords:
    org = client.organisation_id
    records = ClientRecords(client.id, org)
    ids = records.ids

    def mine(model: Any, *where: Any) -> list[int]:
        found = _ids(session, model.id, model.organisation_id == org, *where)
        ids[model] = found
        return found

    policies = mine(Policy, Policy.client_id == client.id)
    mine(Term, Term.policy_id.in_(policies))
    mine(RenewalCycle, RenewalCycle.policy_id.in_(policies))
    mine(Cancellation, Cancellation.policy_id.in_(policies))
    notices = mine(PremiumNotice, PremiumNotice.policy_id.in_(policies))
    # The advice duty's record: the needs statement's answers, the recommendation, the quotes.
    proposals = mine(Proposal, Proposal.client_id == client.id)
    mine(Quote, Quote.proposal_id.in_(proposals))
    # The DER and FIC (advice duty) print the client's name: their generated files are its.
    mine(ComplianceDocument, ComplianceDocument.client_id == client.id)
    compliance_files = select(ComplianceDocument.document_id).where(
        ComplianceDocument.organisation_id == org, ComplianceDocument.client_id == client.id
    )
    mine(Document, or_(Document.policy_id.in_(policies), Document.id.in_(compliance_files)))
    mine(Mandate, Mandate.client_id == client.id)
    allocated = select(Allocation.payment_id).where(Allocation.premium_notice_id.in_(notices))
    mine(Payment, or_(Payment.client_id == client.id, Payment.id.in_(allocated)))
    claims = mine(Claim, Claim.client_id == client.id)
    mine(ClaimPayment, ClaimPayment.claim_id.in_(claims))
    mine(ClaimDocument, ClaimDocument.claim_id.in_(claims))
    mine(Complaint, Complaint.client_id == client.id)
    mine(Task, or_(Task.client_id == client.id, Task.policy_id.in_(policies)))
    # An e-mail typed to the client's address without naming the client is about it too.
    to_client = (
        [Message.to_addresses.contains(client.email, autoescape=True)] if client.email else []
    )
    mine(
        Message,
        or_(Message.client_id == client.id, Message.policy_id.in_(policies), *to_client),
    )
    mine(
        Attachment,
        or_(
            Attachment.client_id == client.id,
            Attachment.policy_id.in_(policies),
            Attachment.claim_id.in_(claims),
        ),
    )
    return records


def client_facts(session: Session, client: Client) -> ClientFacts:
    """What the hold and retention rules (app/services/privacy/holds.py) look at."""
    org = client.organisation_id
    contracts = [
        ContractFact(row.number, row.status.value, row.effective_on or row.expiry_date)
        for row in session.execute(
            select(Policy.number, Policy.status, Policy.expiry_date, Cancellation.effective_on)
            .outerjoin(Cancellation, Cancellation.policy_id == Policy.id)
            .where(Policy.organisation_id == org, Policy.client_id == client.id)
        )
    ]
    claims = [
        ClaimFact(row.number, row.status is ClaimStatus.closed, row.prescription_on)
        for row in session.execute(
            select(Claim.number, Claim.status, Claim.prescription_on).where(
                Claim.organisation_id == org, Claim.client_id == client.id
            )
        )
    ]
    notices = [
        NoticeFact(row.number, row.status.value, row.due_on)
        for row in session.execute(
            select(PremiumNotice.number, PremiumNotice.status, PremiumNotice.due_on)
            .join(Policy, Policy.id == PremiumNotice.policy_id)
            .where(PremiumNotice.organisation_id == org, Policy.client_id == client.id)
        )
    ]
    payments = list(
        session.scalars(
            select(Payment.received_on).where(
                Payment.organisation_id == org, Payment.client_id == client.id
            )
        )
    )
    open_complaints = len(
        _ids(
            session,
            Complaint.id,
            Complaint.organisation_id == org,
            Complaint.client_id == client.id,
            Complaint.answered_on.is_(None),
        )
    )
    return ClientFacts(
        contracts=contracts,
        claims=claims,
        notices=notices,
        payment_days=payments,
        open_complaints=open_complaints,
        last_contact=_last_contact(session, client),
    )


def _last_contact(session: Session, client: Client) -> dt.date | None:
    """The latest of the client's last change, an e-mail about it, and a change of its
    proposals, their quotes or its DER/FIC: a prospect being quoted is in contact even
    when its own row has not moved for years. One statement, whatever the rows."""
    org, client_id = client.organisation_id, client.id
    proposals = select(Proposal.id).where(
        Proposal.organisation_id == org, Proposal.client_id == client_id
    )
    moments = union_all(
        select(Message.created_at.label("at")).where(
            Message.organisation_id == org, Message.client_id == client_id
        ),
        select(Proposal.updated_at).where(
            Proposal.organisation_id == org, Proposal.client_id == client_id
        ),
        select(Quote.updated_at).where(
            Quote.organisation_id == org, Quote.proposal_id.in_(proposals)
        ),
        select(ComplianceDocument.updated_at).where(
            ComplianceDocument.organisation_id == org, ComplianceDocument.client_id == client_id
        ),
    ).subquery()
    latest = session.scalar(select(func.max(moments.c.at)))
    days = [day for day in (client.updated_at or client.created_at, latest) if day is not None]
    return max(days).date() if days else None
