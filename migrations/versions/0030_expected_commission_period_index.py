"""expected commissions indexed by agency and period, for the dashboard

The dashboard's commission card reads an agency's expected commissions over a period,
every insurer at once; ix_expected_commission_organisation_company_period serves it only
one insurer at a time, so without this index the agency's whole history is read.
Downgrading drops the index.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 17:45:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_expected_commission_organisation_period",
        "expected_commission",
        ["organisation_id", "period_start"],
    )


def downgrade():
    op.drop_index("ix_expected_commission_organisation_period", table_name="expected_commission")
