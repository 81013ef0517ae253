"""SEPA direct debit: mandates, the contracts and payments they debit, the agency as creditor

A client's mandate (its unique reference, IBAN, BIC, signature date and FRST/RCUR
sequence) lets the agency debit the contracts that name it. A debit is a payment that
names its mandate and the batch job that wrote its pain.008 file. Each organisation
gains its SEPA creditor identifier and the account debits are paid into. Downgrading
drops all of it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 15:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ORGANISATION_COLUMNS = [
    sa.Column("sepa_creditor_identifier", sa.String(length=35), nullable=True),
    sa.Column("sepa_creditor_iban", sa.String(length=34), nullable=True),
    sa.Column("sepa_creditor_bic", sa.String(length=11), nullable=True),
]

# Columns added to existing tables: plain numbers, checked by the services (SQLite can
# neither add a reference in place that its schema check reports faithfully, nor drop a
# referencing column without recreating the table under the rows that reference it).
ADDED = [("policy", "mandate_id"), ("payment", "mandate_id"), ("payment", "debit_job_id")]


def upgrade():
    for column in ORGANISATION_COLUMNS:
        op.add_column("organisation", column)
    op.create_table(
        "mandate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=35), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("bic", sa.String(length=11), nullable=True),
        sa.Column("debtor_name", sa.String(length=70), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column(
            "sequence",
            sa.Enum("first", "recurring", name="mandate_sequence", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("active", "revoked", name="mandate_status", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("revoked_on", sa.Date(), nullable=True),
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
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "organisation_id", "reference", name="uq_mandate_organisation_reference"
        ),
    )
    op.create_index("ix_mandate_client", "mandate", ["client_id"])
    for table, column in ADDED:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
    op.create_index("ix_policy_mandate", "policy", ["mandate_id"])
    op.create_index("ix_payment_debit_job", "payment", ["debit_job_id"])


def downgrade():
    op.drop_index("ix_payment_debit_job", table_name="payment")
    op.drop_index("ix_policy_mandate", table_name="policy")
    for table, column in reversed(ADDED):
        op.drop_column(table, column)
    op.drop_index("ix_mandate_client", table_name="mandate")
    op.drop_table("mandate")
    for column in reversed(ORGANISATION_COLUMNS):
        op.drop_column("organisation", column.name)
