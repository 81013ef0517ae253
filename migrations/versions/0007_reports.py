"""documents without a template (reports, exports) and leases for jobs

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 02:40:00

Why nullable template columns, and not a second table or a placeholder template:
a report or a list export is a Document like any other — same storage, sha256,
download route, signed links, purge and audit — it was only not made from a
template. A separate "report_file" table would have duplicated every one of
those doors; a hidden "report" template would have been a fake row that users
could see, edit and delete. So ``template_id`` and ``template_version_id`` may be
NULL, together (CHECK ``ck_document_template_pinned``): a rendered document
still always pins both, a report pins neither. Where a document's origin matters
(retention, file names, screens) a template-less document is a report/export,
told apart by its job's kind.

Jobs that do their work themselves (reports, exports), rather than through their
documents, are claimed under a lease like documents are: ``job.lease_token``
makes every write of the worker conditional on still holding the job, and
``job.enqueued_at`` tells the sweeper whether the message ever went out.

On SQLite, changing a column's nullability recreates the table, and dropping the
old ``document`` table with foreign keys on would run the ON DELETE actions of
the rows pointing at it (spent_link CASCADE, job.document_id SET NULL) — inside
the migration's transaction ``PRAGMA foreign_keys=OFF`` is ignored, so those
references are copied aside and put back.
"""

from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PINNED = (
    "(template_id IS NULL AND template_version_id IS NULL)"
    " OR (template_id IS NOT NULL AND template_version_id IS NOT NULL)"
)


def upgrade():
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("enqueued_at", sa.DateTime(), nullable=True))

    with _references_kept(), op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.alter_column("template_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("template_version_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint("ck_document_template_pinned", PINNED)


def downgrade():
    # Documents without a template cannot go back to a schema that requires one.
    op.execute("DELETE FROM document WHERE template_id IS NULL OR template_version_id IS NULL")
    with _references_kept(), op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_constraint("ck_document_template_pinned", type_="check")
        batch_op.alter_column("template_version_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("template_id", existing_type=sa.Integer(), nullable=False)

    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_column("enqueued_at")
        batch_op.drop_column("lease_token")


@contextmanager
def _references_kept():
    """On SQLite, keep the rows that point at ``document`` across its recreation."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("CREATE TEMPORARY TABLE _keep_spent_link AS SELECT * FROM spent_link")
        op.execute(
            "CREATE TEMPORARY TABLE _keep_job_document AS"
            " SELECT id, document_id FROM job WHERE document_id IS NOT NULL"
        )
    yield
    if not sqlite:
        return
    op.execute(
        "INSERT OR IGNORE INTO spent_link SELECT * FROM _keep_spent_link"
        " WHERE document_id IN (SELECT id FROM document)"
    )
    op.execute(
        "UPDATE job SET document_id = (SELECT k.document_id FROM _keep_job_document k"
        " WHERE k.id = job.id AND k.document_id IN (SELECT id FROM document))"
        " WHERE id IN (SELECT id FROM _keep_job_document)"
    )
    op.execute("DROP TABLE _keep_spent_link")
    op.execute("DROP TABLE _keep_job_document")
