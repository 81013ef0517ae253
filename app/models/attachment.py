"""Files a broker keeps for a client, a contract or a claim (photos, constat, invoices, IDs),
and the certificate of a training of the DDA log.

The bytes live in the storage module (app/services/storage), under a key made from the
row's id, encrypted when the server has keys; the row says what they are. The type is
the one read from the content when the file was accepted (app/services/attachments),
never the name's or the browser's.
"""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import OrganisationOwned, Timestamped


class Attachment(OrganisationOwned, Timestamped, Model):
    """One uploaded file, attached to exactly one client, contract, claim or training record."""

    __tablename__ = "attachment"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN claim_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN client_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN policy_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN training_record_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="ck_attachment_one_owner",
        ),
        CheckConstraint("size > 0", name="ck_attachment_size_positive"),
        Index("ix_attachment_claim", "claim_id"),
        Index("ix_attachment_client", "client_id"),
        Index("ix_attachment_policy", "policy_id"),
        Index("ix_attachment_training_record", "training_record_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A file goes with its record.
    claim_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("claim.id", ondelete="CASCADE")
    )
    client_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("client.id", ondelete="CASCADE")
    )
    policy_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("policy.id", ondelete="CASCADE")
    )
    # A training's certificate (the DDA log's proof, app/views/training.py).
    training_record_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("training_record.id", ondelete="CASCADE")
    )
    file_name: Mapped[str] = mapped_column(String(200), nullable=False)
    media_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    encrypted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    has_thumbnail: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL")
    )

    claim = relationship("Claim")
    client = relationship("Client")
    policy = relationship("Policy")
    training_record = relationship("TrainingRecord")

    def __repr__(self) -> str:
        return self.file_name
