"""What a runner is given when the configuration names channels: an outbox and its sender.

The outbox notes events in the runner's own transactions; the sender is a child process
(`python -m director_jobs.notify`), started when there is something to send: events this
runner noted, or deliveries that earlier runs left pending.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from typing import Any

from director_jobs.clock import Clock
from director_jobs.db.database import Database
from director_jobs.identity import RunnerIdentity
from director_jobs.model import Job, RunEvent
from director_jobs.notify.outbox import Outbox
from director_jobs.notify.worker import DRAIN_SECONDS
from director_jobs.settings import Settings

log = logging.getLogger("director_jobs.notify")

# How long close() waits beyond the sender's own drain before it stops it.
EXIT_GRACE_SECONDS = 5.0
# A daemon's sender drains for less: with --stop-timeout's 30 s, the unit's 45 s
# TimeoutStopSec must cover both.
DAEMON_DRAIN_SECONDS = 5.0


class Notifications:
    """The runner's RunEvents: events are noted by the outbox and sent by a child process."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        clock: Clock,
        identity: RunnerIdentity,
        *,
        drain_seconds: float = DRAIN_SECONDS,
    ) -> None:
        self.settings = settings
        self.identity = identity
        self.drain_seconds = drain_seconds
        assert settings.notify is not None  # attached only when channels are configured
        self.outbox = Outbox(
            settings.notify, database.notifications, clock, host=identity.host, on_noted=self.wake
        )
        self._sender: subprocess.Popen[bytes] | None = None
        if database.notifications.next_attempt() is not None:
            self._start_sender()  # earlier runs left deliveries: send them meanwhile

    def wants_start(self, job: Job) -> bool:
        """A channel covering `job` wants its starts."""
        return self.outbox.wants_start(job)

    def inherited(self) -> tuple[int, ...]:
        """The pipe to the sender: a forked job must close it, or its leftovers would keep
        the sender from ever seeing the end of input."""
        sender = self._sender
        if sender is None or sender.stdin is None:
            return ()
        return (sender.stdin.fileno(),)

    def record(self, connection: Any, event: RunEvent) -> None:
        """Note the event in the run's transaction."""
        self.outbox.record(connection, event)

    def settled(self) -> None:
        """The run's transaction committed: wake the sender."""
        self.outbox.settled()

    def wake(self) -> None:
        """Tell the sender (started now if need be) that deliveries wait."""
        sender = self._sender
        if sender is None or sender.poll() is not None:
            sender = self._start_sender()
        if sender is None or sender.stdin is None:
            return
        try:
            sender.stdin.write(b"w")
            sender.stdin.flush()
        except OSError as exc:  # it died: the next wake starts another
            log.warning("notifications: the sender is gone (%s); starting another", exc)
            self._sender = None

    def close(self) -> None:
        """Let the sender send what is due (bounded), then make sure it has exited."""
        sender, self._sender = self._sender, None
        if sender is None:
            return
        with contextlib.suppress(OSError):
            if sender.stdin is not None:
                sender.stdin.close()  # end of input: drain and exit
        try:
            sender.wait(timeout=self.drain_seconds + EXIT_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            log.warning("notifications: the sender did not stop; killing it")
            sender.kill()
            sender.wait(timeout=EXIT_GRACE_SECONDS)

    def _start_sender(self) -> subprocess.Popen[bytes] | None:
        """Start `python -m director_jobs.notify`; None (logged) when it cannot start."""
        env = {
            **os.environ,
            "DIRECTOR_JOBS_DATABASE_URL": self.settings.database_url,
            "DIRECTOR_JOBS_CONFIG": str(self.settings.config_file or ""),
        }
        level = logging.getLogger().getEffectiveLevel()
        try:
            self._sender = subprocess.Popen(
                [
                    sys.executable, "-m", "director_jobs.notify",
                    "--runner", self.identity.label,
                    "--parent", str(os.getpid()),
                    "--log-level", str(level),
                    "--drain", str(self.drain_seconds),
                ],
                stdin=subprocess.PIPE,
                env=env,
            )  # fmt: skip
        except OSError as exc:
            log.error("notifications: cannot start the sender: %s", exc)
            self._sender = None
        return self._sender
