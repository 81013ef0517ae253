"""The demo agency's claims (run.py's first start): what the Sinistres screens show.

Three claims on active contracts, recorded through the use cases as staff would: a
water damage declared late and waiting for its documents, a theft declared in time and
indemnified then closed, a glass breakage just declared; the agency's claim checklists
hold the shipped defaults, loaded as a manager would. Dates are relative to the
day of the load, so the late flag and the missing documents read the same any day.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ClaimNature, ClaimStatus, Policy, PolicyStatus
from app.services.claims import checklist, documents, lifecycle, settlements
from app.services.working_days import add_working_days


def add_demo_claims(session: Session, organisation_id: int, today: dt.date) -> int:
    """Record the demo's claims on the agency's first active contracts; how many."""
    policies = session.scalars(
        select(Policy)
        .where(
            Policy.organisation_id == organisation_id,
            Policy.status == PolicyStatus.active,
            Policy.effective_date <= today - dt.timedelta(days=60),
        )
        .order_by(Policy.id)
        .limit(3)
    ).all()
    if len(policies) < 3:
        return 0
    # The agency copied the shipped lists in to edit them (Administration > Pièces
    # attendues des sinistres shows them); the claims below ask the same documents.
    checklist.load_defaults(session, organisation_id)
    water_on = today - dt.timedelta(days=30)
    water = lifecycle.record_claim(
        session,
        policies[0],
        today=today,
        nature=ClaimNature.water_damage,
        occurred_on=water_on,
        # Six working days after the loss: one more than the law gives (L113-2).
        client_declared_on=add_working_days(water_on, 6),
        circumstances="Fuite du ballon d’eau chaude, plafond de la cuisine endommagé",
        place="Cuisine",
        estimate=Decimal("1850.00"),
        excess=Decimal("150.00"),
    )
    lifecycle.change_status(water, ClaimStatus.waiting_documents, today=today)
    theft_on = today - dt.timedelta(days=50)
    theft = lifecycle.record_claim(
        session,
        policies[1],
        today=today,
        nature=ClaimNature.theft,
        occurred_on=theft_on,
        client_declared_on=add_working_days(theft_on, 1),
        insurer_declared_on=add_working_days(theft_on, 2),
        insurer_claim_number="VOL-2026-4471",
        circumstances="Vol avec effraction, matériel informatique",
        estimate=Decimal("2400.00"),
    )
    glass = lifecycle.record_claim(
        session,
        policies[2],
        today=today,
        nature=ClaimNature.glass,
        occurred_on=today - dt.timedelta(days=2),
        client_declared_on=today - dt.timedelta(days=1),
        estimate=Decimal("420.00"),
    )
    session.flush()
    received_on = add_working_days(theft_on, 5)
    for item in documents.checklist(session, theft):
        documents.receive(session, theft, item.id, received_on, today)
    documents.receive(session, water, documents.checklist(session, water)[0].id, today, today)
    settlements.record_settlement(
        session,
        theft,
        today=today,
        kind="indemnity_client",
        amount=Decimal("2150.00"),
        paid_on=today - dt.timedelta(days=10),
        counterparty=theft.policy.company.name,
    )
    lifecycle.change_status(theft, ClaimStatus.open, today=today)
    lifecycle.change_status(theft, ClaimStatus.settlement, today=today)
    lifecycle.change_status(theft, ClaimStatus.closed, today=today, reason="indemnified")
    return len((water, theft, glass))
