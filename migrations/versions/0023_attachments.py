"""attachments: files kept for a client, a contract or a claim

The bytes are in the storage module under a key made from the row's id; the row holds
the name, the type read from the content, the size, the SHA-256 and whether a thumbnail
was stored. Exactly one owner per file, and the file goes with it (ON DELETE CASCADE).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 15:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("encrypted", sa.Boolean(), nullable=False),
        sa.Column("has_thumbnail", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
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
        sa.CheckConstraint(
            "(CASE WHEN claim_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN client_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN policy_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="ck_attachment_one_owner",
        ),
        sa.CheckConstraint("size > 0", name="ck_attachment_size_positive"),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["policy_id"], ["policy.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attachment_claim", "attachment", ["claim_id"])
    op.create_index("ix_attachment_client", "attachment", ["client_id"])
    op.create_index("ix_attachment_policy", "attachment", ["policy_id"])


def downgrade():
    op.drop_index("ix_attachment_policy", table_name="attachment")
    op.drop_index("ix_attachment_client", table_name="attachment")
    op.drop_index("ix_attachment_claim", table_name="attachment")
    op.drop_table("attachment")
