"""Per-job memory limits; runs remember the job's process.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add jobs.memory_limit_mib and runs.job_pid / job_process_start."""
    op.add_column("jobs", sa.Column("memory_limit_mib", sa.Float(), nullable=True))
    op.add_column("runs", sa.Column("job_pid", sa.Integer(), nullable=True))
    op.add_column("runs", sa.Column("job_process_start", sa.Float(), nullable=True))


def downgrade() -> None:
    """Drop the three columns."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("job_process_start")
        batch.drop_column("job_pid")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("memory_limit_mib")
