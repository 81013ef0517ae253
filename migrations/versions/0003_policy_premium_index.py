"""index policies by organisation and premium

The policy list (screen and API) lets users sort by premium; without this
index every such page sorts all of the organisation's policies. Measured in
docs/benchmarks.md: at 100,000 policies a page ordered by premium took about
50 ms of database time on PostgreSQL and 330 ms on SQLite before it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 17:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("policy", schema=None) as batch_op:
        batch_op.create_index(
            "ix_policy_organisation_premium", ["organisation_id", "premium"], unique=False
        )


def downgrade():
    with op.batch_alter_table("policy", schema=None) as batch_op:
        batch_op.drop_index("ix_policy_organisation_premium")
