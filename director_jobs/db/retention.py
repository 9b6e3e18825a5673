"""Keep the database small: purge old runs, unused import data, old deployments, sync history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, and_, delete, func, not_, or_, select
from sqlalchemy.engine import Connection, Engine

from director_jobs.db.schema import (
    activity,
    deployments,
    import_rows,
    import_run_rows,
    import_runs,
    runs,
    sync_runs,
)
from director_jobs.model import RunStatus


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

    def summary(self) -> str:
        """One line for the log and the run record."""
        return (
            f"removed {self.runs} runs, {self.sync_runs} sync runs, {self.import_runs} import "
            f"runs, {self.import_rows} unused import rows, {self.deployments} deployments, "
            f"{self.activity} activity log entries"
        )


def purge(engine: Engine, policy: Policy, now: datetime) -> Removed:
    """Delete what the policy does not keep, in one transaction."""
    cutoff = now - timedelta(days=policy.keep_runs_days)
    with engine.begin() as connection:
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
        )
    return removed


def vacuum(engine: Engine) -> bool:
    """Give freed pages back to the file system on SQLite; PostgreSQL's autovacuum does this."""
    if engine.dialect.name != "sqlite":
        return False
    with engine.connect() as connection:
        connection.exec_driver_sql("VACUUM")  # outside a transaction: pysqlite autocommits
    return True


def _delete(connection: Connection, table: Table, condition: ColumnElement[bool]) -> int:
    """DELETE … WHERE condition; the number of rows deleted."""
    return int(connection.execute(delete(table).where(condition)).rowcount)


def _purge_runs(connection: Connection, cutoff: datetime, keep_per_job: int) -> int:
    """Runs older than the cut-off or beyond the newest N of their job; never one running
    or queued (a trigger waits for it)."""
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
    return _delete(connection, runs, or_(old, runs.c.id.in_(surplus)))


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
