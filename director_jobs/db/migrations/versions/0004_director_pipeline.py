"""Director pipeline: import sources and runs, sync rules, objects, deployments.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import director_jobs.db.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""

    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_name", sa.String(length=64), nullable=True),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(length=255), nullable=True),
        sa.Column("started_at", director_jobs.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", director_jobs.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployments")),
    )
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.create_index("ix_deployments_status_id", ["status", "id"], unique=False)

    op.create_table(
        "import_rows",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_rows")),
        sa.UniqueConstraint("checksum", name=op.f("uq_import_rows_checksum")),
    )
    op.create_table(
        "import_sources",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("key_column", sa.String(length=255), nullable=False),
        sa.Column("modifiers", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", director_jobs.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", director_jobs.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_import_sources_name")),
    )
    op.create_table(
        "objects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("owner_rule", sa.String(length=64), nullable=True),
        sa.Column("created_at", director_jobs.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", director_jobs.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objects")),
        sa.UniqueConstraint("object_type", "name", name="uq_objects_object_type_name"),
    )
    op.create_table(
        "sync_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("filter", sa.Text(), nullable=True),
        sa.Column("update_policy", sa.String(length=16), nullable=False),
        sa.Column("purge", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", director_jobs.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", director_jobs.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_rules")),
        sa.UniqueConstraint("name", name=op.f("uq_sync_rules_name")),
    )
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("started_at", director_jobs.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", director_jobs.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["import_sources.id"],
            name=op.f("fk_import_runs_source_id_import_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_runs")),
    )
    with op.batch_alter_table("import_runs", schema=None) as batch_op:
        batch_op.create_index("ix_import_runs_source_id_id", ["source_id", "id"], unique=False)

    op.create_table(
        "import_run_rows",
        sa.Column("import_run_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_run_id"],
            ["import_runs.id"],
            name=op.f("fk_import_run_rows_import_run_id_import_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["row_id"], ["import_rows.id"], name=op.f("fk_import_run_rows_row_id_import_rows")
        ),
        sa.PrimaryKeyConstraint("import_run_id", "key", name=op.f("pk_import_run_rows")),
    )
    with op.batch_alter_table("import_run_rows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_run_rows_row_id"), ["row_id"], unique=False)

    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("import_run_id", sa.Integer(), nullable=True),
        sa.Column("started_at", director_jobs.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", director_jobs.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("modified", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_run_id"],
            ["import_runs.id"],
            name=op.f("fk_sync_runs_import_run_id_import_runs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["sync_rules.id"],
            name=op.f("fk_sync_runs_rule_id_sync_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_table(
        "object_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sync_run_id", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sync_run_id"],
            ["sync_runs.id"],
            name=op.f("fk_object_changes_sync_run_id_sync_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_object_changes")),
    )
    with op.batch_alter_table("object_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_object_changes_sync_run_id"), ["sync_run_id"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""

    with op.batch_alter_table("object_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_object_changes_sync_run_id"))

    op.drop_table("object_changes")
    op.drop_table("sync_runs")
    with op.batch_alter_table("import_run_rows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_run_rows_row_id"))

    op.drop_table("import_run_rows")
    with op.batch_alter_table("import_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_import_runs_source_id_id")

    op.drop_table("import_runs")
    op.drop_table("sync_rules")
    op.drop_table("objects")
    op.drop_table("import_sources")
    op.drop_table("import_rows")
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_index("ix_deployments_status_id")

    op.drop_table("deployments")
