"""Helpers of the date and audit screen tests: rows with known times, and what a walk
over every screen (tests/screens_walk_support.py) must not show. No tests here.

Times are set to WINTER_NOON (UTC, with microseconds): Paris is UTC+1 in December,
so every screen must read 13:00, never 12:00, 12:00:00.123456 or +00:00.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import select, update

from app.extensions import db
from app.models import (
    AuditLog,
    Claim,
    ClaimDocument,
    Client,
    Company,
    Document,
    DocumentStatus,
    Job,
    JobKind,
    JobStatus,
    Organisation,
    Policy,
    PurgeRun,
    SigningKey,
    Template,
    TemplateVersion,
)
from app.services import audit
from tests.screens_walk_support import Page, all_strings

WINTER_NOON = dt.datetime(2025, 12, 10, 12, 0, 0, 123456)  # UTC
BIRTH_DATE = dt.date(1980, 3, 4)
# What no screen may show: ISO dates, times with microseconds, UTC offsets.
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
MICROSECONDS = re.compile(r"\d{2}:\d{2}:\d{2}\.\d+")
UTC_OFFSET = "+00:00"


@dataclass
class World:
    organisation_id: int
    client_id: int
    policy_id: int
    company_id: int
    document_id: int
    queued_document_id: int
    job_id: int
    template_id: int
    purge_run_id: int


def build_world(app: Flask, organisation_id: int, portfolio: Any) -> World:
    """A client, policy, insurer, template with two versions, documents, a job, a purge
    run and audit entries (a worker's among them), all stamped WINTER_NOON."""
    from tests.documents_support import add_version, create_template
    from tests.links_support import stored_document

    ids = portfolio(organisation_id, "7")
    template_id = create_template(app, organisation_id, name="Attestation habitation")
    add_version(app, template_id, "<p>v2</p>")
    document_id = stored_document(app, organisation_id, file_name="contrat-POL-7.pdf")
    queued_id = stored_document(app, organisation_id, status=DocumentStatus.queued)
    with app.app_context():
        session = db.session
        session.get(Client, ids["client"]).birth_date = BIRTH_DATE
        job = Job(
            organisation_id=organisation_id,
            kind=JobKind.export,
            status=JobStatus.succeeded,
            progress_total=1,
            progress_done=1,
        )
        run = PurgeRun(trigger="periodic", actor_name="periodic", organisation_id=organisation_id)
        session.add_all([job, run])
        session.flush()
        from app.services.links.keys import signing_key

        signing_key(session)  # the key signed links need (listed on /signing-keys/)
        from app.services.tasks.defaults import install_defaults

        install_defaults(session, organisation_id)  # the Catégories de tâches screen's rows
        from app.services.claims.checklist import load_defaults

        load_defaults(session, organisation_id)  # the Pièces attendues des sinistres rows
        _money_rows(session, organisation_id, ids)
        _compliance_rows(session, organisation_id, ids)
        _advice_rows(session, organisation_id, ids)
        worker = audit.Actor(None, "worker", organisation_id)
        audit.record(session, "document.ready", "Document", document_id, {"size": 10}, actor=worker)
        session.commit()
        world = World(
            organisation_id,
            ids["client"],
            ids["policy"],
            ids["company"],
            document_id,
            queued_id,
            job.id,
            template_id,
            run.id,
        )
    stamp_everything(app)
    return world


def _advice_rows(session: Any, organisation_id: int, ids: dict[str, int]) -> None:
    """A needs questionnaire, a proposal with a quote and a signed DER, so that the
    Propositions, DER et FIC and Questionnaires screens have rows to show."""
    from decimal import Decimal

    from app.models import (
        ComplianceDocument,
        ComplianceKind,
        ComplianceStatus,
        DeliveryMethod,
        LineOfBusiness,
        NeedsQuestionnaire,
        Proposal,
        Quote,
        QuoteStatus,
    )

    day = WINTER_NOON.date()
    proposal = Proposal(
        organisation_id=organisation_id,
        client_id=ids["client"],
        line_of_business=LineOfBusiness.home,
        answers=[{"question": "Surface ?", "answer": "80 m²"}],
        recommendation="Multirisque habitation",
        reasons="Propriétaire occupant",
    )
    session.add_all(
        [
            NeedsQuestionnaire(
                organisation_id=organisation_id,
                line_of_business=LineOfBusiness.home,
                questions="Surface ?",
            ),
            proposal,
            Quote(
                organisation_id=organisation_id,
                proposal=proposal,
                company_id=ids["company"],
                premium=Decimal("310.00"),
                valid_until=day,
                status=QuoteStatus.priced,
            ),
            ComplianceDocument(
                organisation_id=organisation_id,
                kind=ComplianceKind.der,
                client_id=ids["client"],
                status=ComplianceStatus.signed,
                sent_on=day,
                sent_by=DeliveryMethod.by_hand,
                signed_on=day,
                signed_by=DeliveryMethod.by_hand,
            ),
        ]
    )


def _money_rows(session: Any, organisation_id: int, ids: dict[str, int]) -> None:
    """A premium notice, a payment allocated to it, a SEPA mandate and an e-mail, so that
    the Comptabilité screens and the Boîte d'envoi have rows to show."""
    from decimal import Decimal

    from app.models import (
        Allocation,
        Mandate,
        Message,
        MessageStatus,
        NoticeKind,
        Payment,
        PaymentMethod,
        PremiumNotice,
    )

    notice = PremiumNotice(
        organisation_id=organisation_id,
        policy_id=ids["policy"],
        number="POL-7/C-01",
        kind=NoticeKind.one_off,
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2027, 1, 1),
        due_on=dt.date(2026, 1, 1),
        pay_by=dt.date(2026, 1, 11),
        amount_before_tax=Decimal("250.00"),
        taxes=Decimal("50.00"),
        fees=Decimal("0.00"),
        total=Decimal("300.00"),
        paid_amount=Decimal("100.00"),
    )
    payment = Payment(
        organisation_id=organisation_id,
        client_id=ids["client"],
        amount=Decimal("100.00"),
        received_on=dt.date(2026, 1, 5),
        method=PaymentMethod.cheque,
        allocated_amount=Decimal("100.00"),
    )
    payment.allocations.append(
        Allocation(organisation_id=organisation_id, premium_notice=notice, amount=Decimal("100"))
    )
    mandate = Mandate(
        organisation_id=organisation_id,
        client_id=ids["client"],
        reference="MANDAT-7",
        iban="FR7630006000011234567890189",
        debtor_name="Client Sept",
        signed_on=dt.date(2026, 1, 2),
    )
    message = Message(
        organisation_id=organisation_id,
        status=MessageStatus.awaiting_approval,
        message_id=f"<dates.{organisation_id}@example.com>",
        from_address="Cabinet <cabinet@example.com>",
        to_addresses="client@example.com",
        subject="Votre avis d'échéance",
        body_text="Bonjour",
        policy_id=ids["policy"],
        attempts=0,
    )
    session.add_all([notice, payment, mandate, message])
    _commission_rows(session, organisation_id, ids, notice)
    _claim_rows(session, ids)


