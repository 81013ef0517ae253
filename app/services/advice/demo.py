"""The demo agency's advice duty: a prospect with a proposal, two quotes, a signed DER and
a FIC sent but not signed yet, so a new user sees the conversion refused, then signs the
FIC and converts; and the agency's own motor questionnaire."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from app.models import (
    Client,
    Company,
    ComplianceKind,
    DeliveryMethod,
    LineOfBusiness,
    NeedsQuestionnaire,
    Proposal,
    Quote,
    QuoteStatus,
    SaleChannel,
)
from app.services.advice import compliance
from app.services.advice.proposals import prepare_proposal
from app.services.advice.questionnaire import DEFAULT_QUESTIONS

ANSWERS = (
    "Peugeot 208 de 2024, achetée à crédit",
    "Trajets domicile-travail, 12 000 km par an",
    "Une conductrice, bonus 0,68",
    "Aucun sinistre",
    "Tous risques avec assistance 0 km",
)


def add_demo_advice(
    session: Session, organisation_id: int, companies: list[Company], today: dt.date
) -> Proposal:
    """Add the demo prospect's proposal (templates must be loaded). Never commits."""
    questions = [*DEFAULT_QUESTIONS[LineOfBusiness.auto]]
    session.add(
        NeedsQuestionnaire(
            organisation_id=organisation_id,
            line_of_business=LineOfBusiness.auto,
            questions="\n".join(questions),
        )
    )
    prospect = Client(
        organisation_id=organisation_id,
        first_name="Camille",
        last_name="Petit",
        email="camille.petit@example.org",
        city="Villeurbanne",
        postal_code="69100",
    )
    session.add(prospect)
    session.flush()
    proposal = Proposal(
        organisation_id=organisation_id,
        client_id=prospect.id,
        line_of_business=LineOfBusiness.auto,
        sale_channel=SaleChannel.distance,
        answers=dict(zip(questions, ANSWERS, strict=True)),
        recommendation="Formule tous risques avec assistance 0 km chez le premier assureur.",
        reasons=(
            "Véhicule récent financé à crédit : l'organisme prêteur exige la garantie dommages ; "
            "trajets quotidiens : l'assistance 0 km évite une immobilisation."
        ),
    )
    prepare_proposal(session, proposal, None)
    session.add(proposal)
    for company, premium, status in zip(
        companies[:2],
        (Decimal("612.40"), Decimal("655.00")),
        (QuoteStatus.sent, QuoteStatus.priced),
        strict=False,
    ):
        session.add(
            Quote(
                organisation_id=organisation_id,
                proposal=proposal,
                company_id=company.id,
                product="Auto Confort",
                premium=premium,
                valid_until=today + dt.timedelta(days=30),
                status=status,
            )
        )
    session.flush()
    der = compliance.generate(session, None, ComplianceKind.der, client=prospect)
    compliance.mark_signed(der, today, DeliveryMethod.by_hand, today)
    fic = compliance.generate(session, None, ComplianceKind.fic, proposal=proposal)
    compliance.mark_sent(fic, today, DeliveryMethod.email, today)
    session.flush()
    return proposal
