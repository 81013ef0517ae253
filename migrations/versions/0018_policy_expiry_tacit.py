"""tacit renewal and id in the policy expiry index, for the dashboard's Échéances (PostgreSQL)

Renewals due per month count the contracts in force, tacitly renewed, whose échéance
falls in the next twelve months and that have no renewal cycle yet (looked up by
policy id): nearly every live contract of the book. ix_policy_organisation_expiry
already INCLUDEs status and company_id (migration 0008); with tacit_renewal and id
too, PostgreSQL answers from the index alone instead of visiting each contract
(measured in docs/benchmarks.md, "Dashboard").
Same name and key columns, so every other query keeps its plan. SQLite has no INCLUDE.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 14:45:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

NAME = "ix_policy_organisation_expiry"
COLUMNS = ["organisation_id", "expiry_date"]


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if _postgresql():
        op.drop_index(NAME, table_name="policy")
        op.create_index(
            NAME,
            "policy",
            COLUMNS,
            postgresql_include=["status", "company_id", "tacit_renewal", "id"],
        )


def downgrade():
    if _postgresql():
        op.drop_index(NAME, table_name="policy")
        op.create_index(NAME, "policy", COLUMNS, postgresql_include=["status", "company_id"])
