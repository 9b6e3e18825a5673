"""The runner registry: which runners exist, what they are, and when each last gave a sign of
life (each write its own short transaction, never one held open while a job runs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from director_jobs.db.engine import SQLITE_BUSY_TIMEOUT_MS
from director_jobs.db.schema import runners

# Stopped runners stay listed this long (`director status` shows recent ones), then go.
KEEP_STOPPED = timedelta(days=1)
# A heartbeat waits at most this long for SQLite's write lock; a missed one is harmless.
BEAT_BUSY_TIMEOUT_MS = 200


@dataclass(frozen=True)
class RunnerInfo:
    """One registered runner."""

    label: str
    host: str
    pid: int
    process_start: float | None
    mode: str
    version: str
    containment: str
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None


class RunnerRepository:
    """All SQL about the `runners` table lives here."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def register(self, info: RunnerInfo) -> None:
        """Add this runner (a recycled pid's old row is replaced); forget long-stopped ones."""
        values = {
            "label": info.label,
            "host": info.host,
            "pid": info.pid,
            "process_start": info.process_start,
            "mode": info.mode,
            "version": info.version,
            "containment": info.containment,
            "started_at": info.started_at,
            "heartbeat_at": info.heartbeat_at,
            "stopped_at": None,
        }
        with self.engine.begin() as connection:
            connection.execute(
                delete(runners).where(runners.c.stopped_at < info.started_at - KEEP_STOPPED)
            )
            try:
                with connection.begin_nested():
                    connection.execute(insert(runners).values(values))
            except IntegrityError:  # the label (host:pid) of an earlier process
                connection.execute(
                    update(runners).where(runners.c.label == info.label).values(values)
                )

    def beat(self, label: str, now: datetime) -> None:
        """Record a sign of life; on SQLite give up quickly while another process writes.

        The runner beats from the loop that watches a job; that job's own transaction (an
        import storing rows) must not hold it there for SQLite's full busy timeout.
        """
        with self.engine.begin() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {BEAT_BUSY_TIMEOUT_MS}")
            try:
                connection.execute(
                    update(runners).where(runners.c.label == label).values(heartbeat_at=now)
                )
            finally:
                if sqlite:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")

    def stopped(self, label: str, now: datetime) -> None:
        """Record a clean exit."""
        with self.engine.begin() as connection:
            connection.execute(
                update(runners)
                .where(runners.c.label == label)
                .values(heartbeat_at=now, stopped_at=now)
            )

    def all(self) -> list[RunnerInfo]:
        """Every registered runner, the most recently alive first."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(runners).order_by(runners.c.heartbeat_at.desc()))
            return [
                RunnerInfo(
                    label=r.label,
                    host=r.host,
                    pid=r.pid,
                    process_start=r.process_start,
                    mode=r.mode,
                    version=r.version,
                    containment=r.containment,
                    started_at=r.started_at,
                    heartbeat_at=r.heartbeat_at,
                    stopped_at=r.stopped_at,
                )
                for r in rows
            ]
