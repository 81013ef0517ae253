"""The DDA training log: hours of professional training per staff member.

Directive (UE) 2016/97 (DDA) art. 10 and Code des assurances A512-8: whoever
distributes insurance follows at least 15 hours of training a year. One row per
training followed: who, when, how long, with which body. The yearly totals and the
October warning are computed by app/services/compliance/training.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import OrganisationOwned, Timestamped


class TrainingRecord(OrganisationOwned, Timestamped, Model):
    __tablename__ = "training_record"
    __table_args__ = (
        # The year's totals per person read an agency's records by date.
        Index("ix_training_record_organisation_date", "organisation_id", "completed_on"),
        Index("ix_training_record_user", "user_id"),
        CheckConstraint("hours > 0 AND hours <= 200", name="ck_training_record_hours_bounded"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Kept with the person's account: the log is the agency's proof for that person.
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="RESTRICT"), nullable=False
    )
    completed_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    # The training body (organisme de formation) named on the certificate.
    body: Mapped[str] = mapped_column(String(200), nullable=False)
    certificate_reference: Mapped[str | None] = mapped_column(String(100))

    user = relationship("AppUser")

    def __repr__(self) -> str:
        return f"{self.completed_on} {self.title}"
