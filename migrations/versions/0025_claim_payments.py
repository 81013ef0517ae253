"""claim payments: indemnities, refund requests and recourses recorded on a claim

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 15:25:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "claim_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "indemnity_client",
                "indemnity_third_party",
                "refund_request",
                "insurer_recourse",
                "client_recourse",
                name="claim_payment_kind",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("counterparty", sa.String(length=200), nullable=True),
        sa.Column(
            "collected_by_broker", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("note", sa.Text(), nullable=True),
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
        sa.CheckConstraint("amount > 0", name="ck_claim_payment_amount_positive"),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_claim_payment_claim", "claim_payment", ["claim_id"])
    op.create_index(
        "ix_claim_payment_organisation_paid", "claim_payment", ["organisation_id", "paid_on"]
    )


def downgrade():
    op.drop_index("ix_claim_payment_organisation_paid", table_name="claim_payment")
    op.drop_index("ix_claim_payment_claim", table_name="claim_payment")
    op.drop_table("claim_payment")
