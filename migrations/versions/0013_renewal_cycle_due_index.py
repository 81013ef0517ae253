"""renewal cycles by agency and échéance, for the dashboard's Échéances

The dashboard counts an agency's cycles over a range of échéances, every status
at once (renewals due per month, retention over the last twelve months). The
Échéances screen's index leads with the status, so such a range read every
cycle of the agency. This one is keyed (organisation_id, echeance); on PostgreSQL
it INCLUDEs policy_id, status and decision, so the counts come from the index
alone (measured in docs/benchmarks.md, "Dashboard"). SQLite has no INCLUDE.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 14:30:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_renewal_cycle_organisation_due",
        "renewal_cycle",
        ["organisation_id", "echeance"],
        postgresql_include=["policy_id", "status", "decision"],
    )


def downgrade():
    op.drop_index("ix_renewal_cycle_organisation_due", table_name="renewal_cycle")