def _commission_rows(session: Any, organisation_id: int, ids: dict[str, int], notice: Any) -> None:
    """A reconciled statement and a bordereau, so the Commissions screens show their dates."""
    from decimal import Decimal

    from app.models import (
        CommissionBasis,
        CommissionRule,
        CommissionStatement,
        CommissionStatementLine,
        LineResult,
        Remittance,
        RemittanceLine,
        RemittanceStatus,
        StatementStatus,
    )

    statement = CommissionStatement(
        organisation_id=organisation_id,
        company_id=ids["company"],
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 1, 31),
        file_name="releve-2026-01.csv",
        sha256="0" * 64,
        status=StatementStatus.reconciled,
        tolerance=Decimal("0.05"),
        line_count=1,
        total_commission=Decimal("25.00"),
    )
    statement.lines.append(
        CommissionStatementLine(
            organisation_id=organisation_id,
            row_number=2,
            policy_number="POL-7",
            period_start=dt.date(2026, 1, 1),
            commission=Decimal("25.00"),
            result=LineResult.unknown,
        )
    )
    remittance = Remittance(
        organisation_id=organisation_id,
        company_id=ids["company"],
        number="BE-7-202601-1",
        period_from=dt.date(2026, 1, 1),
        period_to=dt.date(2026, 1, 31),
        status=RemittanceStatus.issued,
        issued_on=dt.date(2026, 2, 2),
        premiums_collected=Decimal("100.00"),
        commission_retained=Decimal("10.00"),
        net_amount=Decimal("90.00"),
    )
    remittance.lines.append(
        RemittanceLine(
            organisation_id=organisation_id,
            premium_notice=notice,
            paid_on=dt.date(2026, 1, 5),
            collected=Decimal("100.00"),
            commission=Decimal("10.00"),
        )
    )
    # A rule ended, so its list and show pages carry both validity dates.
    rule = CommissionRule(
        organisation_id=organisation_id,
        company_id=ids["company"],
        basis=CommissionBasis.rate,
        first_year_rate=Decimal("15.00"),
        valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2026, 12, 31),
    )
    session.add_all([statement, remittance, rule])


