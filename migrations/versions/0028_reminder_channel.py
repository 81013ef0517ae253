"""premium reminders by e-mail or by letter: the agency's choice

The daily premium run e-mails the reminder before a due date and the relance after it
(app/services/mail/reminders.py) unless the agency sends letters from its work list.
Existing agencies get e-mail, the default. Downgrading drops the column.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 17:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "organisation",
        sa.Column(
            "reminder_channel",
            sa.Enum("email", "letter", name="reminder_channel", native_enum=False, length=10),
            server_default="email",
            nullable=False,
        ),
    )


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+), as 0012 does for the other premium settings.
    op.drop_column("organisation", "reminder_channel")
