"""All SQL about notifications: note events, claim due deliveries, record each attempt."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Insert, Select, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from director_jobs.db.engine import connected
from director_jobs.db.schema import notifications, runs
from director_jobs.model import RunStatus

_FAILED = tuple(s.value for s in RunStatus if s.failed)
# Runs that say whether the job works: a success or a failure (not a stop, a skipped-slot
# note, or one still running or waiting).
_DECISIVE = (RunStatus.SUCCESS.value, *_FAILED)


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
# The job's decisive run before `run_id`, for "recovery" (first success after a failure).
_PREVIOUS_DECISIVE = (
    select(runs.c.status)
    .where(
        runs.c.job_name == bindparam("job_name"),
        runs.c.id < bindparam("run_id"),
        runs.c.status.in_(_DECISIVE),
    )
    .order_by(runs.c.id.desc())
    .limit(1)
)


@functools.lru_cache(maxsize=4)
def _insert_once(dialect: str) -> Insert:
    """INSERT that skips a row already noted (the same channel, event and run).

    A result stored again after an outage whose commit did go through notes its events
    again: that must neither fail the run nor note them twice.
    """
    if dialect == "sqlite":
        return sqlite_insert(notifications).on_conflict_do_nothing()
    if dialect == "postgresql":
        return postgresql_insert(notifications).on_conflict_do_nothing()
    return insert(notifications).prefix_with("IGNORE")  # MariaDB / MySQL


class NotificationRepository:
    """Reads and writes the `notifications` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def note(self, connection: Connection, rows: list[dict[str, Any]]) -> None:
        """Insert pending deliveries (in the caller's transaction, the run's own)."""
        connection.execute(_insert_once(self.engine.dialect.name), rows)

    @staticmethod
    def previous_failed(connection: Connection, job_name: str, run_id: int) -> bool | None:
        """Whether the job's last success or failure before `run_id` was a failure."""
        status = connection.execute(
            _PREVIOUS_DECISIVE, {"job_name": job_name, "run_id": run_id}
        ).scalar()
        return None if status is None else status in _FAILED

    def claim(self, channel: str, now: datetime, runner: str, limit: int) -> list[Delivery]:
        """Mark up to `limit` of the channel's due deliveries `sending` by `runner`.

        One transaction for the batch (each write transaction on SQLite can make the runner
        wait for the lock). `attempts` of the returned ones counts the attempt to come. A
        delivery another sender claimed first is not among them.
        """
        token = f"{runner[:200]}/{uuid.uuid4().hex[:16]}"  # this batch's mark
        with self.engine.begin() as connection:
            ids = list(
                connection.execute(
                    select(notifications.c.id)
                    .where(
                        notifications.c.channel == channel,
                        notifications.c.status == "pending",
                        notifications.c.next_attempt_at <= now,
                    )
                    .order_by(notifications.c.next_attempt_at, notifications.c.id)
                    .limit(limit)
                ).scalars()
            )
            if not ids:
                return []
            connection.execute(
                update(notifications)
                .where(
                    notifications.c.id.in_(ids),
                    notifications.c.status == "pending",
                    notifications.c.next_attempt_at <= now,
                )
                .values(
                    status="sending",
                    claimed_by=token,
                    sent_at=now,
                    attempts=notifications.c.attempts + 1,
                )
            )
            ours = select(*_COLUMNS).where(
                notifications.c.claimed_by == token, notifications.c.status == "sending"
            )
            return [_delivery(row) for row in connection.execute(ours.order_by(notifications.c.id))]

    def next_attempt(self, channel: str | None = None) -> datetime | None:
        """When the earliest pending delivery (of `channel`) is due; None: none is pending."""
        query = select(notifications.c.next_attempt_at).where(notifications.c.status == "pending")
        if channel is not None:
            query = query.where(notifications.c.channel == channel)
        query = query.order_by(notifications.c.next_attempt_at).limit(1)
        with self.engine.connect() as connection:
            value: datetime | None = connection.execute(query).scalar()
            return value

    def settle(self, done: list[Finished], unsent: list[Delivery]) -> None:
        """Record the attempts made, and give back claimed deliveries not sent (one
        transaction): those were never attempted, so another try cannot duplicate them."""
        if not done and not unsent:
            return
        with self.engine.begin() as connection:
            for outcome in done:
                values: dict[str, Any] = {
                    "status": outcome.status,
                    "response_code": outcome.response_code,
                    "error": outcome.error[:2000] if outcome.error else None,
                    "next_attempt_at": outcome.retry_at,
                }
                if outcome.status == "delivered":
                    values["delivered_at"] = outcome.at
                connection.execute(
                    update(notifications).where(notifications.c.id == outcome.id).values(**values)
                )
            for delivery in unsent:
                connection.execute(
                    update(notifications)
                    .where(notifications.c.id == delivery.id, notifications.c.status == "sending")
                    .values(status="pending", attempts=notifications.c.attempts - 1)
                )

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

    def for_job(
        self, job_name: str, limit: int, connection: Connection | None = None
    ) -> list[Delivery]:
        """The job's latest deliveries, newest first."""
        values = {"job_name": job_name, "limit": limit}
        with connected(self.engine, connection) as on:
            return [_delivery(row) for row in on.execute(_latest_of_job(), values)]


@functools.cache
def _latest_of_job() -> Select[Any]:
    """A job's latest deliveries, built once: `GET /jobs/{name}` asks on every request, and
    building the statement cost more than running it. Values: job_name, limit."""
    return (
        select(*_COLUMNS)
        .where(notifications.c.job_name == bindparam("job_name"))
        .order_by(notifications.c.id.desc())
        .limit(bindparam("limit"))
    )


def _delivery(row: Any) -> Delivery:
    """A row of _COLUMNS as a Delivery."""
    return Delivery(*row)
