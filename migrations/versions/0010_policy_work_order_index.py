"""index the policy list's default order: live policies first, nearest expiry first

The policy screen opens on what staff work on: active policies, then suspended ones,
then drafts, then the history (expired, cancelled), each by expiry date
(app/models/policy.py, WORK_ORDER). This index holds that order within an
organisation (ties broken by the id, as the list breaks them), so a page is read
from it instead of sorting every policy of the agency. The key is an expression;
SQLite and PostgreSQL both match the query's ORDER BY (the same expression) to it.
Measured at 100,000 policies in one agency (docs/benchmarks.md): the first page
took 0.2 to 1.1 s on SQLite and 100 to 160 ms on PostgreSQL without it, under 1 ms
with it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NAME = "ix_policy_organisation_work"
# As app/models/policy.py's WORK_RANK_KEY (a copy: a migration never imports the models).
WORK_RANK = (
    "(\nCASE\n    WHEN status = 'active' THEN 0\n    WHEN status = 'suspended' THEN 1\n"
    "    WHEN status = 'draft' THEN 2\n    ELSE 3\nEND)"
)


def upgrade():
    op.create_index(NAME, "policy", ["organisation_id", sa.text(WORK_RANK), "expiry_date", "id"])


def downgrade():
    op.drop_index(NAME, table_name="policy")
