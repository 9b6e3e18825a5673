"""Job chains (a job runs after others) and one-off runs planned for a time.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from director_jobs.db.types import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add jobs.after and jobs.chained_by_run_id, runs.changed and runs.upstream_run_id,
    and the planned_runs table."""
    op.add_column("jobs", sa.Column("after", sa.JSON(none_as_null=True), nullable=True))
    op.add_column("jobs", sa.Column("chained_by_run_id", sa.Integer(), nullable=True))
    op.add_column("runs", sa.Column("changed", sa.Boolean(), nullable=True))
    op.add_column("runs", sa.Column("upstream_run_id", sa.Integer(), nullable=True))
    op.create_table(
        "planned_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "job_id",
            sa.Integer(),
            sa.ForeignKey("jobs.id", ondelete="CASCADE", name="fk_planned_runs_job_id_jobs"),
            nullable=False,
        ),
        sa.Column("run_at", UTCDateTime(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("parameters", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_planned_runs"),
        sa.UniqueConstraint("job_id", "run_at", name="uq_planned_runs_job_id"),
    )
    op.create_index("ix_planned_runs_run_at", "planned_runs", ["run_at"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_planned_runs_run_at", table_name="planned_runs")
    op.drop_table("planned_runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("upstream_run_id")
        batch.drop_column("changed")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("chained_by_run_id")
        batch.drop_column("after")
