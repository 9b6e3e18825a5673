"""Runs can be asked to stop from outside: when, and by whom.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from director_jobs.db.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add runs.stop_requested_at and runs.stopped_by."""
    op.add_column("runs", sa.Column("stop_requested_at", UTCDateTime(), nullable=True))
    op.add_column("runs", sa.Column("stopped_by", sa.String(255), nullable=True))


def downgrade() -> None:
    """Drop what upgrade added."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("stopped_by")
        batch.drop_column("stop_requested_at")
