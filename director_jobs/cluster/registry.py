"""This runner in the registry, and which runners are alive: what `jobs trigger` and
`director status` tell an administrator ("will anything run this?")."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError

from director_jobs import __version__
from director_jobs.clock import Clock
from director_jobs.db.runners_repo import RunnerInfo, RunnerRepository
from director_jobs.identity import RunnerIdentity, is_alive

log = logging.getLogger("director_jobs.registry")

# A runner writes its heartbeat this often (one short UPDATE), also while a job runs...
HEARTBEAT_SECONDS = 10.0
# ...and counts as gone after missing about three of them (a stalled database included).
STALE_AFTER = timedelta(seconds=35)


class Registration:
    """This process's row in the registry: registered, beating, stopped."""

    def __init__(
        self,
        repository: RunnerRepository,
        identity: RunnerIdentity,
        clock: Clock,
        *,
        mode: str,
        containment: str,
    ) -> None:
        self.repository = repository
        self.identity = identity
        self.clock = clock
        self.mode = mode
        self.containment = containment
        self._next_beat = 0.0

    def start(self) -> None:
        """Register (an outage propagates: nothing else would work either)."""
        now = self.clock.now()
        self.repository.register(
            RunnerInfo(
                label=self.identity.label,
                host=self.identity.host,
                pid=self.identity.pid,
                process_start=self.identity.process_start,
                mode=self.mode,
                version=__version__,
                containment=self.containment,
                started_at=now,
                heartbeat_at=now,
                stopped_at=None,
            )
        )
        self._next_beat = self.clock.monotonic() + HEARTBEAT_SECONDS

    def beat(self) -> None:
        """Write a heartbeat when one is due; a database that is away just misses it."""
        if self.clock.monotonic() < self._next_beat:
            return
        self._next_beat = self.clock.monotonic() + HEARTBEAT_SECONDS
        try:
            self.repository.beat(self.identity.label, self.clock.now())
        except DBAPIError as exc:
            log.debug("heartbeat not written: %s", exc.orig)

    def stop(self) -> None:
        """Say this runner has stopped (best effort: the heartbeat goes stale otherwise)."""
        try:
            self.repository.stopped(self.identity.label, self.clock.now())
        except DBAPIError as exc:
            log.debug("stop not recorded: %s", exc.orig)


def alive(runner: RunnerInfo, now: datetime) -> bool:
    """Running and beating; on this host also a live process (a kill -9 leaves a fresh beat)."""
    if runner.stopped_at is not None or now - runner.heartbeat_at > STALE_AFTER:
        return False
    return is_alive(runner.host, runner.pid, runner.process_start) is not False


def live_runners(repository: RunnerRepository, now: datetime) -> list[RunnerInfo]:
    """The runners alive now, forever ones first."""
    found = [r for r in repository.all() if alive(r, now)]
    return sorted(found, key=lambda r: (r.mode != "forever", r.label))
