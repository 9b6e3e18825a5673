"""The runner's side of notifications: note each event for the channels that want it.

A row per channel goes into the notifications table in the transaction that records the
run's end, so that the event is noted exactly when the result is (a crash loses neither or
both) and
the unique key keeps it from being noted twice (a run's start is noted in a
transaction of its own, just after the run is claimed). Sending is the delivery
process's job (director_jobs/notify/__main__.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from director_jobs.clock import Clock
from director_jobs.db.notifications_repo import NotificationRepository
from director_jobs.model import Job, RunEvent, RunStatus, Trigger
from director_jobs.notify.config import Channel, NotifyConfig, is_recovery

# An error is cut to this length in what is sent (a stack trace can be 64 KiB).
ERROR_CHARS = 2000


class Outbox:
    """Filters events and notes deliveries (the noting half of Notifications)."""

    def __init__(
        self,
        config: NotifyConfig,
        repository: NotificationRepository,
        clock: Clock,
        *,
        host: str,
        on_noted: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config
        self.repository = repository
        self.clock = clock
        self.host = host
        self.on_noted = on_noted  # wakes the sender once the run is committed
        self._noted = False

    def wants_start(self, job: Job) -> bool:
        """True when a channel covering `job` wants to hear of starts."""
        return any(
            "started" in channel.selection.events
            and channel.selection.covers(job.name, job.spec.tags)
            for channel in self.config.channels
        )

    def record(self, connection: Any, event: RunEvent) -> None:
        """Note `event` for every channel whose selection and filters it passes."""
        channels = [
            channel
            for channel in self.config.channels
            if event.event in channel.selection.events
            and channel.selection.covers(event.job_name, event.tags)
        ]
        if not channels:
            return
        # Whether this success is a recovery costs a query: asked only when a channel cares.
        previous_failed = None
        if (
            event.status is RunStatus.SUCCESS
            and event.trigger is not Trigger.RETRY
            and any("recovery" in channel.selection.on for channel in channels)
        ):
            previous_failed = self.repository.previous_failed(
                connection, event.job_name, event.run_id
            )
        wanted = [c for c in channels if c.selection.wants(event, previous_failed)]
        if not wanted:
            return
        now = self.clock.now()
        recovery: bool | None = is_recovery(event, previous_failed)
        if not recovery and previous_failed is None and event.status is RunStatus.SUCCESS:
            recovery = None if event.trigger is not Trigger.RETRY else False  # not asked
        payload = self.payload(event, recovery=recovery)
        self.repository.note(connection, [self._row(c, event, payload, now) for c in wanted])
        self._noted = True

    def settled(self) -> None:
        """The transaction of the last record() committed: the sender may send."""
        if self._noted:
            self._noted = False
            self.on_noted()

    def payload(self, event: RunEvent, *, recovery: bool | None) -> dict[str, Any]:
        """What a receiver gets: the run's facts (its error is scrubbed of secrets already).

        `recovery` is null for a success when no channel asks for recoveries (finding out
        costs a query).
        """
        base = self.config.link_base
        link = f"{base}/api/v1/runs/{event.run_id}" if base else None
        return {
            "event": event.event,
            "job": event.job_name,
            "job_type": event.job_type,
            "tags": list(event.tags),
            "run_id": event.run_id,
            "status": event.status.value,
            "trigger": event.trigger.value,
            "attempt": event.attempt,
            "final": event.final,
            "recovery": recovery,
            "started_at": iso(event.started_at),
            "finished_at": iso(event.finished_at),
            "duration": event.duration,
            "exit_code": event.exit_code,
            "error": event.error[:ERROR_CHARS] if event.error else None,
            "last_line": event.last_line[:500],
            "host": self.host,
            "url": link,
        }

    @staticmethod
    def _row(
        channel: Channel, event: RunEvent, payload: dict[str, Any], now: datetime
    ) -> dict[str, Any]:
        """The notifications row for one channel."""
        return {
            "channel": channel.name,
            "kind": channel.kind,
            "event": event.event,
            "run_id": event.run_id,
            "job_name": event.job_name,
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }


def iso(value: datetime | None) -> str | None:
    """UTC ISO-8601 (`2026-11-23T19:30:00Z`), as the API writes times."""
    return None if value is None else value.isoformat().replace("+00:00", "Z")
