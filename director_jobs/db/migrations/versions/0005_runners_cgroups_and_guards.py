"""The runner registry; runs remember the job's cgroups; guards against an import that
shrinks and a sync that purges too much.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from director_jobs.db.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the runners table, runs.job_cgroups, import_sources.max_shrink, sync_rules.max_purge."""
    op.create_table(
        "runners",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("process_start", sa.Float(), nullable=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("containment", sa.Text(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=False),
        sa.Column("stopped_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_runners"),
        sa.UniqueConstraint("label", name="uq_runners_label"),
    )
    op.add_column("runs", sa.Column("job_cgroups", sa.Text(), nullable=True))
    op.add_column("import_sources", sa.Column("max_shrink", sa.Float(), nullable=True))
    op.add_column("sync_rules", sa.Column("max_purge", sa.Float(), nullable=True))


def downgrade() -> None:
    """Drop what upgrade added."""
    with op.batch_alter_table("sync_rules") as batch:
        batch.drop_column("max_purge")
    with op.batch_alter_table("import_sources") as batch:
        batch.drop_column("max_shrink")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("job_cgroups")
    op.drop_table("runners")
