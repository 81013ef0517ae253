"""What the remote-search selects can look up, scoped to one organisation.

Plain queries, no request objects: the lookup endpoint and the form fields both
call these, so a select never offers (or names) a row the user may not see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from app.models import Claim, Client, Company, Policy
from app.services.scope import visible_rows_clause

PAGE_SIZE = 20
MAX_TERM_LENGTH = 100
MAX_PAGE = 10_000


@dataclass(frozen=True)
class LookupPage:
    results: list[tuple[int, str]]
    more: bool


@dataclass(frozen=True)
class LookupSource:
    model: type
    searched: Sequence[str]
    order: Sequence[str]
    text: Callable[[Any], str]
    options: Sequence[Any] = ()


def _client_text(client: Client) -> str:
    return f"{client.display_name} ({client.city})" if client.city else client.display_name


def _company_text(company: Company) -> str:
    return f"{company.name} ({company.code})"


def _policy_text(policy: Policy) -> str:
    return f"{policy.number} — {policy.client.display_name}"


def _claim_text(claim: Claim) -> str:
    return f"{claim.number} — {claim.client.display_name}"


SOURCES: dict[str, LookupSource] = {
    "client": LookupSource(
        Client,
        searched=("last_name", "first_name", "company_name", "email"),
        order=("last_name", "first_name", "id"),
        text=_client_text,
    ),
    "company": LookupSource(
        Company, searched=("name", "code"), order=("name", "id"), text=_company_text
    ),
    "policy": LookupSource(
        Policy,
        searched=("number",),
        order=("number", "id"),
        text=_policy_text,
        options=(selectinload(Policy.client),),
    ),
    # The claim a complaint is about (app/views/complaints.py).
    "claim": LookupSource(
        Claim,
        searched=("number", "insurer_claim_number"),
        order=("number", "id"),
        text=_claim_text,
        options=(selectinload(Claim.client),),
    ),
}


def _like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _scoped(source: LookupSource, organisation_id: int | None) -> Select:
    query = select(source.model)
    clause = visible_rows_clause(source.model, organisation_id)
    # None: a platform operator who sees every organisation.
    return query if clause is None else query.where(clause)


def search(
    session: Session, kind: str, term: str, page: int, organisation_id: int | None
) -> LookupPage:
    """One page of rows whose searched columns contain every word of ``term``."""
    source = SOURCES[kind]
    page = min(max(page, 1), MAX_PAGE)
    query = _scoped(source, organisation_id)
    for word in term[:MAX_TERM_LENGTH].split():
        pattern = _like_pattern(word)
        columns = [getattr(source.model, name) for name in source.searched]
        query = query.where(or_(*(column.ilike(pattern, escape="\\") for column in columns)))
    query = query.order_by(*(getattr(source.model, name) for name in source.order))
    # One row more than a page tells whether another page exists, without a COUNT.
    query = query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1).options(*source.options)
    rows = session.execute(query).scalars().all()
    return LookupPage(
        results=[(row.id, source.text(row)) for row in rows[:PAGE_SIZE]],
        more=len(rows) > PAGE_SIZE,
    )


def label(session: Session, kind: str, row_id: int, organisation_id: int | None) -> str | None:
    """The text of one row, or None when it does not exist in this scope."""
    source = SOURCES[kind]
    query = _scoped(source, organisation_id).where(source.model.id == row_id)
    row = session.execute(query.options(*source.options)).scalars().first()
    return None if row is None else source.text(row)
