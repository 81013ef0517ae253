"""Document templates and their immutable, numbered versions."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _
from sqlalchemy import (
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.models.base import ModelValidationError, Timestamped, utcnow

MAX_BODY_CHARS = 200_000


class TemplateKind(enum.Enum):
    contract = "contract"
    attestation = "attestation"
    notice = "notice"
    report = "report"
    other = "other"
    # A message, not a document: its first line is the subject (app/services/mail/templates.py).
    email = "email"


class OutputFormat(enum.Enum):
    html = "html"
    pdf = "pdf"
    xlsx = "xlsx"
    # Documents only (list exports): no template produces CSV (TEMPLATE_FORMATS).
    csv = "csv"
    # Documents only: SEPA direct debit files (pain.008), app/services/premiums/debits.py.
    xml = "xml"
    # Documents only: a client's data export (RGPD access), app/services/privacy/export.py.
    zip = "zip"


TEMPLATE_FORMATS = (OutputFormat.html, OutputFormat.pdf, OutputFormat.xlsx)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20, validate_strings=True)


class Template(Timestamped, Model):
    """A document model. ``organisation_id`` NULL means shared with every agency.

    Shared templates (the built-in ones among them) are read by everyone and
    written by the platform operator only; an agency writes its own.
    """

    __tablename__ = "template"
    __table_args__ = (
        UniqueConstraint("organisation_id", "name", name="uq_template_organisation_name"),
        Index("ix_template_organisation_kind", "organisation_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("organisation.id", ondelete="RESTRICT")
    )
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    kind: Mapped[TemplateKind] = mapped_column(_enum(TemplateKind, "template_kind"), nullable=False)
    output_format: Mapped[OutputFormat] = mapped_column(
        _enum(OutputFormat, "output_format"), nullable=False
    )
    # The language of the documents (dates, money): fr or en.
    locale: Mapped[str] = mapped_column(String(5), nullable=False, default="fr")
    description: Mapped[str | None] = mapped_column(Text)
    # Set on the templates loaded on first run, so loading them again changes nothing.
    builtin_key: Mapped[str | None] = mapped_column(String(60), unique=True)
    published_version_id: Mapped[int | None] = mapped_column(
        Integer,
        ForeignKey(
            "template_version.id",
            ondelete="SET NULL",
            use_alter=True,
            name="fk_template_published_version",
        ),
    )
    created_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL")
    )

    organisation = relationship("Organisation")
    versions = relationship(
        "TemplateVersion",
        back_populates="template",
        foreign_keys="TemplateVersion.template_id",
        order_by="TemplateVersion.number",
    )
    published_version = relationship(
        "TemplateVersion", foreign_keys=[published_version_id], post_update=True
    )

    @validates("name")
    def _check_name(self, key: str, value: str | None) -> str:
        value = (value or "").strip()
        if not value or len(value) > 120:
            raise ModelValidationError(
                {key: str(_("Give the template a name (120 characters at most)."))}
            )
        return value

    @validates("locale")
    def _check_locale(self, key: str, value: str | None) -> str:
        value = (value or "fr").strip()
        if value not in ("fr", "en"):
            raise ModelValidationError({key: str(_("Choose French (fr) or English (en)."))})
        return value

    @property
    def shared(self) -> bool:
        return self.organisation_id is None

    def __repr__(self) -> str:
        return self.name


class TemplateVersion(Model):
    """One immutable body of a template: never updated once written."""

    __tablename__ = "template_version"
    __table_args__ = (UniqueConstraint("template_id", "number", name="uq_template_version_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("template.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    changelog: Mapped[str | None] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    author_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL")
    )
    # Kept beside the id: the name still reads after the account is deleted.
    author_name: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    template = relationship("Template", back_populates="versions", foreign_keys=[template_id])

    @validates("body")
    def _check_body(self, key: str, value: str | None) -> str:
        if not value or not value.strip():
            raise ModelValidationError({key: str(_("The template body is empty."))})
        if len(value) > MAX_BODY_CHARS:
            raise ModelValidationError(
                {key: str(_("The template body is too long (200,000 characters at most)."))}
            )
        return value

    def __repr__(self) -> str:
        return f"v{self.number}"


class TemplateVersionImmutableError(ModelValidationError):
    pass


@event.listens_for(TemplateVersion, "before_update")
def _refuse_update(_mapper: Any, _connection: Any, target: TemplateVersion) -> None:
    raise TemplateVersionImmutableError(
        {"body": str(_("A template version cannot be changed: write a new version."))}
    )
