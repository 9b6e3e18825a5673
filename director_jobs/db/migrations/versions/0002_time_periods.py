"""Icinga-style time periods, and jobs postponed by them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from director_jobs.db.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the time_periods table; remember the due time a closed period postponed."""
    op.add_column("jobs", sa.Column("deferred_from", UTCDateTime(), nullable=True))
    op.create_table(
        "time_periods",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=True),
        sa.Column("ranges", sa.JSON(), nullable=False),
        sa.Column("includes", sa.JSON(), nullable=False),
        sa.Column("excludes", sa.JSON(), nullable=False),
        sa.Column("prefer_includes", sa.Boolean(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_time_periods"),
        sa.UniqueConstraint("name", name="uq_time_periods_name"),
    )


def downgrade() -> None:
    """Drop the time_periods table."""
    op.drop_table("time_periods")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("deferred_from")
