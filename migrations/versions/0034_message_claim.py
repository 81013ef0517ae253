"""messages about a claim: the claim an e-mail was sent from

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 23:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade():
    # A plain number, no foreign key, as task.claim_id (0032): SQLite cannot add a
    # constrained column in place, and claims are never deleted (kept until prescription).
    op.add_column("message", sa.Column("claim_id", sa.Integer(), nullable=True))
    op.create_index("ix_message_claim", "message", ["claim_id"], unique=False)


def downgrade():
    op.drop_index("ix_message_claim", table_name="message")
    op.drop_column("message", "claim_id")
