"""covering indexes for the dashboard's aggregates (PostgreSQL)

The dashboard (app/services/dashboard) runs one aggregate per chart. Three of
them read a date range of an indexed table and then visited the table for a few
more columns; with those columns INCLUDEd in the same index, PostgreSQL answers
from the index alone (an index-only scan). Measured at 1,000,000 policies
(docs/benchmarks.md, "Dashboard"):
- expiring in 30/60/90 days: ix_policy_organisation_expiry + (status, company_id),
  about 74 ms -> 9 ms;
- premiums per month: ix_policy_organisation_effective + (status, company_id,
  currency, premium), about 250 ms -> 60 ms together with grouping by the date;
- documents per day: ix_document_organisation_created + (status).
Same names and key columns, so every other query keeps its plan. SQLite has no
INCLUDE: its indexes stay as they are and this migration does nothing there.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 03:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# (table, index, key columns, included columns)
COVERING = [
    (
        "policy",
        "ix_policy_organisation_expiry",
        ["organisation_id", "expiry_date"],
        ["status", "company_id"],
    ),
    (
        "policy",
        "ix_policy_organisation_effective",
        ["organisation_id", "effective_date"],
        ["status", "company_id", "currency", "premium"],
    ),
    ("document", "ix_document_organisation_created", ["organisation_id", "created_at"], ["status"]),
]


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _postgresql():
        return
    for table, name, columns, included in COVERING:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False, postgresql_include=included)


def downgrade():
    if not _postgresql():
        return
    for table, name, columns, _included in COVERING:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False)
