"""The columns each kind of import expects, and mapping a file's headers onto them.

Every field is recognised by its French header (the template's), its English one and
its model name, compared without case, accents or extra spaces. Unknown columns are
ignored and listed; a missing required column or two columns for one field refuse
the file before any row is read.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from app.models import ClientKind, LineOfBusiness, PaymentFrequency, PolicyStatus
from app.services.imports import values
from app.services.imports.values import normalise
from app.services.vocabulary import enum_label


@dataclass(frozen=True)
class Field:
    name: str  # the model attribute, or a reference resolved later (client_email, insurer)
    french: str
    english: str
    required: bool
    parse: Callable[[Any], Any] = values.text
    # An enum member is shown by its label, in the reader's language (both are accepted).
    example: str | enum.Enum = ""
    # Earlier headers of this field, still read so files made from an older template import.
    aliases: tuple[str, ...] = ()

    @property
    def also_accepted(self) -> str:
        """The other headers read as this field, for the template's help."""
        return ", ".join((self.english, *self.aliases))

    def names(self) -> set[str]:
        names = {self.french, self.english, self.name, *self.aliases}
        return {normalise(name) for name in names}

    def shown_example(self) -> str:
        """The example as the screen and the template's help sheet give it."""
        if isinstance(self.example, enum.Enum):
            return enum_label(self.example, type(self.example))
        return self.example


CLIENT_FIELDS: tuple[Field, ...] = (
    Field("email", "E-mail", "Email", True, example="jeanne.martin@example.com"),
    Field("kind", "Type", "Kind", False, values.choice(ClientKind), ClientKind.person),
    Field("last_name", "Nom", "Last name", True, example="Martin"),
    Field("first_name", "Prénom", "First name", False, example="Jeanne"),
    Field("company_name", "Raison sociale", "Company name", False),
    Field("siren", "SIREN", "SIREN", False),
    Field("phone", "Téléphone", "Phone", False, example="06 12 34 56 78"),
    Field("address", "Adresse", "Address", False, example="12 rue de la Paix"),
    Field("postal_code", "Code postal", "Postal code", False, example="75002"),
    Field("city", "Ville", "City", False, example="Paris"),
    Field("birth_date", "Date de naissance", "Birth date", False, values.date, "14/07/1980"),
    Field("notes", "Notes", "Notes", False),
)

POLICY_FIELDS: tuple[Field, ...] = (
    Field("number", "Numéro de police", "Policy number", True, example="POL-2026-001"),
    Field(
        "client_email",
        "E-mail du client",
        "Client email",
        True,
        example="jeanne.martin@example.com",
    ),
    Field("insurer", "Assureur", "Insurer", True, example="AXA"),
    Field(
        "line_of_business",
        "Branche",
        "Line of business",
        True,
        values.choice(LineOfBusiness),
        LineOfBusiness.auto,
    ),
    Field("status", "Statut", "Status", False, values.choice(PolicyStatus), PolicyStatus.active),
    Field("effective_date", "Date d'effet", "Effective date", True, values.date, "01/01/2026"),
    Field("expiry_date", "Date d'échéance", "Expiry date", True, values.date, "31/12/2026"),
    # The annual premium, taxes included: the documents split it by the payment frequency.
    Field(
        "premium",
        "Prime annuelle TTC",
        "Annual premium incl. tax",
        True,
        values.amount,
        example="420,50",
        aliases=("Prime", "Premium"),
    ),
    Field("currency", "Devise", "Currency", False, example="EUR"),
    Field(
        "payment_frequency",
        "Fractionnement",
        "Payment frequency",
        False,
        values.choice(PaymentFrequency),
        PaymentFrequency.annual,
    ),
)

FIELDS: dict[str, tuple[Field, ...]] = {"clients": CLIENT_FIELDS, "policies": POLICY_FIELDS}


def recogniser(kind: str) -> Callable[[str], bool]:
    """Whether a header names a field of this kind (used to sniff a CSV's delimiter)."""
    known = set().union(*(f.names() for f in FIELDS[kind]))
    return lambda header: normalise(header) in known


@dataclass(frozen=True)
class MappedColumn:
    index: int
    header: str
    field: Field | None  # None: ignored


@dataclass
class Mapping:
    columns: list[MappedColumn]
    missing: list[Field] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)  # headers naming an already mapped field

    @property
    def ok(self) -> bool:
        return not self.missing and not self.duplicated

    @property
    def used(self) -> list[MappedColumn]:
        return [column for column in self.columns if column.field is not None]

    @property
    def ignored(self) -> list[MappedColumn]:
        return [column for column in self.columns if column.field is None and column.header]

    def problems(self) -> list[str]:
        messages = [
            _('The required column "%(column)s" is missing.', column=f.french) for f in self.missing
        ]
        messages += [
            _('The column "%(column)s" names a field already given by another column.', column=h)
            for h in self.duplicated
        ]
        return messages


def map_columns(kind: str, headers: list[str]) -> Mapping:
    by_name = {name: f for f in FIELDS[kind] for name in f.names()}
    mapping = Mapping(columns=[])
    seen: set[str] = set()
    for index, header in enumerate(headers):
        target = by_name.get(normalise(header)) if header else None
        if target is not None and target.name in seen:
            mapping.duplicated.append(header)
            target = None
        if target is not None:
            seen.add(target.name)
        mapping.columns.append(MappedColumn(index, header, target))
    mapping.missing = [f for f in FIELDS[kind] if f.required and f.name not in seen]
    return mapping
