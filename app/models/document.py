"""A generated document: which template version made it from which data, and where it is."""

from __future__ import annotations

import datetime as dt
import enum

from flask_appbuilder import Model
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import OrganisationOwned, Timestamped
from app.models.template import OutputFormat


class DocumentStatus(enum.Enum):
    queued = "queued"
    running = "running"
    ready = "ready"
    failed = "failed"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20, validate_strings=True)


class Document(OrganisationOwned, Timestamped, Model):
    __tablename__ = "document"
    __table_args__ = (
        # PostgreSQL: INCLUDE status for the dashboard's documents per day (migration 0008).
        Index(
            "ix_document_organisation_created",
            "organisation_id",
            "created_at",
            postgresql_include=["status"],
        ),
        Index("ix_document_organisation_status", "organisation_id", "status"),
        # The sweeper's query: queued rows, and running rows whose lease expired.
        Index("ix_document_status_lease", "status", "lease_expires_at"),
        # A rendered document pins both; a report or export (migration 0007) neither.
        CheckConstraint(
            "(template_id IS NULL AND template_version_id IS NULL)"
            " OR (template_id IS NOT NULL AND template_version_id IS NOT NULL)",
            name="ck_document_template_pinned",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # NULL for a document no template made (a report or a list export, made by its job).
    template_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("template.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    # Pinned when the document is asked for: publishing later never changes it.
    template_version_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("template_version.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    policy_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("policy.id", ondelete="RESTRICT"), index=True
    )
    job_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("job.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL")
    )
    format: Mapped[OutputFormat] = mapped_column(
        _enum(OutputFormat, "document_format"), nullable=False
    )
    status: Mapped[DocumentStatus] = mapped_column(
        _enum(DocumentStatus, "document_status"), nullable=False, default=DocumentStatus.queued
    )
    error: Mapped[str | None] = mapped_column(String(1000))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    engine: Mapped[str | None] = mapped_column(String(20))
    # The template's slug and the policy number, e.g. conditions-particulieres-POL-1.pdf
    # (app/services/rendering/names.py): ASCII letters, digits, '.', '_' and '-' only.
    file_name: Mapped[str | None] = mapped_column(String(200))
    media_type: Mapped[str | None] = mapped_column(String(100))
    storage_key: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int | None] = mapped_column(BigInteger)
    stored_size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    # A hash of the data the template rendered, to tell what a document said.
    data_sha256: Mapped[str | None] = mapped_column(String(64))
    # Links issued before this moment no longer download (revoking every link of a document).
    links_revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    compressed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    encrypted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    template = relationship("Template")
    template_version = relationship("TemplateVersion")
    policy = relationship("Policy")
    job = relationship("Job", foreign_keys=[job_id])
    created_by = relationship("AppUser", foreign_keys=[created_by_id])

    def __repr__(self) -> str:
        return self.file_name or f"document #{self.id}"
