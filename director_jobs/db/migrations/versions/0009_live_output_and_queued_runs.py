"""Output that readers can follow while a job runs, and triggers that carry parameters.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add runs.output_lines and runs.parameters."""
    op.add_column(
        "runs", sa.Column("output_lines", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("runs", sa.Column("parameters", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop what upgrade added."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("parameters")
        batch.drop_column("output_lines")
