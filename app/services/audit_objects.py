"""The names of the objects audit entries point at, read in bulk for a page of entries.

An entry stores an object type and id (app/services/audit.py). Screens show the
object's name (client, policy number, document file, template…): one query per
object type on the page, never one per entry, and only rows of the reader's
organisation, so a name from another agency never shows. An object that is gone
is named from the entry's own record (a deletion keeps the values before, an API
key entry its name), else by its type and id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from app.models import (
    Allocation,
    AppUser,
    Attachment,
    Cancellation,
    Claim,
    ClaimChecklistItem,
    ClaimPayment,
    Client,
    Company,
    Document,
    Job,
    JobKind,
    Mandate,
    Organisation,
    Payment,
    Policy,
    PremiumNotice,
    RenewalCycle,
    Task,
    TaskCategory,
    TaskRule,
    Template,
    Term,
)
from app.models.delivery import PurgeRun
from app.services.batches import in_lists
from app.services.vocabulary import enum_label, object_label

# The fields a deletion snapshot names its object by, best first.
SNAPSHOT_NAME_FIELDS = ("name", "number", "file_name", "username", "company_name", "last_name")
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Nameable:
    model: type
    name: Callable[[Any], str | None]
    # The organisation column that scopes the lookup; None for platform-wide rows.
    organisation: Callable[[], Any] | None
    shared_when_null: bool = False  # a template of no organisation is shared with all
    # Loader options for what the name reads beyond the row (one query per type, not per row).
    options: Callable[[], tuple] = tuple


def _job_name(job: Job) -> str:
    return f"{enum_label(job.kind, JobKind)} #{job.id}"


NAMEABLE: dict[str, Nameable] = {
    "Client": Nameable(Client, lambda row: row.display_name, lambda: Client.organisation_id),
    "Policy": Nameable(Policy, lambda row: row.number, lambda: Policy.organisation_id),
    "Company": Nameable(Company, lambda row: row.name, lambda: Company.organisation_id),
    "Document": Nameable(Document, lambda row: row.file_name, lambda: Document.organisation_id),
    "Job": Nameable(Job, _job_name, lambda: Job.organisation_id),
    "Template": Nameable(
        Template, lambda row: row.name, lambda: Template.organisation_id, shared_when_null=True
    ),
    "User": Nameable(AppUser, lambda row: row.username, lambda: AppUser.organisation_id),
    "Organisation": Nameable(Organisation, lambda row: row.name, lambda: Organisation.id),
    "PurgeRun": Nameable(PurgeRun, lambda _row: None, None),
    "Term": Nameable(
        Term,
        lambda row: _(
            "%(number)s, term %(sequence)d", number=row.policy.number, sequence=row.sequence
        ),
        lambda: Term.organisation_id,
        options=lambda: (joinedload(Term.policy),),
    ),
    "RenewalCycle": Nameable(
        RenewalCycle,
        lambda row: _(
            "%(number)s, renewal %(year)d", number=row.policy.number, year=row.echeance.year
        ),
        lambda: RenewalCycle.organisation_id,
        options=lambda: (joinedload(RenewalCycle.policy),),
    ),
    "Cancellation": Nameable(
        Cancellation,
        lambda row: row.policy.number,
        lambda: Cancellation.organisation_id,
        options=lambda: (joinedload(Cancellation.policy),),
    ),
    "PremiumNotice": Nameable(
        PremiumNotice, lambda row: row.number, lambda: PremiumNotice.organisation_id
    ),
    "Payment": Nameable(
        Payment, lambda row: _("Payment #%(id)d", id=row.id), lambda: Payment.organisation_id
    ),
    "Claim": Nameable(Claim, lambda row: row.number, lambda: Claim.organisation_id),
    "ClaimPayment": Nameable(
        ClaimPayment,
        lambda row: row.claim.number,
        lambda: ClaimPayment.organisation_id,
        options=lambda: (joinedload(ClaimPayment.claim),),
    ),
    "Attachment": Nameable(
        Attachment, lambda row: row.file_name, lambda: Attachment.organisation_id
    ),
    "Mandate": Nameable(Mandate, lambda row: row.reference, lambda: Mandate.organisation_id),
    "Task": Nameable(Task, lambda row: row.title, lambda: Task.organisation_id),
    "TaskRule": Nameable(TaskRule, lambda row: row.name, lambda: TaskRule.organisation_id),
    "TaskCategory": Nameable(
        TaskCategory, lambda row: row.name, lambda: TaskCategory.organisation_id
    ),
    "ClaimChecklistItem": Nameable(
        ClaimChecklistItem, lambda row: row.label, lambda: ClaimChecklistItem.organisation_id
    ),
    "Allocation": Nameable(
        Allocation,
        lambda row: row.premium_notice.number,
        lambda: Allocation.organisation_id,
        options=lambda: (joinedload(Allocation.premium_notice),),
    ),
}


@dataclass(frozen=True)
class NamedObject:
    object_type: str
    object_id: str
    name: str
    exists: bool  # still in the database (a link to its page can work)


def name_objects(
    session: Session, entries: Iterable[Any], organisation_id: int | None
) -> dict[tuple[str, str], NamedObject]:
    """(type, id) -> its name, for every entry naming an object; ``organisation_id``
    None reads every organisation's rows (SUPERADMIN)."""
    entries = list(entries)
    wanted: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        number = _id(entry.object_id)
        if entry.object_type in NAMEABLE and number is not None:
            wanted[entry.object_type].add(number)
    found: dict[tuple[str, str], str | None] = {}
    for object_type, ids in wanted.items():
        found.update(_names(session, object_type, ids, organisation_id))
    named: dict[tuple[str, str], NamedObject] = {}
    for entry in entries:
        if not entry.object_type or not entry.object_id:
            continue
        key = (entry.object_type, entry.object_id)
        if key in named and named[key].exists:
            continue
        exists = key in found
        name = found.get(key) or _snapshot_name(entry) or _fallback(*key)
        named[key] = NamedObject(entry.object_type, entry.object_id, name, exists)
    return named


