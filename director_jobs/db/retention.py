"""Keep the database small: purge old runs, unused import data, old deployments, sync history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, and_, delete, func, not_, or_, select, text
from sqlalchemy.engine import Connection, Engine

from director_jobs.db.metrics_repo import add_pruned, totals_of_runs
from director_jobs.db.schema import (
    activity,
    deployments,
    import_rows,
    import_run_rows,
    import_runs,
    notifications,
    pruned_run_totals,
    runs,
    sync_runs,
)
from director_jobs.model import RunStatus

# Runs deleted per statement: far below SQLite's 32,766 parameters, few statements for the
# first pass over a long history (100,000 runs: 100 of them).
DELETE_CHUNK = 1000
# Any 64-bit number unique to this purpose: one housekeeping pass at a time on PostgreSQL.
_PG_PURGE_LOCK = 0x646A2D7075726765  # "dj-purge"


@dataclass(frozen=True)
class Policy:
    """How much history to keep."""

    keep_runs_days: float = 30
    keep_runs_per_job: int = 100
    keep_import_runs: int = 5
    keep_deployments: int = 50
    keep_activity_days: float = 365


@dataclass(frozen=True)
class Removed:
    """What one housekeeping pass deleted."""

    runs: int
    sync_runs: int
    import_runs: int
    import_rows: int
    deployments: int
    activity: int = 0
    notifications: int = 0

    def summary(self) -> str:
        """One line for the log and the run record."""
        return (
            f"removed {self.runs} runs, {self.sync_runs} sync runs, {self.import_runs} import "
            f"runs, {self.import_rows} unused import rows, {self.deployments} deployments, "
            f"{self.activity} activity log entries, {self.notifications} notifications"
        )


def purge(engine: Engine, policy: Policy, now: datetime) -> Removed:
    """Delete what the policy does not keep, in one transaction."""
    cutoff = now - timedelta(days=policy.keep_runs_days)
    with engine.begin() as connection:
        _one_pass_at_a_time(connection)
        removed = Removed(
            runs=_purge_runs(connection, cutoff, policy.keep_runs_per_job),
            sync_runs=_delete(connection, sync_runs, sync_runs.c.finished_at < cutoff),
            import_runs=_purge_import_runs(connection, policy.keep_import_runs),
            import_rows=_purge_unused_rows(connection),
            deployments=_purge_deployments(connection, policy.keep_deployments),
            activity=_delete(
                connection,
                activity,
                activity.c.at < now - timedelta(days=policy.keep_activity_days),
            ),
            # Notifications go with the runs' age; one still to be sent is kept.
            notifications=_delete(
                connection,
                notifications,
                and_(
                    notifications.c.created_at < cutoff,
                    notifications.c.status.in_(("delivered", "failed")),
                ),
            ),
        )
    return removed


def vacuum(engine: Engine) -> bool:
    """Give freed pages back to the file system on SQLite; PostgreSQL's autovacuum does this."""
    if engine.dialect.name != "sqlite":
        return False
    with engine.connect() as connection:
        connection.exec_driver_sql("VACUUM")  # outside a transaction: pysqlite autocommits
    return True


def _one_pass_at_a_time(connection: Connection) -> None:
    """Keep other housekeeping passes out until this transaction ends: two passes that
    both read the same doomed runs would add their totals to pruned_run_totals twice."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, before the reads
    elif connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_PURGE_LOCK})
    else:  # MariaDB/MySQL: a locking read of the whole table holds its rows and gaps
        connection.execute(select(pruned_run_totals.c.job_name).with_for_update()).all()


def _delete(connection: Connection, table: Table, condition: ColumnElement[bool]) -> int:
    """DELETE … WHERE condition; the number of rows deleted."""
    return int(connection.execute(delete(table).where(condition)).rowcount)


def _purge_runs(connection: Connection, cutoff: datetime, keep_per_job: int) -> int:
    """Runs older than the cut-off or beyond the newest N of their job; never one running
    or queued (a trigger waits for it). Their totals go to pruned_run_totals first.

    The doomed runs are read, then deleted by id: exactly the runs counted are deleted,
    although runs that finish meanwhile change which ones are beyond the newest N.
    """
    in_progress = [RunStatus.RUNNING.value, RunStatus.PENDING.value]
    ranked = (
        select(
            runs.c.id,
            func.row_number()
            .over(partition_by=runs.c.job_name, order_by=runs.c.id.desc())
            .label("rank"),
        )
        .where(runs.c.status.not_in(in_progress))
        .subquery()
    )
    surplus = select(ranked.c.id).where(ranked.c.rank > keep_per_job)
    old = and_(
        runs.c.status.not_in(in_progress),
        func.coalesce(runs.c.finished_at, runs.c.started_at, runs.c.scheduled_for) < cutoff,
    )
    doomed = connection.execute(
        select(
            runs.c.id,
            runs.c.job_name,
            runs.c.status,
            runs.c.started_at,
            runs.c.duration_seconds,
            runs.c.finished_at,
        ).where(or_(old, runs.c.id.in_(surplus)))
    ).all()
    add_pruned(connection, totals_of_runs(doomed))
    ids = [row.id for row in doomed]
    return sum(
        _delete(connection, runs, runs.c.id.in_(ids[start : start + DELETE_CHUNK]))
        for start in range(0, len(ids), DELETE_CHUNK)
    )


def _purge_import_runs(connection: Connection, keep: int) -> int:
    """Import runs beyond the newest `keep` of each source (the newest always stays)."""
    keep = max(keep, 1)
    ranked = select(
        import_runs.c.id,
        func.row_number()
        .over(partition_by=import_runs.c.source_id, order_by=import_runs.c.id.desc())
        .label("rank"),
    ).subquery()
    doomed = select(ranked.c.id).where(ranked.c.rank > keep)
    ids = list(connection.execute(doomed).scalars())
    if not ids:
        return 0
    # Links first: not every database enforces ON DELETE CASCADE (SQLite needs a pragma).
    _delete(connection, import_run_rows, import_run_rows.c.import_run_id.in_(ids))
    return _delete(connection, import_runs, import_runs.c.id.in_(ids))


def _purge_unused_rows(connection: Connection) -> int:
    """Row contents that no remaining import run refers to."""
    used = select(import_run_rows.c.row_id)
    return _delete(connection, import_rows, not_(import_rows.c.id.in_(used)))


def _purge_deployments(connection: Connection, keep: int) -> int:
    """Deployments beyond the newest `keep`, but never a target's last successful one."""
    newest = select(deployments.c.id).order_by(deployments.c.id.desc()).limit(max(keep, 0))
    last_good = (
        select(func.max(deployments.c.id))
        .where(deployments.c.status == "deployed")
        .group_by(deployments.c.target)
    )
    keep_ids = set(connection.execute(newest).scalars()) | set(
        connection.execute(last_good).scalars()
    )
    all_ids = set(connection.execute(select(deployments.c.id)).scalars())
    doomed = sorted(all_ids - keep_ids)
    if not doomed:
        return 0
    return _delete(connection, deployments, deployments.c.id.in_(doomed))
