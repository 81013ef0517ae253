"""accounting retention per agency: organisation.retention_accounting_years

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-08 00:55:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade():
    # Code de commerce L123-22: 10 years from the closing of the financial year.
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(
            sa.Column(
                "retention_accounting_years", sa.Integer(), nullable=False, server_default="10"
            )
        )


def downgrade():
    with op.batch_alter_table("organisation") as batch:
        batch.drop_column("retention_accounting_years")
