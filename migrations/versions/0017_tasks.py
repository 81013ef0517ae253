"""the work queue: task categories, task rules, tasks; a contract's manager

Each agency keeps its list of task categories and its rules; a task names the record
it concerns (a task goes with its record: ON DELETE CASCADE) and, when a rule created
it, the rule and the record's key, unique together so that the daily run (and two
workers running it at once) inserts each task once. A contract gains its manager: a
plain number, for the reason migration 0014 gives (SQLite cannot add a reference in
place that its schema check reports faithfully, nor drop a referencing column).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 14:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "task_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "name", name="uq_task_category_organisation_name"),
    )
    op.create_table(
        "task_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "trigger",
            sa.Enum(
                "renewal_cycle_opened",
                "echeance_without_decision",
                "avis_not_sent",
                "notice_unpaid",
                "notice_formal_possible",
                "formal_notice_suspension",
                name="task_trigger",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("due_days", sa.Integer(), nullable=False),
        sa.Column("title_template", sa.Text(), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "action",
                "reminder",
                "waiting",
                "validation",
                name="task_type",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column(
            "priority",
            sa.Enum(
                "low",
                "normal",
                "high",
                "urgent",
                name="task_priority",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "assignee_rule",
            sa.Enum(
                "contract_manager",
                "team",
                "user",
                name="task_assignee_rule",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "team",
            sa.Enum("USER", "MANAGER", "ADMIN", name="task_team", native_enum=False, length=30),
            nullable=True,
        ),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint("due_days BETWEEN 0 AND 366", name="ck_task_rule_due_days_bounded"),
        sa.CheckConstraint(
            "offset_days BETWEEN -366 AND 366", name="ck_task_rule_offset_days_bounded"
        ),
        sa.ForeignKeyConstraint(["assignee_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["category_id"], ["task_category.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "name", name="uq_task_rule_organisation_name"),
    )
    op.create_index("ix_task_rule_organisation_active", "task_rule", ["organisation_id", "active"])

    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "action",
                "reminder",
                "waiting",
                "validation",
                name="task_type",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column(
            "team",
            sa.Enum("USER", "MANAGER", "ADMIN", name="task_team", native_enum=False, length=30),
            nullable=True,
        ),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column(
            "priority",
            sa.Enum(
                "low",
                "normal",
                "high",
                "urgent",
                name="task_priority",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "todo",
                "in_progress",
                "done",
                "cancelled",
                name="task_status",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "outcome",
            sa.Enum("approved", "refused", name="task_outcome", native_enum=False, length=30),
            nullable=True,
        ),
        sa.Column("result_note", sa.Text(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("renewal_cycle_id", sa.Integer(), nullable=True),
        sa.Column("premium_notice_id", sa.Integer(), nullable=True),
        sa.Column(
            "source",
            sa.Enum("manual", "rule", name="task_source", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("rule_key", sa.String(length=60), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR type = 'validation'", name="ck_task_outcome_for_validation"
        ),
        sa.ForeignKeyConstraint(["assignee_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["category_id"], ["task_category.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["policy_id"], ["policy.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["premium_notice_id"], ["premium_notice.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["renewal_cycle_id"], ["renewal_cycle.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["rule_id"], ["task_rule.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rule_id", "rule_key", name="uq_task_rule_key"),
    )
    op.create_index("ix_task_client", "task", ["client_id"])
    op.create_index(
        "ix_task_organisation_assignee_status_due",
        "task",
        ["organisation_id", "assignee_id", "status", "due_on"],
    )
    op.create_index(
        "ix_task_organisation_status_due", "task", ["organisation_id", "status", "due_on"]
    )
    op.create_index(
        "ix_task_organisation_team_status_due",
        "task",
        ["organisation_id", "team", "status", "due_on"],
    )
    op.create_index("ix_task_policy", "task", ["policy_id"])
    op.create_index("ix_task_premium_notice", "task", ["premium_notice_id"])
    op.create_index("ix_task_renewal_cycle", "task", ["renewal_cycle_id"])

    op.add_column("policy", sa.Column("manager_id", sa.Integer(), nullable=True))
    op.create_index("ix_policy_manager", "policy", ["manager_id"])


def downgrade():
    op.drop_index("ix_policy_manager", table_name="policy")
    op.drop_column("policy", "manager_id")

    op.drop_index("ix_task_renewal_cycle", table_name="task")
    op.drop_index("ix_task_premium_notice", table_name="task")
    op.drop_index("ix_task_policy", table_name="task")
    op.drop_index("ix_task_organisation_team_status_due", table_name="task")
    op.drop_index("ix_task_organisation_status_due", table_name="task")
    op.drop_index("ix_task_organisation_assignee_status_due", table_name="task")
    op.drop_index("ix_task_client", table_name="task")

    op.drop_table("task")
    op.drop_index("ix_task_rule_organisation_active", table_name="task_rule")

    op.drop_table("task_rule")
    op.drop_table("task_category")
