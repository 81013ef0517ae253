"""task rules that e-mail the record's client: the rule's template, one message per record

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 17:05:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    # Plain numbers, no foreign keys: SQLite cannot add a constrained column in place
    # (migration 0014 says why); the rule checks keep them inside the agency.
    op.add_column(
        "task_rule",
        sa.Column("creates_task", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )
    op.add_column("task_rule", sa.Column("email_template_id", sa.Integer(), nullable=True))
    op.add_column("message", sa.Column("rule_id", sa.Integer(), nullable=True))
    op.add_column("message", sa.Column("rule_key", sa.String(length=60), nullable=True))
    # One message per rule and record: the daily run inserts with ON CONFLICT DO NOTHING.
    op.create_index("uq_message_rule_key", "message", ["rule_id", "rule_key"], unique=True)


def downgrade():
    op.drop_index("uq_message_rule_key", table_name="message")
    op.drop_column("message", "rule_key")
    op.drop_column("message", "rule_id")
    op.drop_column("task_rule", "email_template_id")
    op.drop_column("task_rule", "creates_task")
