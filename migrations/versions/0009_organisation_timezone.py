"""the time zone of each organisation

Times are stored in UTC; screens, exports and files show them in the
organisation's time zone (app/services/timezones.py). Existing organisations
get Europe/Paris, the product's market, through the server default.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "organisation",
        sa.Column(
            "timezone",
            sa.String(length=64),
            nullable=False,
            server_default="Europe/Paris",
        ),
    )


def downgrade():
    # A plain DROP COLUMN (SQLite 3.35+ has it): recreating the table in a batch would
    # drop the old one under the rows that reference it.
    op.drop_column("organisation", "timezone")
