"""training certificates: an attachment may belong to a record of the DDA training log

The certificate is the agency's proof that a person followed the training; it is kept
as the other files are (app/services/attachments), and goes with its record (ON DELETE
CASCADE). The one-owner check counts the new owner.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 17:15:00

"""

import warnings

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import SAWarning

# revision identifiers, used by Alembic.
revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

CHECK = "ck_attachment_one_owner"
THREE = (
    "(CASE WHEN claim_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN client_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN policy_id IS NULL THEN 0 ELSE 1 END)"
)
FOUR = f"{THREE} + (CASE WHEN training_record_id IS NULL THEN 0 ELSE 1 END) = 1"
FK = "attachment_training_record_id_fkey"


def upgrade():
    # SQLite cannot add a foreign key or alter a check in place: batch mode copies the
    # table (reflecting it warns about the policy table's expression index, see 0015).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
        with op.batch_alter_table("attachment", recreate="auto") as batch:
            batch.add_column(sa.Column("training_record_id", sa.Integer(), nullable=True))
            batch.create_foreign_key(
                FK, "training_record", ["training_record_id"], ["id"], ondelete="CASCADE"
            )
            batch.drop_constraint(CHECK, type_="check")
            batch.create_check_constraint(CHECK, FOUR)
    op.create_index("ix_attachment_training_record", "attachment", ["training_record_id"])


def downgrade():
    op.drop_index("ix_attachment_training_record", table_name="attachment")
    op.execute("DELETE FROM attachment WHERE training_record_id IS NOT NULL")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
        with op.batch_alter_table("attachment", recreate="auto") as batch:
            batch.drop_constraint(CHECK, type_="check")
            batch.create_check_constraint(CHECK, f"{THREE} = 1")
            batch.drop_constraint(FK, type_="foreignkey")
            batch.drop_column("training_record_id")
