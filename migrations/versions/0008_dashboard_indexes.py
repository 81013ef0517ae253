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
INCLUDE: those indexes stay as they are there.

On every database, ix_policy_organisation_company (organisation_id, company_id)
becomes ix_policy_organisation_company_status_line, with status and
line_of_business as key columns (INCLUDE would turn off B-tree deduplication,
which keeps this index a few MB at 1M policies): policies per insurer, and per
status and line for one insurer, are then counted from the index alone. Its
prefix serves every query the old index served.

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


COMPANY_OLD = ("ix_policy_organisation_company", ["organisation_id", "company_id"])
COMPANY_NEW = (
    "ix_policy_organisation_company_status_line",
    ["organisation_id", "company_id", "status", "line_of_business"],
)


def upgrade():
    op.create_index(COMPANY_NEW[0], "policy", COMPANY_NEW[1], unique=False)
    op.drop_index(COMPANY_OLD[0], table_name="policy")
    if not _postgresql():
        return
    for table, name, columns, included in COVERING:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False, postgresql_include=included)


def downgrade():
    op.create_index(COMPANY_OLD[0], "policy", COMPANY_OLD[1], unique=False)
    op.drop_index(COMPANY_NEW[0], table_name="policy")
    if not _postgresql():
        return
    for table, name, columns, _included in COVERING:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False)
