"""premium notices (quittances), payments and their allocations

The money side of a contract: each term's instalments become premium notices with
their amounts (before tax, taxes, fees, total), due date and the L113-3 unpaid
procedure's dates; payments are allocated to notices. Each organisation gains the
days before a due date at which notices are issued and reminded, and after it at
which the relance goes. Downgrading drops all of it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, length=30)


def _money(name, nullable=False):
    return sa.Column(name, sa.Numeric(precision=12, scale=2), nullable=nullable)


def _timestamps():
    return [
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False
        ),
    ]


ORGANISATION_COLUMNS = [
    sa.Column("premium_issue_days", sa.Integer(), server_default="30", nullable=False),
    sa.Column("reminder_days", sa.Integer(), server_default="15", nullable=False),
    sa.Column("relance_days", sa.Integer(), server_default="5", nullable=False),
]
STAGES = (
    "up_to_date",
    "reminder_due",
    "overdue",
    "formal_notice_possible",
    "in_formal_notice",
    "suspended",
    "cancellable",
    "cancelled",
    "restored",
)


def upgrade():
    for column in ORGANISATION_COLUMNS:
        op.add_column("organisation", column)
    op.create_table(
        "premium_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column(
            "kind", _enum("notice_kind", "instalment", "one_off", "adjustment", "refund"), nullable=False
        ),
        sa.Column("instalment", sa.Integer(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("pay_by", sa.Date(), nullable=False),
        _money("amount_before_tax"),
        _money("taxes"),
        _money("fees"),
        _money("total"),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("collection", _enum("premium_collection", "broker", "insurer"), nullable=False),
        sa.Column(
            "status",
            _enum("notice_status", "draft", "issued", "partly_paid", "paid", "unpaid", "cancelled"),
            nullable=False,
        ),
        _money("paid_amount"),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("stage", _enum("unpaid_stage", *STAGES), nullable=False),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.Column("relanced_on", sa.Date(), nullable=True),
        sa.Column("formal_notice_sent_on", sa.Date(), nullable=True),
        sa.Column("registered_letter_number", sa.String(length=40), nullable=True),
        sa.Column("formal_notice_document_id", sa.Integer(), nullable=True),
        sa.Column("suspension_on", sa.Date(), nullable=True),
        sa.Column("cancellable_on", sa.Date(), nullable=True),
        sa.Column("restored_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_on", sa.Date(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("period_end > period_start", name="ck_premium_notice_period_ordered"),
        sa.CheckConstraint(
            "total = amount_before_tax + taxes + fees", name="ck_premium_notice_total_adds_up"
        ),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["policy_id"], ["policy.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["term_id"], ["term.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["formal_notice_document_id"], ["document.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "number", name="uq_premium_notice_organisation_number"),
        sa.UniqueConstraint("term_id", "kind", "instalment", name="uq_premium_notice_term_instalment"),
    )
    op.create_index(
        "ix_premium_notice_organisation_status_due",
        "premium_notice",
        ["organisation_id", "status", "due_on"],
    )
    op.create_index(
        "ix_premium_notice_organisation_stage_due",
        "premium_notice",
        ["organisation_id", "stage", "due_on"],
    )
    op.create_index("ix_premium_notice_policy_due", "premium_notice", ["policy_id", "due_on"])
    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("payer", sa.String(length=200), nullable=True),
        _money("amount"),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column(
            "method",
            _enum("payment_method", "sepa_debit", "transfer", "cheque", "card", "cash"),
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("status", _enum("payment_status", "received", "rejected"), nullable=False),
        _money("allocated_amount"),
        sa.Column("rejected_on", sa.Date(), nullable=True),
        sa.Column("rejection_reason", sa.String(length=10), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("amount > 0", name="ck_payment_amount_positive"),
        sa.CheckConstraint("allocated_amount <= amount", name="ck_payment_not_over_allocated"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_payment_organisation_received", "payment", ["organisation_id", "received_on"])
    op.create_index("ix_payment_client", "payment", ["client_id"])
    op.create_table(
        "allocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("premium_notice_id", sa.Integer(), nullable=False),
        _money("amount"),
        sa.CheckConstraint("amount > 0", name="ck_allocation_amount_positive"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["premium_notice_id"], ["premium_notice.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("payment_id", "premium_notice_id", name="uq_allocation_payment_notice"),
    )
    op.create_index("ix_allocation_premium_notice", "allocation", ["premium_notice_id"])


def downgrade():
    op.drop_index("ix_allocation_premium_notice", table_name="allocation")
    op.drop_table("allocation")
    op.drop_index("ix_payment_client", table_name="payment")
    op.drop_index("ix_payment_organisation_received", table_name="payment")
    op.drop_table("payment")
    op.drop_index("ix_premium_notice_policy_due", table_name="premium_notice")
    op.drop_index("ix_premium_notice_organisation_stage_due", table_name="premium_notice")
    op.drop_index("ix_premium_notice_organisation_status_due", table_name="premium_notice")
    op.drop_table("premium_notice")
    # Plain DROP COLUMN (SQLite 3.35+): a batch would recreate the table under its references.
    for column in reversed(ORGANISATION_COLUMNS):
        op.drop_column("organisation", column.name)
