"""Totals of the runs housekeeping deleted, so that the metrics' counters never go down.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from director_jobs.db.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the pruned_run_totals table."""
    op.create_table(
        "pruned_run_totals",
        sa.Column("job_name", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("timed_runs", sa.Integer(), nullable=False),
        sa.Column("duration_sum", sa.Float(), nullable=False),
        sa.Column("duration_buckets", sa.JSON(), nullable=False),
        sa.Column("last_finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("job_name", "status", name="pk_pruned_run_totals"),
    )


def downgrade() -> None:
    """Drop the pruned_run_totals table."""
    op.drop_table("pruned_run_totals")
