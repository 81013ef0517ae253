"""claims (sinistres): a loss on a contract, its declaration deadline and its status

One table: the claim names its contract, the term in force on the day of the loss and
the contract's client (so that a client's page lists its claims without a join); the
declaration deadline, the late flag and the prescription date are computed by
app/services/claims/rules.py and kept on the row for the lists to filter on them.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 15:05:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=30)


def upgrade():
    op.create_table(
        "claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("insurer_claim_number", sa.String(length=60), nullable=True),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column(
            "nature",
            _enum(
                "claim_nature",
                "water_damage",
                "theft",
                "attempted_theft",
                "fire",
                "glass",
                "motor_damage",
                "bodily_injury",
                "liability",
                "natural_disaster",
                "storm",
                "legal_protection",
                "other",
            ),
            nullable=False,
        ),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("known_on", sa.Date(), nullable=False),
        sa.Column("client_declared_on", sa.Date(), nullable=True),
        sa.Column("insurer_declared_on", sa.Date(), nullable=True),
        sa.Column("declaration_deadline", sa.Date(), nullable=False),
        sa.Column("declared_late", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("outside_term", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("prescription_on", sa.Date(), nullable=False),
        sa.Column("circumstances", sa.Text(), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("third_parties", sa.Text(), nullable=True),
        sa.Column("liability_share", sa.SmallInteger(), nullable=True),
        sa.Column("expert", sa.String(length=200), nullable=True),
        sa.Column("estimate", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("excess", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column(
            "status",
            _enum(
                "claim_status",
                "declared",
                "open",
                "expertise",
                "waiting_documents",
                "settlement",
                "closed",
                "reopened",
            ),
            nullable=False,
        ),
        sa.Column(
            "close_reason",
            _enum("claim_close_reason", "indemnified", "no_follow_up", "cover_refused"),
            nullable=True,
        ),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("reopened_on", sa.Date(), nullable=True),
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
        sa.CheckConstraint("known_on >= occurred_on", name="ck_claim_known_after_occurred"),
        sa.CheckConstraint(
            "liability_share IS NULL OR liability_share IN (0, 50, 100)",
            name="ck_claim_liability_share",
        ),
        sa.CheckConstraint("estimate IS NULL OR estimate >= 0", name="ck_claim_estimate_positive"),
        sa.CheckConstraint("excess IS NULL OR excess >= 0", name="ck_claim_excess_positive"),
        sa.CheckConstraint(
            "(status = 'closed') = (close_reason IS NOT NULL)", name="ck_claim_closed_has_reason"
        ),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["policy_id"], ["policy.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["term_id"], ["term.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "number", name="uq_claim_organisation_number"),
    )
    op.create_index(
        "ix_claim_organisation_status_occurred",
        "claim",
        ["organisation_id", "status", "occurred_on"],
    )
    op.create_index("ix_claim_organisation_occurred", "claim", ["organisation_id", "occurred_on"])
    op.create_index("ix_claim_policy", "claim", ["policy_id"])
    op.create_index("ix_claim_client", "claim", ["client_id"])


def downgrade():
    op.drop_index("ix_claim_client", table_name="claim")
    op.drop_index("ix_claim_policy", table_name="claim")
    op.drop_index("ix_claim_organisation_occurred", table_name="claim")
    op.drop_index("ix_claim_organisation_status_occurred", table_name="claim")
    op.drop_table("claim")
