"""An insurer the agency places policies with.

Insurers are kept per organisation: each agency negotiates its own codes and
contacts with an insurer, so the same insurer appears once per agency.
"""

from __future__ import annotations

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _
from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.models.base import ModelValidationError, OrganisationOwned, Timestamped
from app.models.validators import clean_email, clean_phone, clean_text


class Company(OrganisationOwned, Timestamped, Model):
    __tablename__ = "company"
    __table_args__ = (
        UniqueConstraint("organisation_id", "code", name="uq_company_organisation_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    code: Mapped[str] = mapped_column(String(20), nullable=False)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    # Where the agency transfers the premiums it collects for the insurer (pain.001).
    iban: Mapped[str | None] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))

    organisation = relationship("Organisation")
    policies = relationship("Policy", back_populates="company", lazy="dynamic")

    @validates("name", "code", "contact_name")
    def _check_text(self, key: str, value: str | None) -> str | None:
        limits = {"name": 200, "code": 20, "contact_name": 200}
        return clean_text(key, value, required=key != "contact_name", max_length=limits[key])

    @validates("email")
    def _check_email(self, key: str, value: str | None) -> str | None:
        return clean_email(key, value)

    @validates("iban")
    def _check_iban(self, key: str, value: str | None) -> str | None:
        from app.services.bank_accounts import BankDetailsError, valid_iban

        if value is None or not str(value).strip():
            return None
        try:
            return valid_iban(value)
        except BankDetailsError:
            raise ModelValidationError({key: str(_("Enter a valid IBAN."))}) from None

    @validates("bic")
    def _check_bic(self, key: str, value: str | None) -> str | None:
        from app.services.bank_accounts import BankDetailsError, valid_bic

        try:
            return valid_bic(value)
        except BankDetailsError:
            raise ModelValidationError({key: str(_("Enter a valid BIC."))}) from None

    @validates("phone")
    def _check_phone(self, key: str, value: str | None) -> str | None:
        return clean_phone(key, value)

    def __repr__(self) -> str:
        return self.name