def name_references(
    session: Session, wanted: dict[str, set[int]], organisation_id: int | None
) -> dict[tuple[str, str], str]:
    """(type, id) -> name of the objects a page's changes point at (a claim's contract, a
    task's client): one query per type, the reader's organisation only."""
    names: dict[tuple[str, str], str] = {}
    for object_type, ids in wanted.items():
        if object_type not in NAMEABLE:
            continue
        for key, name in _names(session, object_type, ids, organisation_id).items():
            if name:
                names[key] = name
    return names


def _names(
    session: Session, object_type: str, ids: set[int], organisation_id: int | None
) -> dict[tuple[str, str], str | None]:
    spec = NAMEABLE[object_type]
    names: dict[tuple[str, str], str | None] = {}
    for chunk in in_lists(sorted(ids)):
        query = select(spec.model).where(spec.model.id.in_(chunk)).options(*spec.options())
        if organisation_id is not None and spec.organisation is not None:
            column = spec.organisation()
            scope = column == organisation_id
            query = query.where(or_(scope, column.is_(None)) if spec.shared_when_null else scope)
        for row in session.scalars(query):
            names[(object_type, str(row.id))] = spec.name(row)
    return names


def _snapshot_name(entry: Any) -> str | None:
    changes = entry.changes if isinstance(entry.changes, dict) else {}
    for field in SNAPSHOT_NAME_FIELDS:
        pair = changes.get(field)
        if isinstance(pair, list) and pair:
            value = next((v for v in pair if isinstance(v, str) and v), None)
            if value:
                return value
        elif isinstance(pair, str) and pair:
            return pair
    return None


def _fallback(object_type: str, object_id: str) -> str:
    return f"{object_label(object_type)} #{object_id}"


def _id(raw: str | None) -> int | None:
    if raw is None or not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None