def _claim_rows(session: Any, ids: dict[str, int]) -> None:
    """A claim with its expected documents and an indemnity, for the Sinistres screens."""
    from decimal import Decimal

    from app.models import ClaimPayment, SettlementKind
    from app.services.claims.lifecycle import record_claim

    today = dt.date(2026, 2, 2)
    claim = record_claim(
        session,
        session.get(Policy, ids["policy"]),
        today=today,
        nature="water_damage",
        occurred_on=dt.date(2026, 1, 12),
        client_declared_on=dt.date(2026, 1, 20),
        estimate=Decimal("800.00"),
    )
    session.flush()
    session.add(
        ClaimPayment(
            organisation_id=claim.organisation_id,
            claim_id=claim.id,
            kind=SettlementKind.indemnity_client,
            amount=Decimal("650.00"),
            paid_on=today,
        )
    )


def _compliance_rows(session: Any, organisation_id: int, ids: dict[str, int]) -> None:
    """A complaint, acknowledged and answered, so the Réclamations screens show every date."""
    from app.models import Complaint, ComplaintChannel, ComplaintOutcome
    from app.services.compliance.complaints import prepare

    complaint = Complaint(
        organisation_id=organisation_id,
        received_on=dt.date(2025, 11, 3),
        channel=ComplaintChannel.email,
        client_id=ids["client"],
        policy_id=ids["policy"],
        subject="Remboursement en attente",
        acknowledged_on=dt.date(2025, 11, 5),
        answered_on=dt.date(2025, 12, 1),
        outcome=ComplaintOutcome.upheld,
        mediator_named=True,
    )
    prepare(session, complaint, None, dt.date(2025, 12, 10))
    session.add(training_row(session, organisation_id))


def training_row(session: Any, organisation_id: int, reference: str | None = "ATT-2025-12") -> Any:
    """A training of the agency's first person (the Formation DDA screens)."""
    from decimal import Decimal

    from app.models import AppUser, TrainingRecord

    user_id = session.scalars(
        select(AppUser.id).where(AppUser.organisation_id == organisation_id).order_by(AppUser.id)
    ).first()
    return TrainingRecord(
        organisation_id=organisation_id,
        user_id=user_id,
        completed_on=dt.date(2025, 11, 20),
        hours=Decimal("7.5"),
        title="Devoir de conseil",
        body="Institut de formation",
        certificate_reference=reference,
    )


def stamp_everything(app: Flask) -> None:
    """Every stored time of the test's rows becomes WINTER_NOON (microseconds included)."""
    stamps = {
        Organisation: ("created_at", "updated_at"),
        Client: ("created_at", "updated_at"),
        Company: ("created_at", "updated_at"),
        Policy: ("created_at", "updated_at"),
        Document: ("created_at", "started_at", "finished_at"),
        Job: ("created_at", "started_at", "finished_at"),
        Template: ("created_at", "updated_at"),
        TemplateVersion: ("created_at",),
        PurgeRun: ("started_at", "finished_at"),
        SigningKey: ("created_at",),
        AuditLog: ("created_at",),
        Claim: ("created_at", "updated_at"),
        ClaimDocument: ("created_at", "updated_at"),
    }
    with app.app_context():
        for model, columns in stamps.items():
            # The append-only audit log refuses ORM updates, not this bulk statement.
            db.session.execute(update(model).values(dict.fromkeys(columns, WINTER_NOON)))
        db.session.commit()


def date_offences(pages: dict[str, Page]) -> list[tuple[str, str]]:
    """(page, text) of every visible string showing an ISO date, microseconds or +00:00."""
    return [
        (path, text)
        for path, text in all_strings(pages)
        if ISO_DATE.search(text) or MICROSECONDS.search(text) or UTC_OFFSET in text
    ]


# FAB's user groups: the product makes none, so their list has no row to open.
NO_ROWS = {"/groups"}


def model_screens(app: Flask) -> set[str]:
    """The list and show screens of every model view, as URL shapes (/clientview/list)."""
    with app.app_context():
        screens = set()
        for view in app.appbuilder.baseviews:
            if not hasattr(view, "datamodel") or view.route_base in NO_ROWS:
                continue
            for method, suffix in (("list", "list"), ("show", "show/<n>")):
                if f"{view.endpoint}.{method}" in app.view_functions:
                    screens.add(f"{view.route_base}/{suffix}")
        return screens
