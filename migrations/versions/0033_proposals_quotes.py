"""Advice duty before a sale: proposals, quotes, DER/FIC documents, needs questionnaires

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 17:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

LINES = ("auto", "home", "health", "life", "liability", "professional", "travel")
METHODS = ("by_hand", "post", "email", "electronic")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20, create_constraint=True)


def _stamps() -> list[sa.Column]:
    return [
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
    ]


def upgrade() -> None:
    op.create_table(
        "needs_questionnaire",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_of_business", _enum("questionnaire_line", *LINES), nullable=False),
        sa.Column("questions", sa.Text(), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "organisation_id", "line_of_business", name="uq_needs_questionnaire_line"
        ),
    )
    op.create_table(
        "proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("line_of_business", _enum("proposal_line", *LINES), nullable=False),
        sa.Column(
            "sale_channel",
            _enum("sale_channel", "in_person", "distance", "door_to_door"),
            nullable=False,
        ),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("recommendation", sa.Text(), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["created_by_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_proposal_organisation_created", "proposal", ["organisation_id", "created_at"]
    )
    op.create_index("ix_proposal_client", "proposal", ["client_id"])
    op.create_table(
        "quote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=100), nullable=True),
        sa.Column("premium", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column(
            "status",
            _enum("quote_status", "to_price", "priced", "sent", "accepted", "refused"),
            nullable=False,
        ),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("converted_at", sa.DateTime(), nullable=True),
        sa.Column("withdrawal_ends_on", sa.Date(), nullable=True),
        *_stamps(),
        sa.CheckConstraint("premium IS NULL OR premium >= 0", name="ck_quote_premium_positive"),
        sa.CheckConstraint(
            "status = 'to_price' OR premium IS NOT NULL", name="ck_quote_premium_when_priced"
        ),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["policy_id"], ["policy.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_quote_proposal", "quote", ["proposal_id"])
    op.create_index("ix_quote_organisation_status", "quote", ["organisation_id", "status"])
    op.create_index("ix_quote_policy", "quote", ["policy_id"])
    op.create_table(
        "compliance_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("compliance_kind", "der", "fic"), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            _enum("compliance_status", "generated", "sent", "signed"),
            nullable=False,
        ),
        sa.Column("sent_on", sa.Date(), nullable=True),
        sa.Column("sent_by", _enum("compliance_sent_by", *METHODS), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("signed_by", _enum("compliance_signed_by", *METHODS), nullable=True),
        *_stamps(),
        sa.CheckConstraint(
            "(kind = 'fic') = (proposal_id IS NOT NULL)", name="ck_compliance_document_subject"
        ),
        sa.CheckConstraint(
            "(status = 'generated') OR sent_on IS NOT NULL", name="ck_compliance_document_sent"
        ),
        sa.CheckConstraint(
            "(status <> 'signed') OR signed_on IS NOT NULL", name="ck_compliance_document_signed"
        ),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_compliance_document_client", "compliance_document", ["client_id", "kind"])
    op.create_index("ix_compliance_document_proposal", "compliance_document", ["proposal_id"])
    op.create_index(
        "ix_compliance_document_organisation_status",
        "compliance_document",
        ["organisation_id", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_compliance_document_organisation_status", table_name="compliance_document")
    op.drop_index("ix_compliance_document_proposal", table_name="compliance_document")
    op.drop_index("ix_compliance_document_client", table_name="compliance_document")
    op.drop_table("compliance_document")
    op.drop_index("ix_quote_policy", table_name="quote")
    op.drop_index("ix_quote_organisation_status", table_name="quote")
    op.drop_index("ix_quote_proposal", table_name="quote")
    op.drop_table("quote")
    op.drop_index("ix_proposal_client", table_name="proposal")
    op.drop_index("ix_proposal_organisation_created", table_name="proposal")
    op.drop_table("proposal")
    op.drop_table("needs_questionnaire")
