"""Which documents a claim asks for: the agency's checklists, else the shipped defaults.

An agency configures, per claim nature, the documents it asks for on every line of
business or on one line (ClaimChecklistItem; Administration > Pièces de sinistre and
/api/v1/claim_checklist_item/). A claim recorded asks for the written declaration every
claim needs, then for the items that apply to its nature and its contract's line
(``resolve``). Where the agency configured nothing that could apply (no item of the
nature on that line nor on every line, switched off or not), the defaults below apply, so
a home-only list does not leave an auto water damage with nothing to ask. Items switched
off still count as configured: switching every item off is how an agency asks for the
declaration alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import ClaimChecklistItem, ClaimNature, LineOfBusiness
from app.models.base import ModelValidationError

WRITTEN_DECLARATION = _l("The client's written declaration")
PHOTOS = _l("Photos of the damage")
ESTIMATE = _l("Repair estimate or invoices")
CONSTAT = _l("Constat amiable")
POLICE_REPORT = _l("Police report (dépôt de plainte)")
# The shipped defaults each nature asks for, after the written declaration every claim needs.
DEFAULTS: dict[ClaimNature, tuple[object, ...]] = {
    ClaimNature.water_damage: (CONSTAT, PHOTOS, ESTIMATE),
    ClaimNature.theft: (POLICE_REPORT, _l("Proof of ownership of the stolen goods")),
    ClaimNature.attempted_theft: (POLICE_REPORT, PHOTOS, ESTIMATE),
    ClaimNature.fire: (PHOTOS, ESTIMATE, _l("Fire brigade report")),
    ClaimNature.glass: (_l("Replacement invoice"),),
    ClaimNature.motor_damage: (
        CONSTAT,
        _l("Driving licence"),
        _l("Vehicle registration certificate"),
        ESTIMATE,
    ),
    ClaimNature.bodily_injury: (_l("Initial medical certificate"), _l("Medical expenses")),
    ClaimNature.liability: (_l("The third party's claim"), CONSTAT),
    ClaimNature.natural_disaster: (_l("The arrêté of catastrophe naturelle"), PHOTOS, ESTIMATE),
    ClaimNature.storm: (PHOTOS, ESTIMATE),
    ClaimNature.legal_protection: (_l("Description of the dispute and its correspondence"),),
    ClaimNature.other: (),
}
DUPLICATE = _l("This document is already on this list.")


@dataclass(frozen=True)
class Item:
    """What resolution reads of a configured item (one of the nature's)."""

    line: LineOfBusiness | None
    label: str
    position: int = 0
    active: bool = True
    id: int = 0  # ties on position keep the order items were added in


def resolve(
    line: LineOfBusiness | None,
    items: Iterable[Item],
    defaults: Sequence[str],
    declaration: str,
) -> list[str]:
    """The labels a claim of this nature on ``line`` asks for, the declaration first.

    ``items`` are the agency's items of the claim's nature (any line); ``defaults`` the
    shipped ones. Each label comes once: the first place it is met wins.
    """
    applicable = [item for item in items if item.line is None or item.line == line]
    if applicable:
        ordered = sorted(
            (item for item in applicable if item.active),
            key=lambda item: (item.line is None, item.position, item.id),
        )
        labels = [item.label for item in ordered]
    else:
        labels = list(defaults)
    chosen: list[str] = []
    for label in (declaration, *labels):
        if label not in chosen:
            chosen.append(label)
    return chosen


def default_labels(nature: ClaimNature) -> list[str]:
    """The shipped defaults of ``nature``, in the current language (declaration apart)."""
    return [str(label) for label in DEFAULTS[nature]]


def labels_for(
    session: Session, organisation_id: int, nature: ClaimNature, line: LineOfBusiness | None
) -> list[str]:
    """What a claim of the agency, of this nature on this line, asks for (one query)."""
    # No autoflush: the claim being recorded need not reach the database for this read.
    with session.no_autoflush:
        rows = session.execute(
            select(
                ClaimChecklistItem.id,
                ClaimChecklistItem.line_of_business,
                ClaimChecklistItem.label,
                ClaimChecklistItem.position,
                ClaimChecklistItem.active,
            ).where(
                ClaimChecklistItem.organisation_id == organisation_id,
                ClaimChecklistItem.nature == nature,
            )
        ).all()
    items = [
        Item(
            line=row.line_of_business,
            label=row.label,
            position=row.position,
            active=row.active,
            id=row.id,
        )
        for row in rows
    ]
    return resolve(line, items, default_labels(nature), str(WRITTEN_DECLARATION))


def check_item(session: Session, item: ClaimChecklistItem) -> None:
    """Refuse an item its list already holds; an item with no position goes last.

    The unique constraint cannot see two items for every line (NULL) as equal, so the
    duplicate is looked for here, whatever door the item came through.
    """
    if item.nature is None or not item.label:
        return  # the required fields say so themselves
    same_list = [
        ClaimChecklistItem.organisation_id == item.organisation_id,
        ClaimChecklistItem.nature == item.nature,
        ClaimChecklistItem.line_of_business.is_(None)
        if item.line_of_business is None
        else ClaimChecklistItem.line_of_business == item.line_of_business,
    ]
    if item.id is not None:
        same_list.append(ClaimChecklistItem.id != item.id)
    duplicate = session.scalar(
        select(ClaimChecklistItem.id).where(*same_list, ClaimChecklistItem.label == item.label)
    )
    if duplicate is not None:
        raise ModelValidationError({"label": str(DUPLICATE)})
    if item.position is None:
        item.position = _next_position(session, same_list)


def load_defaults(session: Session, organisation_id: int) -> int:
    """Copy the shipped defaults into the agency's lists, for every line; the number added.

    Idempotent: a default the list already holds (switched off included: a manager
    switched it off on purpose) is not added again. New items go after the list's own.
    """
    existing: dict[ClaimNature, set[str]] = {}
    last: dict[ClaimNature, int] = {}
    rows = session.execute(
        select(
            ClaimChecklistItem.nature, ClaimChecklistItem.label, ClaimChecklistItem.position
        ).where(
            ClaimChecklistItem.organisation_id == organisation_id,
            ClaimChecklistItem.line_of_business.is_(None),
        )
    )
    for row in rows:
        existing.setdefault(row.nature, set()).add(row.label)
        last[row.nature] = max(last.get(row.nature, -1), row.position)
    added = 0
    for nature in ClaimNature:
        position = last.get(nature, -1) + 1
        for label in default_labels(nature):
            if label in existing.get(nature, set()):
                continue
            session.add(
                ClaimChecklistItem(
                    organisation_id=organisation_id,
                    nature=nature,
                    line_of_business=None,
                    label=label,
                    position=position,
                    active=True,
                )
            )
            existing.setdefault(nature, set()).add(label)
            position += 1
            added += 1
    return added


def _next_position(session: Session, same_list: list[object]) -> int:
    highest = session.scalar(select(func.max(ClaimChecklistItem.position)).where(*same_list))
    return 0 if highest is None else highest + 1
