"""SEPA direct debit mandates: a client's authorisation to debit an account.

A mandate is signed by a client for the agency (the creditor, identified by its SEPA
creditor identifier) and referenced by a unique mandate reference (UMR). Contracts
paid by direct debit name their mandate (``Policy.mandate_id``). The first debit
under a mandate goes out as FRST, later ones as RCUR (EPC SDD Core rulebook).
"""

from __future__ import annotations

import datetime as dt
import enum
import re

from flask_appbuilder import Model
from sqlalchemy import Date, Enum, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.models.base import ModelValidationError, OrganisationOwned, Timestamped

MANDATE_REFERENCE_MAX = 35  # the UMR's length in pain.008 (Max35Text)
# The EPC's character set for references: letters, digits and + ? / - : ( ) . , ' space.
_REFERENCE = re.compile(r"^[A-Za-z0-9+?/\-:().,' ]+$")


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20, validate_strings=True)


class MandateSequence(enum.Enum):
    first = "first"  # no debit collected under it yet: the next goes out as FRST
    recurring = "recurring"  # RCUR


class MandateStatus(enum.Enum):
    active = "active"
    revoked = "revoked"


class Mandate(OrganisationOwned, Timestamped, Model):
    __tablename__ = "mandate"
    __table_args__ = (
        UniqueConstraint("organisation_id", "reference", name="uq_mandate_organisation_reference"),
        Index("ix_mandate_client", "client_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("client.id", ondelete="RESTRICT"), nullable=False
    )
    reference: Mapped[str] = mapped_column(String(MANDATE_REFERENCE_MAX), nullable=False)
    # Stored compact (no spaces); shown masked (app/services/bank_accounts.mask_iban).
    iban: Mapped[str] = mapped_column(String(34), nullable=False)
    bic: Mapped[str | None] = mapped_column(String(11))
    debtor_name: Mapped[str] = mapped_column(String(70), nullable=False)
    signed_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    sequence: Mapped[MandateSequence] = mapped_column(
        _enum(MandateSequence, "mandate_sequence"), nullable=False, default=MandateSequence.first
    )
    status: Mapped[MandateStatus] = mapped_column(
        _enum(MandateStatus, "mandate_status"), nullable=False, default=MandateStatus.active
    )
    revoked_on: Mapped[dt.date | None] = mapped_column(Date)

    client = relationship("Client")

    @validates("iban")
    def _check_iban(self, _key: str, value: str | None) -> str:
        from app.services.bank_accounts import BankDetailsError, valid_iban

        try:
            return valid_iban(value)
        except BankDetailsError:
            raise ModelValidationError({"iban": _message("iban")}) from None

    @validates("bic")
    def _check_bic(self, _key: str, value: str | None) -> str | None:
        from app.services.bank_accounts import BankDetailsError, valid_bic

        try:
            return valid_bic(value)
        except BankDetailsError:
            raise ModelValidationError({"bic": _message("bic")}) from None

    @validates("reference")
    def _check_reference(self, _key: str, value: str | None) -> str:
        text = (value or "").strip()
        if not text or len(text) > MANDATE_REFERENCE_MAX or not _REFERENCE.match(text):
            raise ModelValidationError({"reference": _message("reference")})
        return text

    def check_invariants(self) -> None:
        """A revoked mandate says when; an active one was never revoked."""
        from flask_babel import gettext as _

        revoked = self.status is MandateStatus.revoked
        if revoked and (self.revoked_on is None or self.revoked_on < self.signed_on):
            raise ModelValidationError(
                {"revoked_on": _("Enter the revocation date: on or after the signature.")}
            )
        if not revoked and self.revoked_on is not None:
            raise ModelValidationError({"revoked_on": _("Only a revoked mandate has this date.")})

    @property
    def masked_iban(self) -> str | None:
        from app.services.bank_accounts import mask_iban

        return mask_iban(self.iban)

    def __repr__(self) -> str:
        return self.reference


def _message(field: str) -> str:
    from flask_babel import gettext as _

    return {
        "iban": _("This IBAN is not valid (its length, country or check digits)."),
        "bic": _("This BIC is not valid (8 or 11 letters and digits)."),
        "reference": _(
            "A mandate reference has 1 to 35 characters: letters, digits and + ? / - : ( ) . , '"
        ),
    }[field]
