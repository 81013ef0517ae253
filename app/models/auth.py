"""Login sessions of the REST API and the refresh tokens each one has been given.

A session (``AuthSession``) is one login: a family of refresh tokens. Every
refresh spends the presented token and adds the next one to the family; a
spent or revoked token presented again ends the whole family. Access tokens
carry their session's id (claim ``sid``), and each request checks that the
session is still live, so ending a session stops its access tokens at once, in
every process (the check reads the database).

Times are naive UTC (``app.models.base.utcnow``). Only a SHA-256 of each
token's ``jti`` is stored: the table cannot be used to forge or replay tokens.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import utcnow


class AuthSession(Model):
    __tablename__ = "auth_session"
    __table_args__ = (Index("ix_auth_session_user_revoked", "user_id", "revoked_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False
    )
    device: Mapped[str | None] = mapped_column(String(256))  # the User-Agent at login
    ip: Mapped[str | None] = mapped_column(String(64))  # at login
    last_ip: Mapped[str | None] = mapped_column(String(64))
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    last_used_on: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    # Absolute end: refreshing never extends a session beyond it.
    expires_on: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    revoked_on: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))

    tokens = relationship(
        "RefreshToken", back_populates="session", cascade="all, delete-orphan", lazy="select"
    )

    def is_live(self, now: dt.datetime | None = None) -> bool:
        return self.revoked_on is None and self.expires_on > (now or utcnow())


class RefreshToken(Model):
    __tablename__ = "auth_refresh_token"
    __table_args__ = (Index("ix_auth_refresh_token_session", "session_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("auth_session.id", ondelete="CASCADE"), nullable=False
    )
    jti_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_agent: Mapped[str | None] = mapped_column(String(256))
    ip: Mapped[str | None] = mapped_column(String(64))
    issued_on: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    expires_on: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    used_on: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_on: Mapped[dt.datetime | None] = mapped_column(DateTime)

    session = relationship("AuthSession", back_populates="tokens")
