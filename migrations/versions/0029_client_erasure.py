"""client erasure and per-agency retention: client.erased_at, organisation.retention_*

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 17:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

RETENTION = (
    ("retention_prospect_years", "3"),
    ("retention_contract_years", "5"),
    ("retention_claim_years", "0"),
)


def upgrade():
    with op.batch_alter_table("client") as batch:
        batch.add_column(sa.Column("erased_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("organisation") as batch:
        for name, default in RETENTION:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default=default))


def downgrade():
    with op.batch_alter_table("organisation") as batch:
        for name, _default in reversed(RETENTION):
            batch.drop_column(name)
    with op.batch_alter_table("client") as batch:
        batch.drop_column("erased_at")
