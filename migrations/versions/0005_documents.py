"""templates, their versions, documents and jobs; the organisation's letterhead

Template <-> TemplateVersion (published version) and Job <-> Document (the
document a report delivers) reference each other: those two foreign keys are
added once both tables exist, and dropped first on the way down.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 23:10:59

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "render",
                "batch_render",
                "report",
                "export",
                "purge",
                name="job_kind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "succeeded",
                "failed",
                name="job_status",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
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
        sa.ForeignKeyConstraint(["owner_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.create_index(
            "ix_job_organisation_created", ["organisation_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_job_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index("ix_job_status_lease", ["status", "lease_expires_at"], unique=False)

    op.create_table(
        "template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "contract",
                "attestation",
                "notice",
                "report",
                "other",
                name="template_kind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "output_format",
            sa.Enum("html", "pdf", "xlsx", name="output_format", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("builtin_key", sa.String(length=60), nullable=True),
        sa.Column("published_version_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
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
        sa.ForeignKeyConstraint(["created_by_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("builtin_key"),
        sa.UniqueConstraint("organisation_id", "name", name="uq_template_organisation_name"),
    )
    with op.batch_alter_table("template", schema=None) as batch_op:
        batch_op.create_index(
            "ix_template_organisation_kind", ["organisation_id", "kind"], unique=False
        )

    op.create_table(
        "template_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("changelog", sa.String(length=500), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["template_id"], ["template.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("template_id", "number", name="uq_template_version_number"),
    )
    with op.batch_alter_table("template_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_template_version_template_id"), ["template_id"], unique=False
        )

    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("template_version_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "format",
            sa.Enum("html", "pdf", "xlsx", name="document_format", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "ready",
                "failed",
                name="document_status",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("engine", sa.String(length=20), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("media_type", sa.String(length=100), nullable=True),
        sa.Column("storage_key", sa.String(length=200), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("stored_size", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("data_sha256", sa.String(length=64), nullable=True),
        sa.Column("compressed", sa.Boolean(), nullable=False),
        sa.Column("encrypted", sa.Boolean(), nullable=False),
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
        sa.ForeignKeyConstraint(["created_by_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["policy_id"], ["policy.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["template_id"], ["template.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(
            ["template_version_id"], ["template_version.id"], ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_job_id"), ["job_id"], unique=False)
        batch_op.create_index(
            "ix_document_organisation_created", ["organisation_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_document_organisation_status", ["organisation_id", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_document_policy_id"), ["policy_id"], unique=False)
        batch_op.create_index(
            "ix_document_status_lease", ["status", "lease_expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_document_template_id"), ["template_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_document_template_version_id"), ["template_version_id"], unique=False
        )

    with op.batch_alter_table("template", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_template_published_version",
            "template_version",
            ["published_version_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_job_document", "document", ["document_id"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=250), nullable=True))
        batch_op.add_column(sa.Column("postal_code", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("city", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("complaints_contact", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("mediator", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("mediator")
        batch_op.drop_column("complaints_contact")
        batch_op.drop_column("email")
        batch_op.drop_column("phone")
        batch_op.drop_column("city")
        batch_op.drop_column("postal_code")
        batch_op.drop_column("address")

    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_constraint("fk_job_document", type_="foreignkey")
    with op.batch_alter_table("template", schema=None) as batch_op:
        batch_op.drop_constraint("fk_template_published_version", type_="foreignkey")

    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_template_version_id"))
        batch_op.drop_index(batch_op.f("ix_document_template_id"))
        batch_op.drop_index("ix_document_status_lease")
        batch_op.drop_index(batch_op.f("ix_document_policy_id"))
        batch_op.drop_index("ix_document_organisation_status")
        batch_op.drop_index("ix_document_organisation_created")
        batch_op.drop_index(batch_op.f("ix_document_job_id"))

    op.drop_table("document")
    with op.batch_alter_table("template_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_template_version_template_id"))

    op.drop_table("template_version")
    with op.batch_alter_table("template", schema=None) as batch_op:
        batch_op.drop_index("ix_template_organisation_kind")

    op.drop_table("template")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index("ix_job_status_lease")
        batch_op.drop_index(batch_op.f("ix_job_owner_id"))
        batch_op.drop_index("ix_job_organisation_created")

    op.drop_table("job")
