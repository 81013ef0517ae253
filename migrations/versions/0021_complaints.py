"""complaints register (ACPR 2022-R-01): deadlines, answers and their tasks

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 15:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=30)


def upgrade() -> None:
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column(
            "channel",
            _enum("letter", "email", "phone", "in_person", "web", name="complaint_channel"),
            nullable=False,
        ),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("acknowledgement_due_on", sa.Date(), nullable=False),
        sa.Column("acknowledged_on", sa.Date(), nullable=True),
        sa.Column("answer_due_on", sa.Date(), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column(
            "outcome",
            _enum("upheld", "partly_upheld", "rejected", "withdrawn", name="complaint_outcome"),
            nullable=True,
        ),
        sa.Column("mediator_named", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("acknowledgement_task_id", sa.Integer(), nullable=True),
        sa.Column("answer_task_id", sa.Integer(), nullable=True),
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
            "acknowledged_on IS NULL OR acknowledged_on >= received_on",
            name="ck_complaint_acknowledged_after_receipt",
        ),
        sa.CheckConstraint(
            "answered_on IS NULL OR answered_on >= received_on",
            name="ck_complaint_answered_after_receipt",
        ),
        sa.CheckConstraint(
            "(answered_on IS NULL) = (outcome IS NULL)", name="ck_complaint_outcome_with_answer"
        ),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["policy_id"], ["policy.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["acknowledgement_task_id"], ["task.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["answer_task_id"], ["task.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_complaint_organisation_received", "complaint", ["organisation_id", "received_on"]
    )
    op.create_index("ix_complaint_client", "complaint", ["client_id"])
    op.create_index("ix_complaint_policy", "complaint", ["policy_id"])
    op.create_index("ix_complaint_claim", "complaint", ["claim_id"])


def downgrade() -> None:
    op.drop_index("ix_complaint_claim", table_name="complaint")
    op.drop_index("ix_complaint_policy", table_name="complaint")
    op.drop_index("ix_complaint_client", table_name="complaint")
    op.drop_index("ix_complaint_organisation_received", table_name="complaint")
    op.drop_table("complaint")
