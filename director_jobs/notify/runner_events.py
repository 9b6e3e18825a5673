"""What a runner is given when the configuration names channels: an outbox and its sender."""

from __future__ import annotations

from typing import Any

from director_jobs.clock import Clock
from director_jobs.db.database import Database
from director_jobs.identity import RunnerIdentity
from director_jobs.model import Job, RunEvent
from director_jobs.notify.config import NotifyConfig
from director_jobs.notify.outbox import Outbox
from director_jobs.notify.worker import DeliveryWorker


class Notifications:
    """The runner's RunEvents: events are noted by the outbox and sent by the worker."""

    def __init__(
        self, config: NotifyConfig, database: Database, clock: Clock, identity: RunnerIdentity
    ) -> None:
        self.worker = DeliveryWorker(config, database.notifications, clock, identity.label)
        self.outbox = Outbox(
            config, database.notifications, clock, host=identity.host, on_noted=self.worker.wake
        )
        self.worker.start()  # also sends what earlier runs left pending

    def wants_start(self, job: Job) -> bool:
        """A channel covering `job` wants its starts."""
        return self.outbox.wants_start(job)

    def record(self, connection: Any, event: RunEvent) -> None:
        """Note the event in the run's transaction."""
        self.outbox.record(connection, event)

    def settled(self) -> None:
        """The run's transaction committed: wake the sender."""
        self.outbox.settled()

    def close(self) -> None:
        """Send what is due, then stop the sender."""
        self.worker.close()
