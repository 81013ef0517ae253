"""The append-only audit trail."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_appbuilder import Model
from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import utcnow

# What an entry says, in the order screens, exports and the API show it.
AUDIT_FIELDS = (
    "created_at",
    "username",
    "organisation_id",
    "action",
    "object_type",
    "object_id",
    "changes",
    "request_id",
    "ip",
    "user_agent",
)


class AuditLog(Model):
    """Who did what to which object, with the values before and after (UTC)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_organisation_created", "organisation_id", "created_at"),
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    # Plain ids, no foreign keys: the trail must outlive the users and rows it names.
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(128))
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    object_type: Mapped[str | None] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(128))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))

    def __repr__(self) -> str:
        return f"{self.action} {self.object_type or ''} {self.object_id or ''}".strip()


class AuditLogAppendOnlyError(RuntimeError):
    pass


@event.listens_for(AuditLog, "before_update")
def _refuse_update(*_args: Any) -> None:
    raise AuditLogAppendOnlyError("audit rows cannot be changed")


@event.listens_for(AuditLog, "before_delete")
def _refuse_delete(*_args: Any) -> None:
    raise AuditLogAppendOnlyError("audit rows cannot be deleted")
