"""Shared column helpers and the domain validation error."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, func
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


GENERAL = ""  # the error key of a message that belongs to no single field


class ModelValidationError(ValueError):
    """Invalid field values; ``errors`` maps each field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in errors.items()))


class OrganisationOwned:
    """Marks a row that belongs to exactly one organisation (agency)."""

    # Not indexed alone: each model has composite indexes led by organisation_id.
    @declared_attr
    def organisation_id(cls) -> Mapped[int]:  # noqa: N805 (SQLAlchemy declared_attr)
        return mapped_column(
            Integer, ForeignKey("organisation.id", ondelete="RESTRICT"), nullable=False
        )


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, default=utcnow, server_default=func.current_timestamp(), nullable=False
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime,
        default=utcnow,
        onupdate=utcnow,
        server_default=func.current_timestamp(),
        nullable=False,
    )
