"""All SQL about notifications: note events, claim due deliveries, record each attempt."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection, Engine

from director_jobs.db.schema import notifications, runs
from director_jobs.model import RunStatus

# Runs whose status says how the job ended (not running, waiting or a skipped-slot note).
_ENDED = tuple(
    s.value for s in RunStatus if s not in (RunStatus.RUNNING, RunStatus.PENDING, RunStatus.SKIPPED)
)
_FAILED = tuple(s.value for s in RunStatus if s.failed)


@dataclass(frozen=True)
class Delivery:
    """One event for one channel, and how its delivery went."""

    id: int
    channel: str
    kind: str
    event: str
    run_id: int
    job_name: str
    payload: dict[str, Any]
    status: str  # pending | sending | delivered | failed
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    response_code: int | None
    error: str | None


@dataclass(frozen=True)
class Finished:
    """How one attempt ended: delivered, failed, or pending again until `retry_at`."""

    id: int
    status: str
    at: datetime
    response_code: int | None
    error: str | None
    retry_at: datetime | None = None


_COLUMNS = (
    notifications.c.id,
    notifications.c.channel,
    notifications.c.kind,
    notifications.c.event,
    notifications.c.run_id,
    notifications.c.job_name,
    notifications.c.payload,
    notifications.c.status,
    notifications.c.attempts,
    notifications.c.next_attempt_at,
    notifications.c.created_at,
    notifications.c.sent_at,
    notifications.c.delivered_at,
    notifications.c.response_code,
    notifications.c.error,
)
_NOTE = insert(notifications)
# The run before `run_id` that ended, for "recovery" (first success after a failure).
_PREVIOUS_END = (
    select(runs.c.status)
    .where(
        runs.c.job_name == bindparam("job_name"),
        runs.c.id < bindparam("run_id"),
        runs.c.status.in_(_ENDED),
    )
    .order_by(runs.c.id.desc())
    .limit(1)
)


class NotificationRepository:
    """Reads and writes the `notifications` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @staticmethod
    def note(connection: Connection, rows: list[dict[str, Any]]) -> None:
        """Insert pending deliveries (in the caller's transaction, the run's own)."""
        connection.execute(_NOTE, rows)

    @staticmethod
    def previous_failed(connection: Connection, job_name: str, run_id: int) -> bool | None:
        """Whether the job's last ended run before `run_id` failed (None: there is none)."""
        status = connection.execute(
            _PREVIOUS_END, {"job_name": job_name, "run_id": run_id}
        ).scalar()
        return None if status is None else status in _FAILED

    def due(self, now: datetime, limit: int) -> list[Delivery]:
        """Pending deliveries whose time has come, oldest first (not claimed yet)."""
        query = (
            select(*_COLUMNS)
            .where(notifications.c.status == "pending", notifications.c.next_attempt_at <= now)
            .order_by(notifications.c.next_attempt_at, notifications.c.id)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [_delivery(row) for row in connection.execute(query)]

    def next_attempt(self) -> datetime | None:
        """When the earliest pending delivery is due (None: nothing is pending)."""
        query = select(notifications.c.next_attempt_at).where(notifications.c.status == "pending")
        query = query.order_by(notifications.c.next_attempt_at).limit(1)
        with self.engine.connect() as connection:
            value: datetime | None = connection.execute(query).scalar()
            return value

    def advance(
        self, done: Finished | None, next_id: int | None, runner: str, now: datetime
    ) -> bool:
        """Record the attempt just made and claim the next delivery, in one transaction.

        Claiming marks it `sending` by `runner` (False when another runner took it first).
        Once claimed it is never sent again unless its attempt records a failure worth
        retrying: a runner that dies while sending leaves it `sending` (at most once).
        """
        with self.engine.begin() as connection:
            if done is not None:
                values: dict[str, Any] = {
                    "status": done.status,
                    "response_code": done.response_code,
                    "error": done.error[:2000] if done.error else None,
                    "next_attempt_at": done.retry_at,
                }
                if done.status == "delivered":
                    values["delivered_at"] = done.at
                connection.execute(
                    update(notifications).where(notifications.c.id == done.id).values(**values)
                )
            if next_id is None:
                return False
            claimed = connection.execute(
                update(notifications)
                .where(notifications.c.id == next_id, notifications.c.status == "pending")
                .values(
                    status="sending",
                    claimed_by=runner,
                    sent_at=now,
                    attempts=notifications.c.attempts + 1,
                )
            )
            return claimed.rowcount == 1

    def give_up_interrupted(self, older_than: timedelta, now: datetime) -> int:
        """Mark deliveries left `sending` by a runner that stopped mid-way as failed."""
        with self.engine.begin() as connection:
            result = connection.execute(
                update(notifications)
                .where(
                    notifications.c.status == "sending",
                    notifications.c.sent_at < now - older_than,
                )
                .values(
                    status="failed",
                    error="interrupted while sending (the runner stopped); not sent again, "
                    "so that it arrives at most once",
                )
            )
            return int(result.rowcount)

    def for_runs(self, run_ids: Iterable[int]) -> list[Delivery]:
        """Deliveries about these runs, oldest first."""
        ids = list(run_ids)
        if not ids:
            return []
        query = select(*_COLUMNS).where(notifications.c.run_id.in_(ids))
        query = query.order_by(notifications.c.id)
        with self.engine.connect() as connection:
            return [_delivery(row) for row in connection.execute(query)]

    def for_job(self, job_name: str, limit: int) -> list[Delivery]:
        """The job's latest deliveries, newest first."""
        query = (
            select(*_COLUMNS)
            .where(notifications.c.job_name == job_name)
            .order_by(notifications.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [_delivery(row) for row in connection.execute(query)]


def _delivery(row: Any) -> Delivery:
    """A row of _COLUMNS as a Delivery."""
    return Delivery(*row)
