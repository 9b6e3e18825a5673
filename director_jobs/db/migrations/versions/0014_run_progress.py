"""The newest progress a running job reported (its `::progress` lines).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add runs.progress and runs.progress_fraction (NULL: no progress reported)."""
    op.add_column("runs", sa.Column("progress", sa.String(255), nullable=True))
    op.add_column("runs", sa.Column("progress_fraction", sa.Float(), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("progress_fraction")
        batch.drop_column("progress")
