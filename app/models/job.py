"""A long task (render, batch render, report, export, purge): the row is the truth."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from flask_appbuilder import Model
from sqlalchemy import JSON, DateTime, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Timestamped


class JobKind(enum.Enum):
    render = "render"
    batch_render = "batch_render"
    report = "report"
    export = "export"
    purge = "purge"


class JobStatus(enum.Enum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20, validate_strings=True)


class Job(Timestamped, Model):
    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_organisation_created", "organisation_id", "created_at"),
        Index("ix_job_status_lease", "status", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # NULL only for platform-wide jobs (a purge across every agency).
    organisation_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("organisation.id", ondelete="RESTRICT")
    )
    owner_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[JobKind] = mapped_column(_enum(JobKind, "job_kind"), nullable=False)
    status: Mapped[JobStatus] = mapped_column(
        _enum(JobStatus, "job_status"), nullable=False, default=JobStatus.queued
    )
    progress_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(1000))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Jobs that work themselves (reports, exports): the claim's token, and when the
    # message last went out (app/services/reports/runs.py, migration 0007).
    lease_token: Mapped[str | None] = mapped_column(String(32))
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The document a report or export job delivers.
    document_id: Mapped[int | None] = mapped_column(
        Integer,
        ForeignKey("document.id", ondelete="SET NULL", use_alter=True, name="fk_job_document"),
    )
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    owner = relationship("AppUser", foreign_keys=[owner_id])

    def __repr__(self) -> str:
        return f"{self.kind.value} #{self.id}"
