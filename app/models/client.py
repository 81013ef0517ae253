"""A client of the agency: a person or a business."""

from __future__ import annotations

import datetime as dt
import enum

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _
from sqlalchemy import Date, DateTime, Enum, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.models.base import ModelValidationError, OrganisationOwned, Timestamped
from app.models.validators import clean_email, clean_phone, clean_siren, clean_text


class ClientKind(enum.Enum):
    person = "person"
    business = "business"


class Client(OrganisationOwned, Timestamped, Model):
    __tablename__ = "client"
    __table_args__ = (
        Index("ix_client_organisation_last_name", "organisation_id", "last_name"),
        Index("ix_client_organisation_email", "organisation_id", "email"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[ClientKind] = mapped_column(
        Enum(ClientKind, name="client_kind", native_enum=False, length=20),
        nullable=False,
        default=ClientKind.person,
    )
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), nullable=False)
    company_name: Mapped[str | None] = mapped_column(String(200))
    siren: Mapped[str | None] = mapped_column(String(9))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(250))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    # Set when its personal data was erased (app/services/privacy/erase.py): a second
    # erasure is refused, screens say so.
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    organisation = relationship("Organisation")
    policies = relationship("Policy", back_populates="client", lazy="dynamic")

    @validates("first_name", "last_name", "company_name", "address", "postal_code", "city")
    def _check_text(self, key: str, value: str | None) -> str | None:
        limits = {
            "first_name": 100,
            "last_name": 100,
            "company_name": 200,
            "address": 250,
            "postal_code": 10,
            "city": 100,
        }
        return clean_text(key, value, required=key == "last_name", max_length=limits[key])

    @validates("email")
    def _check_email(self, key: str, value: str | None) -> str | None:
        return clean_email(key, value)

    @validates("phone")
    def _check_phone(self, key: str, value: str | None) -> str | None:
        return clean_phone(key, value)

    @validates("siren")
    def _check_siren(self, key: str, value: str | None) -> str | None:
        return clean_siren(key, value)

    @validates("birth_date")
    def _check_birth_date(self, key: str, value: dt.date | None) -> dt.date | None:
        if value is not None and value > dt.date.today():
            raise ModelValidationError({key: str(_("The birth date is in the future."))})
        return value

    @property
    def display_name(self) -> str:
        if self.kind == ClientKind.business and self.company_name:
            return self.company_name
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    def __repr__(self) -> str:
        return self.display_name
