"""Retention by anonymisation: the clients the purge erases, found and erased safely.

The purge (app/services/purge) lists, per agency in its scope, the clients that
``retention_due`` (app/services/privacy/holds.py) says to anonymise today with that
agency's periods (Organisation.retention_*); applying erases each through the same
``erase_client`` as the API, after asking the rules again (a contract signed since the
dry run keeps the client). A SQL filter first leaves out the clients that cannot be due
(erased already, a contract still running, a recent change) so that only the few
candidates have their facts read.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.models import Client, Organisation, Policy, PolicyStatus
from app.services import audit
from app.services.errors import ConflictError
from app.services.privacy.erase import erase_client
from app.services.privacy.holds import (
    OPEN_CONTRACT_STATUSES,
    Due,
    RetentionYears,
    retention_due,
    years_after,
)
from app.services.privacy.records import client_facts
from app.services.renewals.contracts import agency_today
from app.services.storage import FileStore

ANONYMISE = "anonymise"


def agency_years(organisation: Organisation) -> RetentionYears:
    return RetentionYears(
        prospect_years=organisation.retention_prospect_years,
        contract_years=organisation.retention_contract_years,
        claim_years=organisation.retention_claim_years,
    )


def _candidates(session: Session, organisation: Organisation, today: dt.date) -> list[Client]:
    """Clients not erased, with no contract in an open status, unchanged for the shorter
    period: a superset of those due (the rules decide)."""
    years = agency_years(organisation)
    shortest = min(years.prospect_years, years.contract_years)
    changed_before = dt.datetime.combine(years_after(today, -shortest), dt.time.max)
    running = exists().where(
        Policy.client_id == Client.id,
        Policy.status.in_([PolicyStatus(value) for value in OPEN_CONTRACT_STATUSES]),
    )
    query = (
        select(Client)
        .where(
            Client.organisation_id == organisation.id,
            Client.erased_at.is_(None),
            Client.created_at <= changed_before,
            ~running,
        )
        .order_by(Client.id)
    )
    return list(session.scalars(query))


def due_clients(session: Session, organisation_id: int | None) -> list[tuple[int, int, Due]]:
    """(organisation id, client id, why) of every client due, in one agency or all."""
    query = select(Organisation).order_by(Organisation.id)
    if organisation_id is not None:
        query = query.where(Organisation.id == organisation_id)
    found = []
    for organisation in session.scalars(query).all():
        today = agency_today(session, organisation.id)
        years = agency_years(organisation)
        for client in _candidates(session, organisation, today):
            due = retention_due(client_facts(session, client), today, years)
            if due is not None:
                found.append((organisation.id, client.id, due))
    return found


def anonymise(
    session: Session,
    organisation_id: int,
    client_id: int,
    *,
    actor: audit.Actor,
    store: FileStore,
    run_id: int,
) -> bool:
    """Erase the client if the rules still say so now; False when it no longer qualifies."""
    client = session.get(Client, client_id)
    if client is None or client.organisation_id != organisation_id or client.erased_at:
        return False
    organisation = session.get(Organisation, organisation_id)
    today = agency_today(session, organisation_id)
    due = retention_due(client_facts(session, client), today, agency_years(organisation))
    if due is None:
        return False
    try:
        erase_client(
            session,
            client,
            today=today,
            actor=actor,
            store=store,
            reason=f"retention (purge run {run_id}): {due.reason}",
        )
    except ConflictError:
        return False
    return True
