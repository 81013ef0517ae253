"""Commissions: rules per insurer, expected commissions per premium notice, insurer statements

Commission rules (rate for the first and later contract years, or a fixed amount; due on
issue or on payment; a claw-back share), the commission each notice is expected to earn,
the insurers' statements with their saved column mappings and reconciled lines, and a
product name on contracts (rules may be negotiated per product). Downgrading drops all.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 15:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "commission_column_mapping",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
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
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "organisation_id", "company_id", name="uq_commission_column_mapping_company"
        ),
    )
    op.create_table(
        "commission_statement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum("reconciled", name="commission_statement_status", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("tolerance", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("total_commission", sa.Numeric(precision=12, scale=2), nullable=False),
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
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "sha256", name="uq_commission_statement_file"),
    )
    with op.batch_alter_table("commission_statement", schema=None) as batch_op:
        batch_op.create_index(
            "ix_commission_statement_organisation_company",
            ["organisation_id", "company_id"],
            unique=False,
        )

    op.create_table(
        "commission_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column(
            "line_of_business",
            sa.Enum(
                "auto",
                "home",
                "health",
                "life",
                "liability",
                "professional",
                "travel",
                name="line_of_business",
                native_enum=False,
                length=30,
            ),
            nullable=True,
        ),
        sa.Column("product", sa.String(length=100), nullable=True),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column(
            "basis",
            sa.Enum("rate", "fixed", name="commission_basis", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("first_year_rate", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("later_years_rate", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("fixed_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column(
            "due",
            sa.Enum("on_issue", "on_payment", name="commission_due", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("clawback_first_year", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("clawback_second_year", sa.Numeric(precision=5, scale=2), nullable=True),
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
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name="ck_commission_rule_dates"
        ),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["policy_id"], ["policy.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("commission_rule", schema=None) as batch_op:
        batch_op.create_index(
            "ix_commission_rule_organisation_company",
            ["organisation_id", "company_id"],
            unique=False,
        )

    op.create_table(
        "expected_commission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("premium_notice_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("first_year", sa.Boolean(), nullable=False),
        sa.Column("base_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("rate", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "expected",
                "received",
                "differs",
                "cancelled",
                "clawed_back",
                name="expected_commission_status",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("received_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("clawback_amount", sa.Numeric(precision=12, scale=2), nullable=True),
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
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["premium_notice_id"], ["premium_notice.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["rule_id"], ["commission_rule.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "premium_notice_id", "rule_id", name="uq_expected_commission_notice_rule"
        ),
    )
    with op.batch_alter_table("expected_commission", schema=None) as batch_op:
        batch_op.create_index(
            "ix_expected_commission_organisation_company_period",
            ["organisation_id", "company_id", "period_start"],
            unique=False,
        )
        batch_op.create_index("ix_expected_commission_policy", ["policy_id"], unique=False)

    op.create_table(
        "commission_statement_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=True),
        sa.Column("policy_number", sa.String(length=40), nullable=True),
        sa.Column("notice_reference", sa.String(length=60), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("premium", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("commission", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column(
            "result",
            sa.Enum(
                "matched",
                "amount_differs",
                "missing",
                "unknown",
                name="commission_line_result",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("expected_commission_id", sa.Integer(), nullable=True),
        sa.Column("expected_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["expected_commission_id"], ["expected_commission.id"], ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["statement_id"], ["commission_statement.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("commission_statement_line", schema=None) as batch_op:
        batch_op.create_index(
            "ix_commission_statement_line_expected", ["expected_commission_id"], unique=False
        )
        batch_op.create_index(
            "ix_commission_statement_line_statement_result",
            ["statement_id", "result"],
            unique=False,
        )

    # A plain column: SQLite adds it in place (no table rebuild under its references).
    op.add_column("policy", sa.Column("product", sa.String(length=100), nullable=True))


def downgrade():
    op.drop_column("policy", "product")

    with op.batch_alter_table("commission_statement_line", schema=None) as batch_op:
        batch_op.drop_index("ix_commission_statement_line_statement_result")
        batch_op.drop_index("ix_commission_statement_line_expected")

    op.drop_table("commission_statement_line")
    with op.batch_alter_table("expected_commission", schema=None) as batch_op:
        batch_op.drop_index("ix_expected_commission_policy")
        batch_op.drop_index("ix_expected_commission_organisation_company_period")

    op.drop_table("expected_commission")
    with op.batch_alter_table("commission_rule", schema=None) as batch_op:
        batch_op.drop_index("ix_commission_rule_organisation_company")

    op.drop_table("commission_rule")
    with op.batch_alter_table("commission_statement", schema=None) as batch_op:
        batch_op.drop_index("ix_commission_statement_organisation_company")

    op.drop_table("commission_statement")
    op.drop_table("commission_column_mapping")
