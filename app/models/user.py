"""FAB's user, extended with the organisation the user works for."""

from __future__ import annotations

from flask_appbuilder.security.sqla.models import User as FabUser
from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship


class AppUser(FabUser):
    __tablename__ = "ab_user"

    # Nullable only for platform operators (SUPERADMIN) who belong to no agency.
    organisation_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    organisation = relationship("Organisation")
