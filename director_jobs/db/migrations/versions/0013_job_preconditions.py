"""Preconditions of jobs: a command that must succeed, a path that must exist.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add jobs.requires (NULL for the jobs there are: they have none)."""
    op.add_column("jobs", sa.Column("requires", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop jobs.requires."""
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("requires")
