"""Secure delivery and file lifecycle: link-signing keys, spent single-use links, purge runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_appbuilder import Model
from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import utcnow


class SigningKey(Model):
    """A key that signs download links. One signs; older ones verify until their links expire.

    The secret is stored encrypted with a key derived from SECRET_KEY (never in clear),
    unless keys come from the environment (LINK_SIGNING_KEYS), which then win.
    """

    __tablename__ = "signing_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    secret_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    # The key that signs new links; exactly one is active.
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    # Set when another key took over: links it signed are accepted until then, never after.
    verify_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    def __repr__(self) -> str:
        return self.kid


class SpentLink(Model):
    """The nonce of a used single-use link: its primary key refuses a second use."""

    __tablename__ = "spent_link"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    document_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("document.id", ondelete="CASCADE"), nullable=False, index=True
    )
    spent_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    # After this the link is dead anyway: the row can go (the purge removes it).
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, index=True)


class PurgeRun(Model):
    """One purge, dry or applied: what it found or removed, and why (the proof)."""

    __tablename__ = "purge_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    applied: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # cli, periodic or screen
    trigger: Mapped[str] = mapped_column(String(20), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL")
    )
    actor_name: Mapped[str | None] = mapped_column(String(128))
    # NULL: every organisation (operator); else one agency's documents only.
    organisation_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("organisation.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="running")
    files_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    bytes_total: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    documents_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    jobs_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Each item: {"category": orphan|retention|failed_job, "key"?, "document_id"?, "job_id"?,
    #             "size", "reason"}.
    report: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(1000))

    def __repr__(self) -> str:
        return f"purge #{self.id}"
