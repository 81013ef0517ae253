"""A former client with something in every corner: the world the RGPD tests erase and export."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import (
    Allocation,
    Claim,
    ClaimNature,
    ClaimStatus,
    Client,
    CloseReason,
    Company,
    Complaint,
    ComplaintChannel,
    ComplaintOutcome,
    LineOfBusiness,
    Mandate,
    Message,
    MessageStatus,
    NoticeKind,
    NoticeStatus,
    Payment,
    PaymentMethod,
    Policy,
    PolicyStatus,
    PremiumNotice,
    Task,
)
from app.services.advice.questionnaire import DEFAULT_QUESTIONS
from app.services.templates import load_builtin_templates

FIRST, LAST = "Zéphyrine", "Quaresma-Vintimille"
FULL = f"{FIRST} {LAST}"
EMAIL = "zephyrine.quaresma@exemple.fr"
PHONE = "06 12 34 56 78"
NEW_PHONE = "07 98 76 54 32"
IBAN = "FR7630006000011234567890189"
ADDRESS = "17 impasse des Tilleuls Bleus"
CIRCUMSTANCES = "Dégât des eaux chez Mme Quaresma-Vintimille"
FILE_TEXT = f"Pièce d'identité de {FULL}, {EMAIL}".encode()
# The needs statement and the advice of the client's proposal (the FIC prints them).
NEEDS = "Clio de 2021 financée à crédit, garée rue des Glycines Mauves"
RECOMMENDATION = "Tous risques avec bris de glace sans franchise"
REASONS = f"{FULL} roule 30 000 km par an pour son cabinet d'ostéopathie"
ADVICE = (NEEDS, RECOMMENDATION, REASONS)
QUOTE_PREMIUM = "612.40"
QUOTE_VALID_UNTIL = "2019-02-01"
SECRETS = (FULL, LAST, EMAIL, PHONE, NEW_PHONE, IBAN, ADDRESS, "Quaresma", *ADVICE)


@dataclass
class Former:
    organisation_id: int
    client_id: int
    policy_id: int
    attachment_id: int
    proposal_id: int
    quote_id: int
    fic_id: int


def former_client(
    app: Flask,
    http: FlaskClient,
    headers: dict[str, str],
    organisation_id: int,
    *,
    expiry: dt.date = dt.date(2019, 1, 1),
    status: PolicyStatus = PolicyStatus.expired,
) -> Former:
    """A client whose contract ended in 2019, with a mandate, a paid notice, a payment, a
    closed claim long prescribed, an answered complaint, a task, an e-mail, a file, and a
    proposal (needs, advice) with a refused quote and its FIC, generated and sent."""
    with app.app_context():
        session = db.session
        company = Company(organisation_id=organisation_id, name="Assureur RGPD", code="RGPD")
        client = Client(
            organisation_id=organisation_id,
            first_name=FIRST,
            last_name=LAST,
            email=EMAIL,
            phone=PHONE,
            address=ADDRESS,
            postal_code="75011",
            city="Paris",
            birth_date=dt.date(1970, 5, 4),
            notes=f"Rappeler {FULL} le soir",
        )
        session.add_all([company, client])
        session.flush()
        mandate = Mandate(
            organisation_id=organisation_id,
            client_id=client.id,
            reference="MANDAT-RGPD",
            iban=IBAN,
            debtor_name=FULL,
            signed_on=dt.date(2017, 1, 2),
        )
        session.add(mandate)
        session.flush()
        policy = Policy(
            organisation_id=organisation_id,
            number="POL-RGPD",
            client_id=client.id,
            company_id=company.id,
            line_of_business=LineOfBusiness.home,
            status=status,
            effective_date=dt.date(2017, 1, 1),
            expiry_date=expiry,
            premium=Decimal("300.00"),
            mandate_id=mandate.id,
        )
        session.add(policy)
        session.flush()
        notice = PremiumNotice(
            organisation_id=organisation_id,
            policy_id=policy.id,
            number="POL-RGPD/2018",
            kind=NoticeKind.one_off,
            period_start=dt.date(2018, 1, 1),
            period_end=dt.date(2019, 1, 1),
            due_on=dt.date(2018, 1, 1),
            pay_by=dt.date(2018, 1, 11),
            amount_before_tax=Decimal("250.00"),
            taxes=Decimal("50.00"),
            fees=Decimal("0.00"),
            total=Decimal("300.00"),
            paid_amount=Decimal("300.00"),
            status=NoticeStatus.paid,
        )
        payment = Payment(
            organisation_id=organisation_id,
            client_id=client.id,
            payer=FULL,
            amount=Decimal("300.00"),
            received_on=dt.date(2018, 1, 5),
            method=PaymentMethod.transfer,
            allocated_amount=Decimal("300.00"),
            note=f"Virement de {EMAIL}",
        )
        payment.allocations.append(
            Allocation(
                organisation_id=organisation_id, premium_notice=notice, amount=Decimal("300.00")
            )
        )
        claim = Claim(
            organisation_id=organisation_id,
            number="SIN-RGPD",
            policy_id=policy.id,
            client_id=client.id,
            nature=ClaimNature.water_damage,
            occurred_on=dt.date(2018, 3, 1),
            known_on=dt.date(2018, 3, 2),
            declaration_deadline=dt.date(2018, 3, 9),
            prescription_on=dt.date(2020, 3, 2),
            circumstances=CIRCUMSTANCES,
            status=ClaimStatus.closed,
            close_reason=CloseReason.indemnified,
            closed_on=dt.date(2018, 6, 1),
            estimate=Decimal("1200.00"),
        )
        complaint = Complaint(
            organisation_id=organisation_id,
            received_on=dt.date(2018, 4, 3),
            channel=ComplaintChannel.email,
            client_id=client.id,
            subject=f"{FULL} conteste le remboursement",
            acknowledgement_due_on=dt.date(2018, 4, 17),
            acknowledged_on=dt.date(2018, 4, 4),
            answer_due_on=dt.date(2018, 6, 3),
            answered_on=dt.date(2018, 5, 2),
            outcome=ComplaintOutcome.rejected,
        )
        task = Task(
            organisation_id=organisation_id,
            title=f"Appeler {FULL} au {PHONE}",
            due_on=dt.date(2018, 2, 1),
            client_id=client.id,
        )
        message = Message(
            organisation_id=organisation_id,
            status=MessageStatus.sent,
            message_id="<rgpd.1@example.com>",
            from_address="Cabinet <cabinet@example.com>",
            to_addresses=EMAIL,
            subject=f"Votre contrat, {FULL}",
            body_text=f"Bonjour {FULL}, votre IBAN {IBAN} est enregistré.",
            client_id=client.id,
            policy_id=policy.id,
            attempts=1,
        )
        # Typed to the client's address from the outbox, naming no record.
        loose = Message(
            organisation_id=organisation_id,
            status=MessageStatus.sent,
            message_id="<rgpd.2@example.com>",
            from_address="Cabinet <cabinet@example.com>",
            to_addresses=f"{FULL} <{EMAIL}>",
            subject="Votre demande",
            body_text=f"Chère {FULL}, voici notre réponse.",
            attempts=1,
        )
        session.add_all([notice, payment, claim, complaint, task, message, loose])
        session.commit()
        ids = (client.id, policy.id)
        insurer_id = company.id
        load_builtin_templates(session)  # the FIC's template
        session.commit()
    # Through the doors: a file on the client, and a change whose diff holds the old phone.
    uploaded = http.post(
        "/api/v1/attachment/",
        data={"file": (io.BytesIO(FILE_TEXT), "piece-identite.txt"), "client_id": str(ids[0])},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.json
    changed = http.put(f"/api/v1/client/{ids[0]}", json={"phone": NEW_PHONE}, headers=headers)
    assert changed.status_code == 200, changed.json
    proposal_id, quote_id, fic_id = advice_given(http, headers, ids[0], insurer_id)
    return Former(
        organisation_id, ids[0], ids[1], uploaded.json["id"], proposal_id, quote_id, fic_id
    )


def advice_given(
    http: FlaskClient, headers: dict[str, str], client_id: int, insurer_id: int
) -> tuple[int, int, int]:
    """Through the doors, so the audit trail holds the answers too: (proposal, quote, FIC)."""
    questions = DEFAULT_QUESTIONS[LineOfBusiness.auto]
    proposal = http.post(
        "/api/v1/proposal/",
        json={
            "client_id": client_id,
            "line_of_business": "auto",
            "answers": {question: NEEDS for question in questions},
            "recommendation": RECOMMENDATION,
            "reasons": REASONS,
        },
        headers=headers,
    )
    assert proposal.status_code == 201, proposal.json
    proposal_id = proposal.json["id"]
    quote = http.post(
        "/api/v1/quote/",
        json={
            "proposal_id": proposal_id,
            "company_id": insurer_id,
            "product": "Auto Confort",
            "premium": QUOTE_PREMIUM,
            "valid_until": QUOTE_VALID_UNTIL,
            "status": "priced",
        },
        headers=headers,
    )
    assert quote.status_code == 201, quote.json
    refused = http.put(
        f"/api/v1/quote/{quote.json['id']}", json={"status": "refused"}, headers=headers
    )
    assert refused.status_code == 200, refused.json
    fic = http.post(
        "/api/v1/compliance_document/",
        json={"kind": "fic", "proposal_id": proposal_id},
        headers=headers,
    )
    assert fic.status_code == 202, fic.json
    sent = http.post(
        f"/api/v1/compliance_document/{fic.json['id']}/sent", json={"by": "email"}, headers=headers
    )
    assert sent.status_code == 200, sent.json
    return proposal_id, quote.json["id"], fic.json["id"]


def every_text_holding(app: Flask, needles: tuple[str, ...]) -> list[tuple[str, str, Any]]:
    """(table, column, value) of every string, text or JSON cell holding one of ``needles``."""
    import json

    from sqlalchemy import JSON, String, Text, select

    found = []
    lowered = [needle.lower() for needle in needles]
    with app.app_context():
        metadata = db.Model.metadata
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            if not columns:
                continue
            for row in db.session.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    text = (
                        value
                        if isinstance(value, str)
                        else json.dumps(value, ensure_ascii=False, default=str)
                    )
                    if any(needle in text.lower() for needle in lowered):
                        found.append((table.name, column.name, value))
    return found


def every_file_holding(app: Flask, needles: tuple[str, ...]) -> list[str]:
    """Files on the store's disk (any name: documents, attachments, thumbnails) whose bytes
    hold one of ``needles``. The test store is neither compressed nor encrypted for
    attachments, which the "before" assertions of the tests prove."""
    import os

    url = app.config["STORAGE_URL"]
    assert url.startswith("osfs://"), url
    found = []
    for folder, _dirs, names in os.walk(url[len("osfs://") :]):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                raw = handle.read()
            if any(needle.encode() in raw for needle in needles):
                found.append(path)
    return found
