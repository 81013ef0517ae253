"""Organisation-scoped look-ups of an import: the rows to update and the rows referred to.

Every query here is restricted to the importing organisation, so a row of another
agency is never updated nor pointed at: it is simply "not found" (the same rule as
app.services.validation.check_references, done in bulk instead of once per row).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Client, Company, Policy
from app.services.batches import in_lists
from app.services.imports.common import RowError
from app.services.imports.values import normalise

if TYPE_CHECKING:
    from app.services.imports.rows import RowPlan


def resolve_clients(
    session: Session, organisation_id: int, plans: list[RowPlan], header_of: dict[str, str]
) -> list[RowError]:
    """Match each client row to the client of the organisation with its e-mail, if any."""
    found = clients_by_email(session, organisation_id, {plan.key for plan in plans})
    errors = []
    for plan in plans:
        ids = found.get(plan.key, [])
        if len(ids) > 1:
            errors.append(RowError(plan.row, header_of["email"], _ambiguous_client()))
        elif ids:
            plan.existing_id = ids[0]
    return errors


def resolve_policies(
    session: Session, organisation_id: int, plans: list[RowPlan], header_of: dict[str, str]
) -> list[RowError]:
    """Match policy numbers, then point each row at its client and insurer (same organisation)."""
    numbers = {plan.key for plan in plans}
    existing: dict[str, int] = {}
    for chunk in _chunks(numbers):
        query = select(Policy.number, Policy.id).where(
            Policy.organisation_id == organisation_id, Policy.number.in_(chunk)
        )
        existing.update({row.number: row.id for row in session.execute(query)})
    clients = clients_by_email(
        session, organisation_id, {plan.references.get("client_email", "") for plan in plans}
    )
    insurers = InsurerIndex(session, organisation_id)
    errors = []
    for plan in plans:
        plan.existing_id = existing.get(plan.key)
        client_ids = clients.get(plan.references.get("client_email", ""), [])
        if not client_ids:
            message = _("No client of your agency has this e-mail.")
            errors.append(RowError(plan.row, header_of["client_email"], message))
        elif len(client_ids) > 1:
            errors.append(RowError(plan.row, header_of["client_email"], _ambiguous_client()))
        else:
            plan.values["client_id"] = client_ids[0]
        company_id, message = insurers.find(plan.references.get("insurer", ""))
        if company_id is None:
            errors.append(RowError(plan.row, header_of["insurer"], message))
        else:
            plan.values["company_id"] = company_id
    return errors


def clients_by_email(
    session: Session, organisation_id: int, emails: Iterable[str]
) -> dict[str, list[int]]:
    """Lower-cased e-mail -> ids of the organisation's clients with that e-mail."""
    found: dict[str, list[int]] = defaultdict(list)
    for chunk in _chunks({email for email in emails if email}):
        query = select(func.lower(Client.email).label("email"), Client.id).where(
            Client.organisation_id == organisation_id, func.lower(Client.email).in_(chunk)
        )
        for row in session.execute(query.order_by(Client.id)):
            found[row.email].append(row.id)
    return found


class InsurerIndex:
    """The organisation's insurers, found by code first (unique), then by name."""

    def __init__(self, session: Session, organisation_id: int) -> None:
        query = select(Company.id, Company.code, Company.name).where(
            Company.organisation_id == organisation_id
        )
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        for row in session.execute(query):
            self.by_code[normalise(row.code)] = row.id
            self.by_name[normalise(row.name)].append(row.id)

    def find(self, text: str) -> tuple[int | None, str]:
        key = normalise(text)
        if key in self.by_code:
            return self.by_code[key], ""
        ids = self.by_name.get(key, [])
        if len(ids) == 1:
            return ids[0], ""
        if ids:
            return None, _("Several insurers have this name: give the insurer's code instead.")
        return None, _("No insurer of your agency has this code or name.")


def _ambiguous_client() -> str:
    return _(
        "Several clients of your agency have this e-mail: merge them on the Clients screen first."
    )


def _chunks(values: Iterable[str]) -> Iterator[Sequence[str]]:
    return in_lists(sorted(values))
