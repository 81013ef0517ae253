"""The demo agency's complaints register and DDA training log.

Dates follow the day the demo is loaded, so the Réclamations screen shows each of its
states on the first morning: one complaint answered in time with the mediator named,
one acknowledged and waiting for its answer, one just received, and one whose
acknowledgement is overdue. The training log needs a person of the agency: it is
written for the first administrator once run.py has created them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    AppUser,
    Complaint,
    ComplaintChannel,
    ComplaintOutcome,
    Policy,
    TrainingRecord,
)
from app.services.compliance.complaints import prepare

# (days before today it was received, channel, subject, acknowledged after, answered after)
COMPLAINTS = (
    (70, ComplaintChannel.letter, "Indemnité du dégât des eaux jugée trop faible", 4, 35),
    (20, ComplaintChannel.email, "Hausse de prime non expliquée à l’échéance", 3, None),
    (8, ComplaintChannel.phone, "Attestation d’assurance toujours pas reçue", None, None),
    (16, ComplaintChannel.web, "Résiliation Hamon non prise en compte", None, None),
)
# (days before today, hours, title, body)
TRAININGS = (
    (200, Decimal("7"), "Devoir de conseil et DDA", "Institut de formation de l’assurance"),
    (60, Decimal("3.5"), "Lutte contre le blanchiment", "Chambre syndicale des courtiers"),
)


def add_demo_complaints(session: Session, organisation_id: int, today: dt.date) -> None:
    """Four complaints of the demo's first contracts' clients, with their deadlines and tasks."""
    policies = session.scalars(
        select(Policy)
        .where(Policy.organisation_id == organisation_id)
        .order_by(Policy.id)
        .limit(len(COMPLAINTS))
    ).all()
    for policy, (ago, channel, subject, acknowledged, answered) in zip(
        policies, COMPLAINTS, strict=False
    ):
        received = today - dt.timedelta(days=ago)
        complaint = Complaint(
            organisation_id=organisation_id,
            received_on=received,
            channel=channel,
            client_id=policy.client_id,
            policy_id=policy.id,
            subject=subject,
        )
        prepare(session, complaint, None, today)
        if acknowledged is not None or answered is not None:
            session.flush()  # the tasks exist: recording the answer closes them
            if acknowledged is not None:
                complaint.acknowledged_on = received + dt.timedelta(days=acknowledged)
            if answered is not None:
                complaint.answered_on = received + dt.timedelta(days=answered)
                complaint.outcome = ComplaintOutcome.partly_upheld
                complaint.mediator_named = True
            prepare(session, complaint, None, today)


def add_demo_training(
    session: Session, organisation_id: int, username: str, today: dt.date | None = None
) -> None:
    """The administrator's trainings of the year: under 15 hours, so October warns."""
    today = today or dt.date.today()
    user_id = session.scalar(
        select(AppUser.id).where(
            AppUser.username == username, AppUser.organisation_id == organisation_id
        )
    )
    if user_id is None:
        return
    for ago, hours, title, body in TRAININGS:
        session.add(
            TrainingRecord(
                organisation_id=organisation_id,
                user_id=user_id,
                completed_on=today - dt.timedelta(days=ago),
                hours=hours,
                title=title,
                body=body,
                certificate_reference=None,
            )
        )
