"""DDA training log: hours of training per staff member

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 15:15:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.String(length=200), nullable=False),
        sa.Column("certificate_reference", sa.String(length=100), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint("hours > 0 AND hours <= 200", name="ck_training_record_hours_bounded"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["user_id"], ["ab_user.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_training_record_organisation_date",
        "training_record",
        ["organisation_id", "completed_on"],
    )
    op.create_index("ix_training_record_user", "training_record", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_training_record_user", table_name="training_record")
    op.drop_index("ix_training_record_organisation_date", table_name="training_record")
    op.drop_table("training_record")
