"""signed download links (keys, spent single-use links, revocation) and purge runs

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 23:15:36

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "signing_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=16), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("verify_until", sa.DateTime(), nullable=True),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kid"),
    )
    op.create_table(
        "purge_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=128), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("files_count", sa.Integer(), nullable=False),
        sa.Column("bytes_total", sa.BigInteger(), nullable=False),
        sa.Column("documents_count", sa.Integer(), nullable=False),
        sa.Column("jobs_count", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("purge_run", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_purge_run_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "spent_link",
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("spent_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("nonce"),
    )
    with op.batch_alter_table("spent_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spent_link_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_spent_link_expires_at"), ["expires_at"], unique=False)

    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("links_revoked_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_column("links_revoked_at")

    with op.batch_alter_table("spent_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spent_link_expires_at"))
        batch_op.drop_index(batch_op.f("ix_spent_link_document_id"))

    op.drop_table("spent_link")
    with op.batch_alter_table("purge_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purge_run_organisation_id"))

    op.drop_table("purge_run")
    op.drop_table("signing_key")
