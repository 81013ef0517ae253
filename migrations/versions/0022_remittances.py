"""Remittance bordereaux: premiums collected for an insurer, net of commission; insurers' IBAN

A remittance (bordereau d'encaissement) lists the paid notices of an insurer over a period
with the commission retained; an insurer gains the account the net amount is transferred
to. Downgrading drops them.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 16:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "remittance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft", "issued", "paid", name="remittance_status", native_enum=False, length=30
            ),
            nullable=False,
        ),
        sa.Column("premiums_collected", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("commission_retained", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("net_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
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
        sa.CheckConstraint("period_to >= period_from", name="ck_remittance_period"),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("remittance", schema=None) as batch_op:
        batch_op.create_index(
            "ix_remittance_organisation_company", ["organisation_id", "company_id"], unique=False
        )

    op.create_table(
        "remittance_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remittance_id", sa.Integer(), nullable=False),
        sa.Column("premium_notice_id", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("collected", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("commission", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["premium_notice_id"], ["premium_notice.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["remittance_id"], ["remittance.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("premium_notice_id", name="uq_remittance_line_notice"),
    )
    with op.batch_alter_table("remittance_line", schema=None) as batch_op:
        batch_op.create_index("ix_remittance_line_remittance", ["remittance_id"], unique=False)

    # Plain columns: SQLite adds them in place.
    op.add_column("company", sa.Column("iban", sa.String(length=34), nullable=True))
    op.add_column("company", sa.Column("bic", sa.String(length=11), nullable=True))


def downgrade():
    op.drop_column("company", "bic")
    op.drop_column("company", "iban")

    with op.batch_alter_table("remittance_line", schema=None) as batch_op:
        batch_op.drop_index("ix_remittance_line_remittance")

    op.drop_table("remittance_line")
    with op.batch_alter_table("remittance", schema=None) as batch_op:
        batch_op.drop_index("ix_remittance_organisation_company")

    op.drop_table("remittance")
