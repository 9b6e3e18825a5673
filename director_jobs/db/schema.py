"""Table definitions (SQLAlchemy Core); Alembic migrations create exactly these."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from director_jobs.db.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("type", String(64), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("interval_seconds", Float, nullable=True),
    Column("cron", String(255), nullable=True),
    Column("timezone", String(64), nullable=True),
    Column("timeperiod", String(64), nullable=True),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("timeout_seconds", Float, nullable=False),
    Column("retries", Integer, nullable=False, default=0),
    Column("retry_delay_seconds", Float, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("confirm", Boolean, nullable=False, default=False),
    Column("memory_limit_mib", Float, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Scheduling state, written by runners only.
    Column("last_attempt_at", UTCDateTime, nullable=True),
    Column("next_due_at", UTCDateTime, nullable=True),
    Column("attempt", Integer, nullable=False, default=0),
    Column("pending_trigger", String(16), nullable=True),
    Column("claimed_by", String(255), nullable=True),
    Column("claimed_run_id", Integer, nullable=True),
    # The due time a closed time period postponed (NULL when not postponed): a changed
    # period puts it back, so that the new period is checked at once.
    Column("deferred_from", UTCDateTime, nullable=True),
    # A pass reads only rows that are enabled and due: (disabled, next_due_at) serves
    # both the filter and the "oldest due first" order.
    Index("ix_jobs_due", "disabled", "next_due_at"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", Integer, ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True),
    Column("job_name", String(64), nullable=False),
    Column("job_type", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("scheduled_for", UTCDateTime, nullable=True),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("duration_seconds", Float, nullable=True),
    Column("exit_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("output", Text, nullable=False, default=""),
    Column("runner", String(255), nullable=True),
    # Start time of the runner process (seconds since boot), so that a recycled pid
    # is not mistaken for the runner that is still alive.
    Column("runner_process_start", Float, nullable=True),
    # The job's own process (child or command), so that leftovers of a killed runner
    # can be found and stopped; its start time tells a recycled pid apart.
    Column("job_pid", Integer, nullable=True),
    Column("job_process_start", Float, nullable=True),
    Index("ix_runs_job_name_id", "job_name", "id"),
    Index("ix_runs_status", "status"),
)

time_periods = Table(
    "time_periods",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("display_name", String(255), nullable=True),
    # Icinga's `ranges` dictionary, key -> value, in the order given.
    Column("ranges", JSON, nullable=False),
    Column("includes", JSON, nullable=False),
    Column("excludes", JSON, nullable=False),
    Column("prefer_includes", Boolean, nullable=False, default=True),
    # NULL: the configured default zone (else the system's).
    Column("timezone", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
