"""claim checklists: the documents an agency asks for per claim nature and line of business

One table of settings: an agency's items per nature, for one line or every line (NULL).
A claim recorded copies the applicable labels into its claim_document rows; nothing
references an item, so items may be deleted.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07 23:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

NATURES = (
    "water_damage",
    "theft",
    "attempted_theft",
    "fire",
    "glass",
    "motor_damage",
    "bodily_injury",
    "liability",
    "natural_disaster",
    "storm",
    "legal_protection",
    "other",
)
LINES = ("auto", "home", "health", "life", "liability", "professional", "travel")


def _enum(name: str, *values: str) -> sa.Enum:
    # VARCHAR without a CHECK, as the claim table's nature (0020): a new nature or line
    # needs no schema change; the model refuses unknown values.
    return sa.Enum(*values, name=name, native_enum=False, length=30)


def upgrade() -> None:
    op.create_table(
        "claim_checklist_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nature", _enum("claim_checklist_nature", *NATURES), nullable=False),
        sa.Column("line_of_business", _enum("claim_checklist_line", *LINES), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
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
        sa.CheckConstraint("position >= 0", name="ck_claim_checklist_item_position"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "organisation_id",
            "nature",
            "line_of_business",
            "label",
            name="uq_claim_checklist_item",
        ),
    )


def downgrade() -> None:
    op.drop_table("claim_checklist_item")
