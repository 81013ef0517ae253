"""contract terms, renewal cycles and cancellations

A contract keeps its number across years; each insured period becomes a term. Every
existing policy gets one term (its effective and expiry dates and its premium; open,
or lapsed/cancelled as the policy is expired/cancelled). The policy gains what the
cancellation rules need (main échéance, tacit renewal, notice period, use, borrower
and group contract flags, docs/domain-rules.md) and each organisation the lead time
at which its renewal cycles open. Downgrading drops all of it; the policies keep
their dates and premium, which mirror their last term.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 08:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def _timestamps():
    return [
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
    ]


POLICY_COLUMNS = [
    sa.Column("echeance_day", sa.SmallInteger(), nullable=True),
    sa.Column("echeance_month", sa.SmallInteger(), nullable=True),
    sa.Column("tacit_renewal", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    sa.Column("notice_months", sa.SmallInteger(), server_default=sa.text("2"), nullable=False),
    sa.Column(
        "use",
        _enum("contract_use", "consumer", "professional"),
        server_default="consumer",
        nullable=False,
    ),
    sa.Column("borrower", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    sa.Column("group_contract", sa.Boolean(), server_default=sa.text("false"), nullable=False),
]


def upgrade():
    for column in POLICY_COLUMNS:
        op.add_column("policy", column)
    op.add_column(
        "organisation",
        sa.Column("renewal_lead_days", sa.Integer(), server_default="90", nullable=False),
    )
    op.create_table(
        "term",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("premium", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column(
            "status", _enum("term_status", "open", "renewed", "lapsed", "cancelled"), nullable=False
        ),
        *_timestamps(),
        sa.CheckConstraint("end_date > start_date", name="ck_term_dates_ordered"),
        sa.CheckConstraint("premium >= 0", name="ck_term_premium_positive"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["policy_id"], ["policy.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("policy_id", "sequence", name="uq_term_policy_sequence"),
    )
    op.create_index("ix_term_policy_start", "term", ["policy_id", "start_date"])
    op.create_table(
        "renewal_cycle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("echeance", sa.Date(), nullable=False),
        sa.Column("last_day_to_refuse", sa.Date(), nullable=False),
        sa.Column("avis_sent_on", sa.Date(), nullable=True),
        sa.Column(
            "avis_channel",
            _enum("notice_channel", "post", "email", "registered_letter", "hand"),
            nullable=True,
        ),
        sa.Column("avis_document_id", sa.Integer(), nullable=True),
        sa.Column("chatel_window_end", sa.Date(), nullable=True),
        sa.Column("previous_premium", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("proposed_premium", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("change_percent", sa.Numeric(precision=7, scale=2), nullable=True),
        sa.Column(
            "decision", _enum("renewal_decision", "renew", "remarket", "not_renew"), nullable=True
        ),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("status", _enum("renewal_status", "open", "renewed", "closed"), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint(
            "proposed_premium IS NULL OR proposed_premium > 0",
            name="ck_renewal_cycle_proposed_premium_positive",
        ),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["policy_id"], ["policy.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["avis_document_id"], ["document.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["term_id"], ["term.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("policy_id", "echeance", name="uq_renewal_cycle_policy_echeance"),
    )
    op.create_index(
        "ix_renewal_cycle_organisation_echeance",
        "renewal_cycle",
        ["organisation_id", "status", "echeance"],
    )
    op.create_table(
        "cancellation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("ground", sa.String(length=30), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("basis", sa.String(length=60), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("letter_document_id", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("received_on >= requested_on", name="ck_cancellation_dates_ordered"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["policy_id"], ["policy.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["letter_document_id"], ["document.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("policy_id"),
    )
    op.create_index(
        "ix_cancellation_organisation_effective",
        "cancellation",
        ["organisation_id", "effective_on"],
    )
    # One term per existing policy: the period and premium it holds today.
    op.execute(
        "INSERT INTO term (organisation_id, policy_id, sequence, start_date, end_date, premium,"
        " status) SELECT organisation_id, id, 1, effective_date, expiry_date, premium,"
        " CASE status WHEN 'cancelled' THEN 'cancelled' WHEN 'expired' THEN 'lapsed'"
        " ELSE 'open' END FROM policy"
    )


def downgrade():
    op.drop_index("ix_cancellation_organisation_effective", table_name="cancellation")
    op.drop_table("cancellation")
    op.drop_index("ix_renewal_cycle_organisation_echeance", table_name="renewal_cycle")
    op.drop_table("renewal_cycle")
    op.drop_index("ix_term_policy_start", table_name="term")
    op.drop_table("term")
    # Plain DROP COLUMN (SQLite 3.35+): a batch would recreate the table under its references.
    op.drop_column("organisation", "renewal_lead_days")
    for column in reversed(POLICY_COLUMNS):
        op.drop_column("policy", column.name)
