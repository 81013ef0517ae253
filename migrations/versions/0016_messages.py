"""E-mail outbox: one row per message, and each agency's sender and reply-to addresses

A message keeps what was sent (addresses, subject, bodies as rendered, the attachments'
document ids and sha256), the record it is about, its Message-ID chosen before sending,
and the lease columns of the sending discipline shared with documents.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 14:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

STATUSES = ("awaiting_approval", "queued", "running", "sent", "failed", "cancelled")


def upgrade():
    op.add_column("organisation", sa.Column("mail_from", sa.String(length=254), nullable=True))
    op.add_column("organisation", sa.Column("mail_reply_to", sa.String(length=254), nullable=True))
    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="message_status", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("message_id", sa.String(length=250), nullable=False),
        sa.Column("from_address", sa.String(length=320), nullable=False),
        sa.Column("reply_to", sa.String(length=254), nullable=True),
        sa.Column("to_addresses", sa.String(length=1000), nullable=False),
        sa.Column("cc_addresses", sa.String(length=1000), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=True),
        sa.Column("template_version_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("renewal_cycle_id", sa.Integer(), nullable=True),
        sa.Column("premium_notice_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("smtp_answer", sa.String(length=1000), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["template_version_id"], ["template_version.id"], ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["policy_id"], ["policy.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["renewal_cycle_id"], ["renewal_cycle.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["premium_notice_id"], ["premium_notice.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["created_by_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["approved_by_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index("ix_message_organisation_created", "message", ["organisation_id", "created_at"])
    op.create_index(
        "ix_message_organisation_status_finished",
        "message",
        ["organisation_id", "status", "finished_at"],
    )
    op.create_index("ix_message_status_lease", "message", ["status", "lease_expires_at"])
    op.create_index("ix_message_policy", "message", ["policy_id"])
    op.create_index("ix_message_client", "message", ["client_id"])
    op.create_index("ix_message_template_version_id", "message", ["template_version_id"])
    op.create_index("ix_message_renewal_cycle_id", "message", ["renewal_cycle_id"])
    op.create_index("ix_message_premium_notice_id", "message", ["premium_notice_id"])


def downgrade():
    op.drop_table("message")  # its indexes go with it
    op.drop_column("organisation", "mail_reply_to")
    op.drop_column("organisation", "mail_from")
