"""tasks about a claim: the claim a rule's "documents missing" task is about

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 17:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade():
    # A plain number, no foreign key: SQLite cannot add a constrained column in place
    # (migration 0014 says why). The trigger column is a VARCHAR(30) without a CHECK
    # (native_enum=False, no create_constraint), so the new trigger needs no change.
    op.add_column("task", sa.Column("claim_id", sa.Integer(), nullable=True))
    op.create_index("ix_task_claim", "task", ["claim_id"], unique=False)


def downgrade():
    op.drop_index("ix_task_claim", table_name="task")
    op.drop_column("task", "claim_id")
